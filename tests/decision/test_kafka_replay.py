"""What a replay from the topics stores as a case's stream (`case_envelopes`): the opening rebuilt
from the first submission, then the case's own published events; office systems' commands, a
repeated submission, an application the catalog cannot open and steps of a case never opened
add nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.decision.entrypoints.kafka_replay import case_envelopes
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import CaseOpened, ExecutorAssigned, InspectionScheduled
from shared.contracts.event import DomainEvent
from shared.messaging.envelope import Envelope
from shared.replay.kafka import TopicRecord

from .helpers import decision_catalog, submitted

OWN = "/qyzmet/decision"
AT = datetime(2012, 11, 15, 6, 0, tzinfo=UTC)


def _record(topic: str, event: DomainEvent, event_id: str, source: str, subject: str) -> TopicRecord:
    data = event.model_dump(mode="json")
    return TopicRecord(topic, Envelope(event_id, source, event.ce_type(), data, AT, subject))


def _submission(sub: ApplicationSubmitted, event_id: str) -> TopicRecord:
    return _record("applications.v1", sub, event_id, "/qyzmet/intake", f"application-{sub.application_id}")


def test_a_case_is_its_opening_then_its_own_published_events() -> None:
    sub, unknown = submitted(), submitted(edition_id="no_such_edition")
    aid, stream = sub.application_id, f"case-{sub.application_id}"
    assigned = ExecutorAssigned(application_id=aid, executor="spec-1", assigned_by="head-1", assigned_at=AT)
    scheduled = InspectionScheduled(
        application_id=aid, office_id=sub.office_id, inspection_date=date(2012, 11, 17),
        scheduled_by="insp-1", scheduled_at=AT,
    )  # fmt: skip
    orphan = ExecutorAssigned(application_id="never-opened", executor="x", assigned_by="y", assigned_at=AT)
    records = [
        _submission(sub, "s-1"),
        _submission(unknown, "s-2"),
        _record("decisions.v1", assigned, "e-1", OWN, stream),
        _record("inspections.v1", scheduled, "c-1", "/office-system", stream),  # a command: not a step
        _submission(sub.model_copy(update={"due_at": AT + timedelta(days=99)}), "s-3"),  # repeated
        _record("inspections.v1", scheduled, "e-2", OWN, stream),
        _record("decisions.v1", orphan, "e-3", OWN, "case-never-opened"),
    ]
    out = case_envelopes(records, decision_catalog(), OWN)
    assert [(e.subject, e.type) for e in out] == [
        (stream, CaseOpened.ce_type()),
        (stream, ExecutorAssigned.ce_type()),
        (stream, InspectionScheduled.ce_type()),
    ]
    opened = CaseOpened.model_validate(out[0].data)
    assert (opened.due_at, opened.signature_required, opened.inspection) == (sub.due_at, True, "required")
    assert [m.monthly_income for m in opened.household] == ["9000", "9000"]
    assert out[0].causation_id == "s-1" and out[0].id != "s-1"
    assert [e.id for e in out[1:]] == ["e-1", "e-2"]
