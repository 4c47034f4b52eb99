"""Idempotent-consumer inbox: a handled event id is recorded with the handler's effects."""

from __future__ import annotations

import uuid

import asyncpg

from shared.db.identifiers import checked_identifier

_NAMESPACE = uuid.UUID("6f1c7f0e-8a51-4c84-9a55-0f7f3a0c2b11")


def inbox_id(ce_id: str, source: str) -> uuid.UUID:
    """The inbox key of a message: its id if it is a UUID, else a stable UUID of (source, id)."""
    try:
        return uuid.UUID(ce_id)
    except ValueError:
        return uuid.uuid5(_NAMESPACE, f"{source}\x00{ce_id}")


class Inbox:
    def __init__(self, schema: str, consumer: str) -> None:
        self.schema = checked_identifier(schema)
        self.consumer = consumer

    async def claim(self, conn: asyncpg.Connection, event_id: uuid.UUID) -> bool:
        """Record `event_id` as handled; False if it was handled before. Call inside the transaction."""
        inserted = await conn.fetchval(
            f"INSERT INTO {self.schema}.inbox (consumer, event_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            self.consumer,
            event_id,
        )
        return bool(inserted)

    async def claim_many(self, conn: asyncpg.Connection, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Record every id in one statement; the ids that were not handled before."""
        if not event_ids:
            return set()
        rows = await conn.fetch(
            f"INSERT INTO {self.schema}.inbox (consumer, event_id)"
            " SELECT $1, id FROM unnest($2::uuid[]) AS id ON CONFLICT DO NOTHING RETURNING event_id",
            self.consumer,
            event_ids,
        )
        return {row["event_id"] for row in rows}
