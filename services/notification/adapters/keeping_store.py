"""Results waiting to be collected (`result_keeping`): started by a decision, closed by a
collection, by the keeping period running out, or by a withdrawal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.notification.domain.keeping import Keeping
from shared.db.identifiers import checked_identifier


@dataclass(frozen=True)
class Waiting:
    application_id: str
    service_id: str
    office_id: str
    region: str
    ready_since: datetime
    keeping: Keeping
    trigger_event_id: str


class KeepingStore:
    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        self.s = checked_identifier(schema)
        self.conn = conn

    async def start(self, w: Waiting) -> bool:
        done = await self.conn.fetchval(
            f"INSERT INTO {self.s}.result_keeping (application_id, service_id, office_id, region,"
            " ready_since, kept_until, expires_at, keeping_basis, storage_step, state, trigger_event_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'waiting', $10)"
            " ON CONFLICT (application_id) DO NOTHING RETURNING true",
            w.application_id, w.service_id, w.office_id, w.region, w.ready_since, w.keeping.kept_until,
            w.keeping.expires_at, w.keeping.basis, w.keeping.storage_step, w.trigger_event_id,
        )  # fmt: skip
        return bool(done)

    async def get(self, application_id: str, *, lock: bool = False) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(
            f"SELECT * FROM {self.s}.result_keeping WHERE application_id = $1"
            + (" FOR UPDATE" if lock else ""),
            application_id,
        )
        return None if row is None else dict(row)

    async def close(self, application_id: str, state: str, at: datetime) -> bool:
        done = await self.conn.fetchval(
            f"UPDATE {self.s}.result_keeping SET state = $2, closed_at = $3, leased_until = NULL"
            " WHERE application_id = $1 AND state = 'waiting' RETURNING true",
            application_id, state, at,
        )  # fmt: skip
        return bool(done)

    async def lease_expired(self, now: datetime, lease: str, lease_until: datetime, limit: int) -> list[str]:
        rows = await self.conn.fetch(
            f"UPDATE {self.s}.result_keeping SET leased_until = $2, leased_by = $3"
            f" WHERE application_id IN (SELECT application_id FROM {self.s}.result_keeping"
            "  WHERE state = 'waiting' AND expires_at <= $1 AND (leased_until IS NULL OR leased_until < $1)"
            "  ORDER BY expires_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING application_id",
            now, lease_until, lease, limit,
        )  # fmt: skip
        return [r["application_id"] for r in rows]
