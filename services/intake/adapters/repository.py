"""Persistence of intake: application streams (on the event-store port), idempotency keys and
registration numbers, each bound to one unit of work's connection."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.intake.domain.application import ApplicationState, fold, stream_id
from shared.contracts.application_progress import INTAKE_STORED_EVENTS
from shared.contracts.event import DomainEvent
from shared.db.counters import RegistrationCounters
from shared.db.identifiers import checked_identifier
from shared.eventstore import StoredEvent
from shared.service_layer.streams import DomainStreams
from shared.service_layer.streams import decode_stored as decode_with


def body_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    # surrogatepass: a malformed body may hold an unpaired surrogate; valid text hashes as UTF-8.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def decode_stored(event: StoredEvent) -> DomainEvent:
    return decode_with(INTAKE_STORED_EVENTS, event)


class ApplicationStreams(DomainStreams):
    """Application streams on the event-store port."""

    def stream_of(self, aggregate_id: str) -> str:
        return stream_id(aggregate_id)

    async def load(self, application_id: str) -> tuple[ApplicationState, list[StoredEvent]]:
        stored = await self.events.load(stream_id(application_id))
        return fold(decode_stored(e) for e in stored), stored


@dataclass(frozen=True)
class IdempotencyRecord:
    body_hash: str
    application_id: uuid.UUID
    outcome: str


class IdempotencyKeys:
    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        self.table = f"{checked_identifier(schema)}.idempotency_keys"
        self.conn = conn

    async def find(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = await self.conn.fetchrow(
            f"SELECT body_hash, application_id, outcome FROM {self.table}"
            " WHERE scope = $1 AND idempotency_key = $2",
            scope,
            key,
        )
        return (
            None
            if row is None
            else IdempotencyRecord(row["body_hash"], row["application_id"], row["outcome"])
        )

    async def claim(self, scope: str, key: str, digest: str, application_id: str, outcome: str) -> bool:
        """Record the key; False if another transaction recorded it first (waits for that one)."""
        inserted = await self.conn.fetchval(
            f"INSERT INTO {self.table} (scope, idempotency_key, body_hash, application_id, outcome)"
            " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
            scope,
            key,
            digest,
            uuid.UUID(application_id),
            outcome,
        )
        return bool(inserted)


@dataclass(frozen=True)
class KeyClaim:
    """An idempotency key to record for a submission, with what it answers a repeat with."""

    scope: str
    key: str
    digest: str
    application_id: str
    outcome: str


class RegistrationNumbers(RegistrationCounters):
    """Talon numbers per receiving office and year: <office>-<yyyy>-<nnnnnn>."""

    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        super().__init__(schema, conn)
        self.keys = f"{checked_identifier(schema)}.idempotency_keys"

    async def claim_with_number(self, claim: KeyClaim, office_id: str, year: int) -> str | None:
        """Record the key and take the office's next number, in one statement; None (and no
        number taken) if another transaction recorded the key first.

        The submission queues for its office's turn (a transaction-level advisory lock) before it
        writes anything: a transaction that has written holds a transaction id, and every gap-safe
        reader in the cluster waits below the oldest one still running. Queued on the counter's
        row after writing its key, each submission of a busy office held every outbox relay back
        for as long as it queued (issue 14). The lock is released at COMMIT with the row's.
        """
        number = await self.conn.fetchval(
            "WITH turn AS (SELECT pg_advisory_xact_lock("
            f"hashtextextended('{self.table}/' || $6 || '/' || $7::int::text, 0))),"
            f" claimed AS (INSERT INTO {self.keys}"
            " (scope, idempotency_key, body_hash, application_id, outcome)"
            " SELECT $1, $2, $3, $4, $5 FROM turn ON CONFLICT DO NOTHING RETURNING true)"
            f" INSERT INTO {self.table} AS c (office_id, year, last_number) SELECT $6, $7, 1 FROM claimed"
            " ON CONFLICT (office_id, year) DO UPDATE SET last_number = c.last_number + 1"
            " RETURNING last_number",
            claim.scope,
            claim.key,
            claim.digest,
            uuid.UUID(claim.application_id),
            claim.outcome,
            office_id,
            year,
        )
        return None if number is None else talon(office_id, year, number)


def talon(office_id: str, year: int, number: int) -> str:
    return f"{office_id}-{year:04d}-{number:06d}"
