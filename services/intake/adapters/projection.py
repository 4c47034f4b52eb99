"""The application status projection: built by a projector tailing the event store.

Intake's event store holds the whole life the view shows: intake's own events and the case's
steps learnt from the decision service (`CaseProgressRecorded`), so a rebuild needs nothing else.

The projector reads events with the gap-safe reader (`EventStore.read_committed`) and keeps its
checkpoint in `projection_checkpoints`, in the same transaction as the rows it writes, so a
crash never skips or doubles an event. Several projectors (the worker and an API process) may
run: the checkpoint row lock serialises them. `rebuild_projection` replays the whole store.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Any

import asyncpg
import structlog

from services.intake.adapters.repository import decode_stored
from services.intake.domain.status import ApplicationStatus, StatusPoint, next_status
from services.intake.domain.status import ApplicationStatus as S
from shared.contracts.application_progress import CaseProgressRecorded, WithdrawalOverridden
from shared.contracts.applications import (
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    DocumentsSupplemented,
)
from shared.db.identifiers import checked_identifier
from shared.eventstore import EventStore, GlobalCursor, StoredEvent

log = structlog.get_logger(__name__)

PROJECTION = "intake.applications"


class ApplicationProjector:
    def __init__(self, pool: asyncpg.Pool, schema: str, batch_size: int = 500) -> None:
        self.pool = pool
        self.schema = checked_identifier(schema)
        self.store = EventStore(schema)
        self.batch_size = batch_size
        self.lag_events = 0
        self.failures = 0

    async def _checkpoint(self, conn: asyncpg.Connection) -> GlobalCursor:
        await conn.execute(
            f"INSERT INTO {self.schema}.projection_checkpoints (projection, txid, position)"
            " VALUES ($1, '0'::xid8, 0) ON CONFLICT DO NOTHING",
            PROJECTION,
        )
        row = await conn.fetchrow(
            f"SELECT txid::text::bigint AS txid, position FROM {self.schema}.projection_checkpoints"
            " WHERE projection = $1 FOR UPDATE",
            PROJECTION,
        )
        assert row is not None
        return GlobalCursor(row["txid"], row["position"])

    async def run_once(self) -> int:
        """Project one batch; return how many events were read (0 when caught up)."""
        async with self.pool.acquire() as conn, conn.transaction():
            return await self._batch(conn)

    async def _batch(self, conn: asyncpg.Connection) -> int:
        cursor = await self._checkpoint(conn)
        events = await self.store.read_committed(conn, cursor, self.batch_size)
        for event in events:
            await apply_event(conn, self.schema, event)
        if events:
            last = events[-1]
            await conn.execute(
                f"UPDATE {self.schema}.projection_checkpoints SET txid = $2::text::xid8, position = $3,"
                " updated_at = now() WHERE projection = $1",
                PROJECTION,
                str(last.txid),
                last.position,
            )
        return len(events)

    async def lag(self) -> int:
        """Events stored after the checkpoint (not yet projected)."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT txid::text AS txid, position FROM {self.schema}.projection_checkpoints"
                " WHERE projection = $1",
                PROJECTION,
            )
            txid, position = ("0", 0) if row is None else (row["txid"], row["position"])
            lag: int = await conn.fetchval(
                f"SELECT count(*) FROM {self.schema}.events WHERE (txid, position) > ($1::text::xid8, $2)",
                txid,
                position,
            )
        self.lag_events = lag
        return lag

    async def run(self, stop: asyncio.Event, idle_sleep: float = 0.05, max_backoff: float = 30.0) -> None:
        """Project until `stop` is set. No error ends the loop: a transient one is retried at once,
        any other (a bug, an event the projection cannot apply) with growing back-off, logged and
        counted in `failures` so the lag metric and the logs show a stuck projection."""
        backoff = 1.0
        while not stop.is_set():
            try:
                read = await self.run_once()
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
                log.warning("projector: database unavailable, retrying", error=type(exc).__name__)
                read, idle = 0, 1.0
            except Exception as exc:
                self.failures += 1
                log.error("projector: batch failed, retrying", error=type(exc).__name__, backoff_s=backoff)
                read, idle = 0, backoff
                backoff = min(backoff * 2, max_backoff)
            else:
                idle, backoff = idle_sleep, 1.0
            if read == 0:
                try:
                    await asyncio.wait_for(stop.wait(), idle)
                except TimeoutError:
                    pass


