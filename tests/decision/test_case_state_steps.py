"""Each event's step of the case state is a new frozen CaseState, as its constructor would build
it, and leaves the state before it untouched (evolve copies the fields instead of calling
`dataclasses.replace`, issue 14)."""

from __future__ import annotations

import dataclasses

import pytest

from services.decision.domain import commands as c
from services.decision.domain.case import decide
from services.decision.domain.model import CaseState, Status, _next, evolve, initial

from .helpers import AKMOLA_Q4_2012, HEAD, TSA, TSA_AKMOLA, env, submitted


def _values(state: CaseState) -> dict[str, object]:
    return {f.name: getattr(state, f.name) for f in dataclasses.fields(CaseState)}


def test_every_step_is_a_new_state_and_the_one_before_stays_as_it_was() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    sub = submitted()
    state = initial(sub.application_id)
    opened = decide(c.OpenCase(sub), state, e)
    steps = 0
    for command in (None, c.AssignExecutor(HEAD, "spec-1")):
        events = opened if command is None else decide(command, state, e)
        for event in events:
            before = _values(state)
            after = evolve(state, event)
            assert after is not state and _values(state) == before
            assert after.version == state.version + 1
            rebuilt = CaseState(**_values(after))  # type: ignore[arg-type]
            assert rebuilt == after and hash(rebuilt) == hash(after)
            with pytest.raises(dataclasses.FrozenInstanceError):
                after.status = Status.NEW  # type: ignore[misc]
            state, steps = after, steps + 1
    assert steps >= 2 and state.executor == "spec-1" and state.opened is not None


def test_a_step_naming_no_field_of_the_state_is_refused() -> None:
    with pytest.raises(TypeError, match="no_such_field"):
        _next(initial("a"), no_such_field=1)
