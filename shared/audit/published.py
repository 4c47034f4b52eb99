"""What the audit relays published on `audit.v1`, streamed from offset 0 to the end and folded as
it is read: the anchors the compliance side keeps, and per chain each published record's seq and
MAC (evidence between anchors), never the records themselves."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition

from shared.audit.anchors import ANCHOR_KIND, RECORD_KIND, Anchor
from shared.audit.chain_macs import ChainMacs
from shared.audit.relay import KIND_HEADER


@dataclass
class Published:
    anchors: dict[Anchor, None] = field(default_factory=dict)
    """Each distinct anchor, in the order first read."""
    records: dict[tuple[str, str], ChainMacs] = field(default_factory=dict)
    """(schema, chain) -> the MACs published of its records."""

    def of_schema(self, schema: str) -> dict[str, ChainMacs]:
        return {chain: macs for (owner, chain), macs in self.records.items() if owner == schema}

    @property
    def record_count(self) -> int:
        return sum(macs.count for macs in self.records.values())

    def add(self, kind: bytes | None, value: bytes) -> None:
        if kind == ANCHOR_KIND.encode():
            self.anchors.setdefault(Anchor.from_json(json.loads(value)))
        elif kind == RECORD_KIND.encode():
            data = json.loads(value)
            macs = self.records.setdefault((str(data["schema"]), str(data["chain"])), ChainMacs())
            macs.add(int(data["seq"]), str(data["hash"]))


def published_audit(bootstrap: str, topic: str, *, timeout_s: float = 60.0) -> Published:
    """Every anchor and record MAC on `topic` (none if the topic does not exist yet). The read may
    take as long as the topic needs; it fails (TimeoutError) only when no record arrives for
    `timeout_s` while the topic's end is not reached."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="qyzmet-audit-anchors"
    )
    out = Published()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return out
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = {tp: end for tp, end in consumer.end_offsets(assigned).items() if end > 0}
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic}: nothing arrived for {timeout_s} s before its end")
            for records in consumer.poll(timeout_ms=500, max_records=5000).values():
                deadline = time.monotonic() + timeout_s
                for record in records:
                    out.add(dict(record.headers or []).get(KIND_HEADER), record.value)
        return out
    finally:
        consumer.close()


def published_anchors(bootstrap: str, topic: str, *, timeout_s: float = 30.0) -> list[Anchor]:
    """Every anchor on `topic` (empty if the topic does not exist yet)."""
    return list(published_audit(bootstrap, topic, timeout_s=timeout_s).anchors)