async def apply_event(conn: asyncpg.Connection, schema: str, stored: StoredEvent) -> None:
    """Apply one stored event to the projection rows (idempotent: replays change nothing)."""
    event = decode_stored(stored)
    history: tuple[str, datetime, str | None] = (
        stored.event_type,
        stored.recorded_at,
        stored.metadata.get("actor"),
    )
    if isinstance(event, ApplicationSubmitted | ApplicationRejectedAtIntake):
        await _insert(conn, schema, stored, event)
    elif isinstance(event, DocumentsSupplemented):
        await conn.execute(
            f"UPDATE {schema}.applications SET documents = documents || $2::jsonb, updated_at = $3,"
            " last_version = $4 WHERE application_id = $1 AND last_version < $4",
            event.application_id,
            [d.document_id for d in event.documents],
            stored.recorded_at,
            stored.version,
        )
    elif isinstance(event, ApplicationWithdrawn):
        await _set_status(conn, schema, stored, event.application_id, StatusPoint(S.WITHDRAWN))
    elif isinstance(event, CaseProgressRecorded):
        await _progress(conn, schema, stored, event)
        history = (event.source_event_type, event.occurred_at, event.recorded_by)
    elif isinstance(event, WithdrawalOverridden):
        point = StatusPoint(S.DECIDED, event.decided_at)
        await _set_status(conn, schema, stored, event.application_id, point)
    else:  # pragma: no cover - every intake event is handled above
        return
    event_type, at, actor = history
    await conn.execute(
        f"INSERT INTO {schema}.application_history"
        " (application_id, version, event_type, recorded_at, actor, status)"
        f" SELECT $1, $2, $3, $4, $5, status FROM {schema}.applications WHERE application_id = $1"
        " ON CONFLICT DO NOTHING",
        uuid.UUID(event.application_id),
        stored.version,
        event_type,
        at,
        actor,
    )


async def _insert(
    conn: asyncpg.Connection,
    schema: str,
    stored: StoredEvent,
    event: ApplicationSubmitted | ApplicationRejectedAtIntake,
) -> None:
    submitted = isinstance(event, ApplicationSubmitted)
    await conn.execute(
        f"INSERT INTO {schema}.applications (application_id, registration_number, status, service_id,"
        " subtype, edition_id, channel, office_id, region, received_by, submitted_at, due_at, documents,"
        " problems, applicant_iin, correlation_id, updated_at, last_version, is_open)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        " ON CONFLICT (application_id) DO NOTHING",
        event.application_id,
        event.registration_number if isinstance(event, ApplicationSubmitted) else None,
        S.SUBMITTED if submitted else S.REJECTED,
        event.service_id,
        event.subtype if isinstance(event, ApplicationSubmitted) else None,
        event.edition_id,
        event.channel,
        event.office_id,
        event.region,
        event.received_by,
        event.received_at if isinstance(event, ApplicationSubmitted) else event.rejected_at,
        event.due_at if isinstance(event, ApplicationSubmitted) else None,
        [d.document_id for d in event.documents] if isinstance(event, ApplicationSubmitted) else [],
        []
        if isinstance(event, ApplicationSubmitted)
        else [p.model_dump(mode="json") for p in event.problems],
        event.applicant.iin if isinstance(event, ApplicationSubmitted) else event.applicant_iin,
        stored.metadata.get("correlation_id"),
        stored.recorded_at,
        stored.version,
        submitted,
    )


async def _set_status(
    conn: asyncpg.Connection, schema: str, stored: StoredEvent, application_id: str, point: StatusPoint
) -> None:
    await conn.execute(
        f"UPDATE {schema}.applications SET status = $2, status_at = $3, is_open = $4, updated_at = $5,"
        " last_version = $6 WHERE application_id = $1 AND last_version < $6",
        uuid.UUID(application_id),
        point.status,
        point.at,
        point.is_open,
        stored.recorded_at,
        stored.version,
    )


