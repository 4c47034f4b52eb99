"""Event-store persistence of application streams, idempotency keys and registration numbers."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.intake.domain.application import ApplicationState, fold, stream_id
from shared.contracts.applications import APPLICATION_EVENTS
from shared.contracts.event import DomainEvent
from shared.db.identifiers import checked_identifier
from shared.eventstore import EventStore, NewEvent, StoredEvent


def body_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def new_event(event: DomainEvent, metadata: dict[str, Any]) -> NewEvent:
    return NewEvent(
        event_type=event.event_name,
        schema_version=event.event_version,
        data=event.model_dump(mode="json"),
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


def decode_stored(event: StoredEvent) -> DomainEvent:
    return APPLICATION_EVENTS.decode(f"kz.qyzmet.{event.event_type}.v{event.schema_version}", event.data)


@dataclass(frozen=True)
class IdempotencyRecord:
    body_hash: str
    application_id: uuid.UUID
    outcome: str


class ApplicationRepository:
    def __init__(self, schema: str) -> None:
        self.schema = checked_identifier(schema)
        self.store = EventStore(schema)

    async def load(
        self, conn: asyncpg.Connection, application_id: str
    ) -> tuple[ApplicationState, list[DomainEvent]]:
        stored = await self.store.load(conn, stream_id(application_id))
        events = [decode_stored(e) for e in stored]
        return fold(events), events

    async def append(
        self,
        conn: asyncpg.Connection,
        application_id: str,
        events: Sequence[DomainEvent],
        expected_version: int,
        metadata: dict[str, Any],
    ) -> None:
        await self.store.append(
            conn, stream_id(application_id), [new_event(e, metadata) for e in events], expected_version
        )

    async def find_key(self, conn: asyncpg.Connection, scope: str, key: str) -> IdempotencyRecord | None:
        row = await conn.fetchrow(
            f"SELECT body_hash, application_id, outcome FROM {self.schema}.idempotency_keys"
            " WHERE scope = $1 AND idempotency_key = $2",
            scope,
            key,
        )
        return (
            None
            if row is None
            else IdempotencyRecord(row["body_hash"], row["application_id"], row["outcome"])
        )

    async def claim_key(
        self, conn: asyncpg.Connection, scope: str, key: str, digest: str, application_id: str, outcome: str
    ) -> bool:
        """Record the key; False if another transaction recorded it first (waits for that one)."""
        inserted = await conn.fetchval(
            f"INSERT INTO {self.schema}.idempotency_keys"
            " (scope, idempotency_key, body_hash, application_id, outcome) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT DO NOTHING RETURNING true",
            scope,
            key,
            digest,
            uuid.UUID(application_id),
            outcome,
        )
        return bool(inserted)

    async def next_registration_number(self, conn: asyncpg.Connection, office_id: str, year: int) -> str:
        number: int = await conn.fetchval(
            f"INSERT INTO {self.schema}.registration_counters (office_id, year, last_number)"
            " VALUES ($1, $2, 1) ON CONFLICT (office_id, year)"
            " DO UPDATE SET last_number = registration_counters.last_number + 1 RETURNING last_number",
            office_id,
            year,
        )
        return f"{office_id}-{year:04d}-{number:06d}"
