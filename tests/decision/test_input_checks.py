"""A command's own dates: an inspection act dated after the office's today and a decision period
that ends before it starts or outruns `decision_period_max` are refused as invalid input naming
the field, nothing is stored, and on `inspections.v1` the act is dead-lettered with the reason."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.decision.domain import commands as c
from services.decision.domain.case import decide
from services.decision.domain.errors import InvalidInput
from services.decision.domain.model import CaseState, evolve, initial
from services.decision.entrypoints.kafka_handlers import inspection_handler
from services.decision.service_layer.catalogs import FixedCatalog
from services.decision.service_layer.handlers import CaseHandlers, CaseResult, OnCase
from services.decision.settings import DecisionSettings
from shared.contracts.decisions import CaseFlagged, InspectionAct, InspectionCompleted
from shared.messaging.envelope import Envelope, PoisonMessage
from shared.service_layer import MessageBus, Meta, RetryPolicy

from .fakes import DecisionWorld
from .helpers import (
    AKMOLA_Q4_2012,
    INSPECTOR,
    SPECIALIST,
    TSA,
    TSA_AKMOLA,
    act_json,
    decision_catalog,
    env,
    record,
    submitted,
)

NOW = datetime(2012, 11, 20, 6, 0, tzinfo=UTC)  # 12:00 in Akmola: the office's today is 2012-11-20
PERIOD_MAX = record("decision_period_max", "national", date(2008, 1, 1), {"amount": 12, "unit": "months"})


def _apply(state: CaseState, events: list[Any]) -> CaseState:
    for e in events:
        state = evolve(state, e)
    return state


def _opened(*records: Any) -> tuple[CaseState, Any]:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012, *records, now=NOW)
    sub = submitted()
    state = _apply(initial(sub.application_id), decide(c.OpenCase(sub), initial(sub.application_id), e))
    return state, e


def _refusal(exc: pytest.ExceptionInfo[InvalidInput]) -> list[str]:
    return [err["field"] for err in exc.value.errors]


def test_an_act_dated_after_the_offices_today_is_refused() -> None:
    state, e = _opened()
    tomorrow = InspectionAct.model_validate(act_json(inspected_on="2012-11-21"))
    with pytest.raises(InvalidInput, match="after the office's today") as info:
        decide(c.RecordInspection(INSPECTOR, tomorrow), state, e)
    assert _refusal(info) == ["act.inspected_on"]
    today = InspectionAct.model_validate(act_json(inspected_on="2012-11-20"))
    assert decide(c.RecordInspection(INSPECTOR, today), state, e)


def test_the_offices_today_not_utcs_decides() -> None:
    # 20:00 UTC on the 20th is already the 21st in Akmola (UTC+6): an act of the 21st is today's.
    state, _ = _opened()
    late = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012, now=datetime(2012, 11, 20, 20, 0, tzinfo=UTC))
    act = InspectionAct.model_validate(act_json(inspected_on="2012-11-21"))
    assert decide(c.RecordInspection(INSPECTOR, act), state, late)


def _inspected(*records: Any) -> tuple[CaseState, Any]:
    state, e = _opened(*records)
    act = InspectionAct.model_validate(act_json(inspected_on="2012-11-19"))
    return _apply(state, decide(c.RecordInspection(INSPECTOR, act), state, e)), e


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (date(2013, 1, 1), date(2012, 12, 31), "ends before it starts"),
        (date(2012, 12, 1), date(2112, 11, 30), "longer than decision_period_max"),
        (date(2012, 12, 1), date(2013, 12, 2), "longer than decision_period_max"),
        (None, date(2012, 11, 19), "ends before it starts"),  # the start defaults to the office's today
    ],
    ids=["ends-before-start", "a-century", "a-day-too-long", "default-start"],
)
def test_a_draft_period_that_is_not_a_period_is_refused(start: date | None, end: date, reason: str) -> None:
    state, e = _inspected(PERIOD_MAX)
    with pytest.raises(InvalidInput, match=reason) as info:
        decide(c.DraftDecision(SPECIALIST, amount="4000", period_start=start, period_end=end), state, e)
    assert _refusal(info) == ["period_end"]


def test_a_period_within_the_bound_is_drafted() -> None:
    state, e = _inspected(PERIOD_MAX)
    events = decide(
        c.DraftDecision(
            SPECIALIST, amount="4000", period_start=date(2012, 12, 1), period_end=date(2013, 12, 1)
        ),
        state,
        e,
    )
    assert [x.event_name for x in events] == ["decision.drafted", "decision.submitted_for_signature"]


def test_without_a_bound_in_force_the_case_is_flagged_not_guessed() -> None:
    state, e = _inspected()
    events = decide(
        c.DraftDecision(
            SPECIALIST, amount="4000", period_start=date(2012, 12, 1), period_end=date(2013, 2, 28)
        ),
        state,
        e,
    )
    assert isinstance(events[0], CaseFlagged) and events[0].parameter == "decision_period_max"


# ----------------------------------------------------------------------------- Kafka: dead letter


class _BusService:
    """The decision service's `execute` over the in-memory unit (what the Kafka handler calls)."""

    def __init__(self, clock_now: datetime) -> None:
        self.world = DecisionWorld()
        catalog = FixedCatalog(decision_catalog(*AKMOLA_Q4_2012))
        handlers = CaseHandlers(catalog, DecisionSettings(), lambda: clock_now)
        self.bus = MessageBus(handlers.table(), self.world.begin, RetryPolicy(initial_wait_s=0, max_wait_s=0))

    async def execute(self, application_id: str, command: c.Command, **kw: Any) -> CaseResult:
        actor = getattr(command, "actor", c.SYSTEM)
        meta = Meta(actor, kw.get("correlation_id"), kw.get("causation_id"))
        result: CaseResult = await self.bus.handle(OnCase(application_id, command), meta)
        return result


async def test_an_act_from_the_future_on_kafka_is_dead_lettered_with_the_reason() -> None:
    service = _BusService(NOW)
    sub = submitted()
    await service.execute(sub.application_id, c.OpenCase(sub))
    handle = inspection_handler(service, "/qyzmet/decision")  # type: ignore[arg-type]
    event = InspectionCompleted(
        application_id=sub.application_id,
        office_id="akmola-village-1",
        act=InspectionAct.model_validate(act_json(inspected_on=(NOW + timedelta(days=3)).date().isoformat())),
        recorded_by="insp-1",
        recorded_at=NOW,
    )
    envelope = Envelope(id="1", source="/office/x", type=event.ce_type(), data={}, office="akmola-village-1")
    with pytest.raises(PoisonMessage, match="inspection act is dated after the office's today"):
        await handle(None, envelope, event)  # type: ignore[arg-type]
    assert [e.event_type for e in service.world.store.events(f"case-{sub.application_id}")] == [
        "decision.case_opened"
    ]