async def _progress(
    conn: asyncpg.Connection, schema: str, stored: StoredEvent, event: CaseProgressRecorded
) -> None:
    """A case step: the status moves as `domain/status.py` says; the step's facts (executor,
    inspection date, decision, new due date) are kept whether or not it moved the status."""
    row = await conn.fetchrow(
        f"SELECT status, status_at, last_version FROM {schema}.applications WHERE application_id = $1",
        uuid.UUID(event.application_id),
    )
    if row is None or row["last_version"] >= stored.version:
        return  # not projected (never submitted here), or applied already
    current = StatusPoint(ApplicationStatus(row["status"]), row["status_at"])
    await _set_status(
        conn, schema, stored, event.application_id, next_status(current, event.step, event.occurred_at)
    )
    facts = _facts_of(event)
    entry = _keyed_entry_of(event)
    if entry is not None:
        column, key, value = entry
        await conn.execute(
            f"UPDATE {schema}.applications SET {column} = {column}"
            f" || jsonb_build_object($2::text, coalesce({column} -> $2::text, '{{}}'::jsonb) || $3::jsonb)"
            " WHERE application_id = $1",
            uuid.UUID(event.application_id),
            key,
            value,
        )
    if facts:
        columns = ", ".join(f"{name} = ${i}" for i, name in enumerate(facts, start=2))
        await conn.execute(
            f"UPDATE {schema}.applications SET {columns} WHERE application_id = $1",
            uuid.UUID(event.application_id),
            *facts.values(),
        )


def _facts_of(event: CaseProgressRecorded) -> dict[str, Any]:
    """Columns a step sets besides the status (names are constants of this module)."""
    step = event.step
    if step == "executor_assigned":
        return {"executor": event.executor}
    if step == "inspection_scheduled":
        return {"inspection_date": event.inspection_date}
    if step == "decision_made":
        grounds = [g.model_dump(mode="json") for g in event.grounds]
        return {
            "decision_outcome": event.outcome,
            "decided_at": event.decided_at,
            "decision_grounds": grounds,
            "decision_event_id": event.source_event_id,
        }
    if step == "term_extended":
        return {"due_at": event.due_at}
    if step == "reopened":  # the decision is set aside (the history keeps it); a new term runs
        return {
            "due_at": event.due_at,
            "decision_outcome": None,
            "decided_at": None,
            "decision_grounds": [],
            "decision_event_id": None,
        }
    if step in ("result_collected", "result_uncollected"):
        return {"result_collection": step.removeprefix("result_"), "result_collection_at": event.occurred_at}
    return {}


def _keyed_entry_of(event: CaseProgressRecorded) -> tuple[str, str, dict[str, Any]] | None:
    """(jsonb column, key, fields merged into its entry) for steps about one complaint or one
    notification of the application; None for the other steps."""
    at = event.occurred_at.isoformat()
    step = event.step
    if step == "complaint_registered" and event.complaint_id:
        entry: dict[str, Any] = {"registered_at": at, "review_due_on": _iso(event.review_due_on)}
        return "complaints", event.complaint_id, entry
    if step == "complaint_review_extended" and event.complaint_id:
        return (
            "complaints",
            event.complaint_id,
            {"review_due_on": _iso(event.review_due_on), "extended": True},
        )
    if step == "complaint_resolved" and event.complaint_id:
        return "complaints", event.complaint_id, {"outcome": event.complaint_outcome, "resolved_at": at}
    if step == "complaint_escalated" and event.complaint_id:
        return "complaints", event.complaint_id, {"escalated_to": event.escalated_to, "escalated_at": at}
    if step == "notification_state_changed" and event.notification_id:
        entry = {
            "kind": event.notification_kind,
            "channel": event.notification_channel,
            "state": event.delivery_state,
            "at": at,
            "trigger_event_id": event.trigger_event_id,
        }
        return "notifications", event.notification_id, entry
    return None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


async def rebuild_projection(pool: asyncpg.Pool, schema: str = "intake", batch_size: int = 1000) -> int:
    """Drop the projection rows and replay every stored event; return how many were replayed.

    Runs in one transaction: readers see the old rows until the new ones commit, and a running
    projector waits on the checkpoint lock, then carries on from the rebuilt checkpoint.
    """
    schema = checked_identifier(schema)
    projector = ApplicationProjector(pool, schema, batch_size)
    total = 0
    async with pool.acquire() as conn, conn.transaction():
        await projector._checkpoint(conn)
        await conn.execute(f"DELETE FROM {schema}.application_history")
        await conn.execute(f"DELETE FROM {schema}.applications")
        await conn.execute(
            f"UPDATE {schema}.projection_checkpoints SET txid = '0'::xid8, position = 0, updated_at = now()"
            " WHERE projection = $1",
            PROJECTION,
        )
        while True:
            read = await projector._batch(conn)
            total += read
            if read == 0:
                break
    return total
