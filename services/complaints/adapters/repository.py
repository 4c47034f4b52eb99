"""Persistence of complaints: complaint streams (on the event-store port), idempotency keys and
registration numbers, each bound to one unit of work's connection."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.complaints.domain.complaint import ComplaintState, fold, stream_id
from shared.contracts.event import DomainEvent
from shared.contracts.topics import STORED_EVENTS
from shared.db.counters import RegistrationCounters
from shared.db.identifiers import checked_identifier
from shared.eventstore import StoredEvent
from shared.service_layer.streams import DomainStreams
from shared.service_layer.streams import decode_stored as decode_with

REGISTRY = STORED_EVENTS["complaints"]


def body_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def decode_stored(event: StoredEvent) -> DomainEvent:
    return decode_with(REGISTRY, event)


class ComplaintStreams(DomainStreams):
    def stream_of(self, aggregate_id: str) -> str:
        return stream_id(aggregate_id)

    async def load(self, complaint_id: str) -> tuple[ComplaintState, list[DomainEvent]]:
        stored = await self.events.load(stream_id(complaint_id))
        decoded = [decode_stored(e) for e in stored]
        return fold(decoded), decoded


@dataclass(frozen=True)
class KeyRecord:
    body_hash: str
    complaint_id: str


class IdempotencyKeys:
    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        self.table = f"{checked_identifier(schema)}.idempotency_keys"
        self.conn = conn

    async def find(self, scope: str, key: str) -> KeyRecord | None:
        row = await self.conn.fetchrow(
            f"SELECT body_hash, complaint_id FROM {self.table} WHERE scope = $1 AND idempotency_key = $2",
            scope,
            key,
        )
        return None if row is None else KeyRecord(row["body_hash"], row["complaint_id"])

    async def claim(self, scope: str, key: str, digest: str, complaint_id: str) -> bool:
        """Record the key; False if another transaction recorded it first (waits for that one)."""
        inserted = await self.conn.fetchval(
            f"INSERT INTO {self.table} (scope, idempotency_key, body_hash, complaint_id)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
            scope,
            key,
            digest,
            complaint_id,
        )
        return bool(inserted)


class RegistrationNumbers(RegistrationCounters):
    """Gap-free complaint numbers per registering office and year: <office>-<yyyy>-C<nnnnnn>."""

    async def next(self, office_id: str, year: int) -> str:
        number = await self.take(office_id, year)
        return f"{office_id}-{year:04d}-C{number:06d}"
