"""The count at the end, by application id: what the offices got (talons, outcomes), what each
service stored, what each topic holds (read afresh from the beginning), and the dead letters."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.messaging.topics import DOMAIN_TOPICS, dlq_of
from tests.faults.load import SUBMITTED, Ledger

DECISION_MADE = "kz.qyzmet.decision.made.v1"


@dataclass
class Row:
    what: str
    per_app: Counter[str]
    kind: str = "db"  # "db": a second copy is a duplicate effect; "topic": reported only

    @property
    def distinct(self) -> int:
        return len(self.per_app)

    @property
    def total(self) -> int:
        return sum(self.per_app.values())

    @property
    def duplicated(self) -> int:
        return sum(1 for n in self.per_app.values() if n > 1)


@dataclass
class Tally:
    expected: set[str]
    rows: list[Row]
    dlq: dict[str, int]
    problems: list[str] = field(default_factory=list)

    def table(self) -> str:
        lines = [f"{'count (by application id)':50} {'distinct':>8} {'total':>7} {'lost':>5} {'dup ids':>7}"]
        for row in self.rows:
            lost = len(self.expected - set(row.per_app))
            lines.append(f"{row.what:50} {row.distinct:8} {row.total:7} {lost:5} {row.duplicated:7}")
        dead = ", ".join(f"{t}={n}" for t, n in self.dlq.items() if n) or "all empty"
        lines.append(f"dead-letter topics: {dead}")
        return "\n".join(lines)


async def read_topic(bootstrap: str, topic: str) -> list[tuple[dict[str, bytes], bytes | None]]:
    """Every record of `topic`, from the beginning to the end offsets read first."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer.force_metadata_update()
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[tuple[dict[str, bytes], bytes | None]] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for batch in batches.values():
                records.extend((dict(r.headers), r.value) for r in batch)
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return records
    finally:
        await consumer.stop()


async def _grouped(conn: asyncpg.Connection, sql: str) -> Counter[str]:
    return Counter({row[0]: row[1] for row in await conn.fetch(sql) if row[0] is not None})


async def count(database_url: str, bootstrap: str, prefix: str, ledger: Ledger) -> Tally:
    talons = Counter(ledger.talons.values()) + Counter(ledger.kafka_outcomes.values())
    conn = await asyncpg.connect(database_url)
    try:
        stored = await _grouped(
            conn,
            "SELECT data->>'application_id', count(*) FROM intake.events"
            " WHERE event_type = 'application.submitted' GROUP BY 1",
        )
        by_key = await conn.fetch(
            "SELECT data->>'idempotency_key' AS key, count(*) AS n FROM intake.events"
            " WHERE event_type = 'application.submitted' GROUP BY 1"
        )
        cases = await _grouped(conn, "SELECT application_id, count(*) FROM decision.cases GROUP BY 1")
        opened = await _grouped(
            conn,
            "SELECT data->>'application_id', count(*) FROM decision.events"
            " WHERE event_type = 'decision.case_opened' GROUP BY 1",
        )
        made = await _grouped(
            conn,
            "SELECT data->>'application_id', count(*) FROM decision.events"
            " WHERE event_type = 'decision.made' GROUP BY 1",
        )
        notices = await _grouped(
            conn,
            "SELECT application_id, max(n) FROM (SELECT application_id, channel, count(*) AS n"
            " FROM notification.notifications WHERE kind = 'decision_made' GROUP BY 1, 2) c GROUP BY 1",
        )
    finally:
        await conn.close()
    on_applications = Counter(
        json.loads(value)["application_id"]
        for headers, value in await read_topic(bootstrap, prefix + "applications.v1")
        if value is not None and headers.get("ce_type") == SUBMITTED.encode()
    )
    on_decisions = Counter(
        json.loads(value)["application_id"]
        for headers, value in await read_topic(bootstrap, prefix + "decisions.v1")
        if value is not None and headers.get("ce_type") == DECISION_MADE.encode()
    )
    dlq = {dlq_of(t): len(await read_topic(bootstrap, prefix + dlq_of(t))) for t in DOMAIN_TOPICS}
    rows = [
        Row("talons (HTTP 200/201) + Kafka outcomes seen", talons, "offices"),
        Row("ApplicationSubmitted in intake's store", stored),
        Row("ApplicationSubmitted records on applications.v1", on_applications, "topic"),
        Row("cases in the decision store", cases),
        Row("CaseOpened in the decision store", opened),
        Row("DecisionMade in the decision store", made),
        Row("DecisionMade records on decisions.v1", on_decisions, "topic"),
        Row("decision notices (most rows of one channel)", notices),
    ]
    expected = set(talons) | set(stored)
    tally = Tally(expected, rows, dlq)
    sent = len(ledger.http_keys) + len(ledger.kafka_commands)
    keys = ledger.http_keys | set(ledger.kafka_commands)
    keys_stored = sum(1 for row in by_key if row["key"] in keys)
    if keys_stored != sent:
        tally.problems.append(f"{sent} applications sent, {keys_stored} idempotency keys stored")
    if any(row["n"] > 1 for row in by_key):
        tally.problems.append("an idempotency key has more than one ApplicationSubmitted")
    for row in rows:
        lost = expected - set(row.per_app)
        if lost:
            tally.problems.append(f"{row.what}: {len(lost)} lost, e.g. {sorted(lost)[:3]}")
        if row.kind == "db" and row.duplicated:
            tally.problems.append(f"{row.what}: {row.duplicated} applications with a duplicate effect")
        extra = set(row.per_app) - expected
        if extra:
            tally.problems.append(f"{row.what}: {len(extra)} unknown application ids")
    for topic, n in dlq.items():
        if n:
            tally.problems.append(f"{topic} holds {n} dead letters (every message sent was good)")
    return tally
