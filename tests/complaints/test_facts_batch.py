"""The facts consumer takes a batch's submissions and decisions of different applications in one
statement (`FactsBatch`); the read model comes out as if every event were applied one by one, in
order: an office's region is its last event's and it is a ЦОН once seen as one, an older decision
delivered late changes nothing, an application's second event in the batch follows its first."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import asyncpg

from services.complaints.entrypoints.kafka import facts_consumer
from shared.contracts.event import DomainEvent
from shared.messaging.consumer import Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.raw import RawRecord
from tests.roles import provisioned_schema

from .conftest import REGISTERED_AT, TSON, decided, seed, submitted


def record(event: DomainEvent, offset: int) -> RawRecord:
    data = event.model_dump(mode="json")
    envelope = Envelope(str(uuid.uuid4()), "/qyzmet/test", event.ce_type(), data)
    return RawRecord("decisions.v1", 0, offset, None, envelope.body(), envelope.to_headers())


async def read_model(pool: asyncpg.Pool, schema: str) -> dict[str, list[dict[str, object]]]:
    tables = {
        "known_applications": "application_id",
        "known_decisions": "application_id, decided_at",
        "known_offices": "office_id",
    }
    async with pool.acquire() as conn:
        return {
            table: [
                {k: v for k, v in dict(row).items() if k != "updated_at"}
                for row in await conn.fetch(f"SELECT * FROM {schema}.{table} ORDER BY {order}")
            ]
            for table, order in tables.items()
        }


async def test_a_batch_writes_the_read_model_as_one_by_one(
    pool: asyncpg.Pool, admin_pool: asyncpg.Pool, complaints_schema: str
) -> None:
    first, second, third = submitted(), submitted(), submitted(office_id=TSON, channel="tson")
    late = decided(third, REGISTERED_AT - timedelta(days=9))
    events: list[DomainEvent] = [
        first,
        decided(second, REGISTERED_AT - timedelta(days=3), "approved"),  # overtook its submission
        third,
        decided(third, REGISTERED_AT - timedelta(days=5)),
        second,
        late,  # older than the decision in force: changes nothing but is counted as made
        decided(first, REGISTERED_AT - timedelta(days=4)),
        submitted(office_id=TSON),  # a ЦОН's office seen through another channel: still a ЦОН
        decided(submitted(), REGISTERED_AT - timedelta(days=1)),
    ]
    consumer = facts_consumer(pool, complaints_schema, None)  # type: ignore[arg-type]
    assert consumer.batch is not None
    written: list[int] = []
    write = consumer.batch.write

    async def counted(conn: asyncpg.Connection, plans: Sequence[Any]) -> None:
        written.append(len(plans))
        await write(conn, plans)

    consumer.batch.write = counted  # type: ignore[method-assign]
    outcomes = await consumer.process_batch([record(e, i) for i, e in enumerate(events)])
    assert outcomes == [Outcome.HANDLED] * len(events)
    assert written == [2]  # the first three applications' events go one by one after the last two
    async with provisioned_schema(admin_pool, "complaints", "tc") as one_by_one:
        for event in events:
            await seed(pool, one_by_one, event)
        assert await read_model(pool, complaints_schema) == await read_model(pool, one_by_one)
    model = await read_model(pool, complaints_schema)
    assert len(model["known_applications"]) == 5 and len(model["known_decisions"]) == 5
    assert {o["office_id"]: o["tson"] for o in model["known_offices"]} == {first.office_id: False, TSON: True}
