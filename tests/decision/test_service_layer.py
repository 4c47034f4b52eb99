"""The decision handlers on the bus over an in-memory unit of work: no database, milliseconds
each. Events, timers, the `cases` row and the audit record commit together or not at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.decision.domain import commands as c
from services.decision.service_layer.catalogs import FixedCatalog
from services.decision.service_layer.handlers import CaseHandlers, CaseResult, FireDueTimer, OnCase, TimerGone
from services.decision.settings import DecisionSettings
from shared.contracts.decisions import InspectionAct
from shared.domain.errors import Forbidden, InvalidState, NotFound
from shared.service_layer import MessageBus, Meta, RetryPolicy

from .fakes import DecisionWorld, FakeDecisionUnit
from .helpers import AKMOLA_Q4_2012, HEAD, INSPECTOR, SPECIALIST, act_json, decision_catalog, submitted

NOW = datetime(2012, 11, 16, 6, 0, tzinfo=UTC)
SYSTEM = Meta(c.SYSTEM)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def catalog() -> FixedCatalog:
    return FixedCatalog(decision_catalog(*AKMOLA_Q4_2012))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world() -> DecisionWorld:
    return DecisionWorld()


@pytest.fixture
def bus(world: DecisionWorld, catalog: FixedCatalog, clock: Clock) -> MessageBus[FakeDecisionUnit]:
    handlers = CaseHandlers(catalog, DecisionSettings(), clock)
    return MessageBus(handlers.table(), world.begin, RetryPolicy(initial_wait_s=0, max_wait_s=0))


async def _run(bus: MessageBus[FakeDecisionUnit], aid: str, command: c.Command) -> CaseResult:
    actor = getattr(command, "actor", c.SYSTEM)
    result: CaseResult = await bus.handle(OnCase(aid, command), Meta(actor, correlation_id="corr-1"))
    return result


async def _to_signature(bus: MessageBus[FakeDecisionUnit], aid: str) -> None:
    await _run(bus, aid, c.AssignExecutor(HEAD, "spec-1"))
    await _run(bus, aid, c.ScheduleInspection(INSPECTOR, NOW.date() + timedelta(days=1)))
    await _run(bus, aid, c.RecordInspection(INSPECTOR, InspectionAct.model_validate(act_json())))
    drafted = await _run(bus, aid, c.DraftDecision(SPECIALIST, amount="4000"))
    assert drafted.state.status.value == "awaiting_signature"


async def test_opening_a_case_commits_events_timers_and_the_case_row_together(
    bus: MessageBus[FakeDecisionUnit], world: DecisionWorld
) -> None:
    sub = submitted(due_in=timedelta(days=30))
    result = await _run(bus, sub.application_id, c.OpenCase(sub))
    assert [e.event_name for e in result.events] == ["decision.case_opened"]
    assert world.pending(sub.application_id) == {"deadline_approaching", "deadline_breached"}
    assert world.cases[sub.application_id].version == 1
    stored = world.store.events(f"case-{sub.application_id}")
    assert (
        stored[0].metadata["correlation_id"] == "corr-1" and stored[0].metadata["actor"] == "system:decision"
    )
    assert world.audit.records == []  # the service's own steps are not administrative actions


async def test_signing_cancels_the_deadline_timers_and_is_audited(
    bus: MessageBus[FakeDecisionUnit], world: DecisionWorld
) -> None:
    sub = submitted()
    await _run(bus, sub.application_id, c.OpenCase(sub))
    await _to_signature(bus, sub.application_id)
    signed = await _run(bus, sub.application_id, c.SignDecision(HEAD))
    assert [e.event_name for e in signed.events] == ["decision.made", "entitlement.started"]
    assert not world.pending(sub.application_id) & {"deadline_approaching", "deadline_breached"}
    assert [r.action for r in world.audit.records][-1] == "decision.sign"
    assert world.cases[sub.application_id].status.value == signed.state.status.value


async def test_a_refused_command_leaves_no_trace(
    bus: MessageBus[FakeDecisionUnit], world: DecisionWorld
) -> None:
    sub = submitted()
    await _run(bus, sub.application_id, c.OpenCase(sub))
    before = (len(world.store.events()), len(world.timers), len(world.audit.records))
    with pytest.raises(Forbidden):
        await _run(bus, sub.application_id, c.SignDecision(SPECIALIST))
    with pytest.raises(InvalidState):
        await _run(bus, sub.application_id, c.SignDecision(HEAD))  # nothing drafted yet
    with pytest.raises(NotFound):
        await _run(bus, "no-such-case", c.SignDecision(HEAD))
    assert (len(world.store.events()), len(world.timers), len(world.audit.records)) == before


async def test_a_command_that_loses_the_race_for_its_case_decides_again_on_the_new_state(
    bus: MessageBus[FakeDecisionUnit], world: DecisionWorld
) -> None:
    sub = submitted()
    aid = sub.application_id
    await _run(bus, aid, c.OpenCase(sub))
    raced = False

    def begin() -> FakeDecisionUnit:
        unit = world.begin()
        real_bind = unit._begin

        def bind() -> None:
            real_bind()
            real_append = unit.cases.append_audited  # an officer's command: appended with its record

            async def append_after_a_rival(*args: Any, **kwargs: Any) -> None:
                nonlocal raced
                if not raced:  # another head assigns between this unit's load and its append
                    raced = True
                    await _run(bus, aid, c.AssignExecutor(HEAD, "spec-9"))
                await real_append(*args, **kwargs)

            unit.cases.append_audited = append_after_a_rival  # type: ignore[method-assign]

        unit._begin = bind  # type: ignore[method-assign]
        return unit

    racing = MessageBus(bus.handlers, begin, bus.retry)
    result: CaseResult = await racing.handle(OnCase(aid, c.AssignExecutor(HEAD, "spec-1")), Meta(HEAD))
    assert result.state.executor == "spec-1" and result.state.version == 3
    assert [e.data.get("executor") for e in world.store.events(f"case-{aid}")][1:] == ["spec-9", "spec-1"]


async def test_a_due_timer_fires_once_and_a_cancelled_one_is_gone(
    bus: MessageBus[FakeDecisionUnit], world: DecisionWorld, clock: Clock
) -> None:
    sub = submitted(due_in=timedelta(days=5))
    await _run(bus, sub.application_id, c.OpenCase(sub))
    breached = next(t for t in world.timers if t.kind == "deadline_breached")
    clock.now = sub.received_at + timedelta(days=6)
    fire = FireDueTimer(breached.id, sub.application_id, "deadline_breached", breached.target, "scheduler-a")
    assert await bus.handle(fire, SYSTEM) is True
    assert breached.fired_by == "scheduler-a"
    assert world.cases[sub.application_id].breached
    count = len(world.store.events())
    with pytest.raises(TimerGone):
        await bus.handle(fire, SYSTEM)  # fired already: this firing's effects are rolled back
    assert len(world.store.events()) == count
