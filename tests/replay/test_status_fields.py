"""The bulk replay folds what PostgreSQL picks out of each event (`status_read`): only the keys of
its data that `status_rows.fold` reads. Every event type intake stores and every case step, each
with every fact set, folds to the same rows and history from those columns as from the stored
events the live projector reads; and the fold reads no key the read does not hand over."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar, get_args

import asyncpg

from services.intake.adapters import status_rows
from services.intake.adapters.status_read import (
    JSON_FIELDS,
    TEXT_FIELDS,
    applications_of,
    fold_columns,
    fold_page,
)
from services.intake.adapters.status_rows import HistoryEntry, Row
from shared.contracts.application_progress import (
    CaseProgressRecorded,
    CaseStep,
    GroundRef,
    WithdrawalOverridden,
)
from shared.contracts.applications import (
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    DocumentsSupplemented,
    IntakeProblem,
    ReceivedDocument,
)
from shared.contracts.event import DomainEvent
from shared.eventstore import EventStore, GlobalCursor, NewEvent, StoredEvent
from shared.replay.reading import read_committed_rows
from tests.intake.conftest import wait_for

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
DOCUMENT = ReceivedDocument(document_id="identity_card", name_kk="a", name_en="b", form="original")


def _submitted(app: str) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id=app, registration_number="karaganda-dept-01-2025-000001", service_id="svc",
        subtype="sub", edition_id="svc@2023", edition_basis="test", channel="department",
        office_id="karaganda-dept-01", region="karaganda", received_by="clerk-1", received_at=AT,
        due_at=AT + timedelta(days=10), idempotency_key=str(uuid.uuid4()),
        applicant={"iin": "850412300017", "full_name": "Test Applicant", "contacts": {"phone": "+7 701"}},
        documents=[DOCUMENT],
    )  # fmt: skip


def _step(app: str, step: CaseStep, minute: int) -> CaseProgressRecorded:
    """`step` with every fact a step can carry set (the fold picks those its step uses)."""
    return CaseProgressRecorded(
        application_id=app, step=step, source_event_id=str(uuid.uuid4()), source_event_type=f"case.{step}",
        occurred_at=AT + timedelta(hours=1, minutes=minute), recorded_by="officer-1", outcome="approved",
        decided_at=AT + timedelta(hours=2), grounds=(GroundRef(id="g1", text="ground"),),
        due_at=AT + timedelta(days=30 + minute), inspection_date=date(2025, 3, 10), executor="spec-1",
        effective=date(2025, 3, 4), complaint_id=f"c{minute % 2}", complaint_outcome="upheld",
        review_due_on=date(2025, 4, 1), escalated_to="court", notification_id=f"n{minute % 2}",
        notification_kind="decision_made", notification_channel="sms", delivery_state="DELIVERED",
        trigger_event_id=str(uuid.uuid4()),
    )  # fmt: skip


def _lives() -> Iterator[tuple[str, DomainEvent]]:
    """Every stored event type and step: an application through every step (twice, the second
    round older than the first), one withdrawn then overridden, one refused at intake, one
    supplemented, and a step of an application never submitted."""
    steps = get_args(CaseStep)
    full, withdrawn, refused, supplemented = (str(uuid.uuid4()) for _ in range(4))
    yield full, _submitted(full)
    for minute, step in enumerate((*steps, *reversed(steps))):
        yield full, _step(full, step, minute if minute < len(steps) else minute - len(steps))
    yield withdrawn, _submitted(withdrawn)
    yield withdrawn, _step(withdrawn, "executor_assigned", 1)
    yield withdrawn, ApplicationWithdrawn(application_id=withdrawn, withdrawn_by="clerk-1", withdrawn_at=AT)
    yield withdrawn, _step(withdrawn, "decision_made", 2)
    yield withdrawn, WithdrawalOverridden(application_id=withdrawn, decided_at=AT, source_event_id="d1")
    yield withdrawn, _step(withdrawn, "entitlement_started", 3)
    problem = IntakeProblem(code="missing", field="documents", message="m", document_id="identity_card")
    yield refused, ApplicationRejectedAtIntake(
        application_id=refused, service_id="svc", channel="department", office_id="karaganda-dept-01",
        region="karaganda", edition_id="svc@2023", received_by="clerk-1", rejected_at=AT,
        applicant_iin="850412300017", problems=[problem], idempotency_key=str(uuid.uuid4()),
    )  # fmt: skip
    yield refused, _step(refused, "executor_assigned", 4)
    yield supplemented, _submitted(supplemented)
    supplement = [DOCUMENT.model_copy(update={"document_id": "income_statement"})]
    yield (
        supplemented,
        DocumentsSupplemented(
            application_id=supplemented, documents=supplement, supplemented_by="clerk-1", supplemented_at=AT
        ),
    )
    orphan = str(uuid.uuid4())
    yield orphan, _step(orphan, "executor_assigned", 5)


async def _stored(pool: asyncpg.Pool, schema: str) -> list[StoredEvent]:
    store, count, read = EventStore(schema), 0, []
    async with pool.acquire() as conn:
        for app, event in _lives():
            new = NewEvent(event.event_name, event.model_dump(mode="json"), metadata={"actor": "clerk-1"})
            await store.append(conn, f"application-{app}", [new], None)
            count += 1

        async def all_readable() -> bool:  # a transaction elsewhere in the cluster may hold them back
            read[:] = await store.read_committed(conn, GlobalCursor(), 1000)
            return len(read) == count

        await wait_for(all_readable, timeout=60.0)
    return read


class _Reads(dict[str, Any]):
    """An event's data that notes which keys the fold read (in `read`, shared by all)."""

    read: ClassVar[set[str]] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


async def test_the_read_columns_fold_as_the_stored_events(pool: asyncpg.Pool, intake_schema: str) -> None:
    events = await _stored(pool, intake_schema)
    kinds = {event.event_type for event in events}
    assert kinds == set(status_rows.current_versions()), "every event type intake stores"
    live_rows: dict[str, Row | None] = {}
    live = [status_rows.apply(live_rows, event) for event in events]

    async with pool.acquire() as conn:
        store = EventStore(intake_schema)
        page = await read_committed_rows(conn, store, GlobalCursor(), 1000, fold_columns())
    bulk_rows: dict[str, Row | None] = {}
    bulk: list[HistoryEntry] = []
    upcast: dict[int, dict[str, Any]] = {}
    fold_page(bulk_rows, page, applications_of(page, upcast), upcast, bulk)

    assert bulk == [entry for entry in live if entry is not None] and None in live  # the orphan step: no row
    assert bulk_rows == live_rows
    row = live_rows[events[0].stream_id.removeprefix("application-")]
    assert row is not None and row["complaints"] and row["notifications"] and row["decision_grounds"]


async def test_the_fold_reads_no_key_the_read_leaves_out(pool: asyncpg.Pool, intake_schema: str) -> None:
    events = await _stored(pool, intake_schema)
    _Reads.read = set()
    rows: dict[str, Row | None] = {}
    for event in events:
        status_rows.apply(rows, event._replace(data=_Reads(event.data)))
    picked = {*TEXT_FIELDS, *JSON_FIELDS}
    assert _Reads.read <= picked, f"the fold reads keys the bulk read leaves out: {_Reads.read - picked}"
    assert _Reads.read == picked, f"picked and never read: {picked - _Reads.read}"
