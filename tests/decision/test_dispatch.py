"""The case's dispatch and policy tables, pure: an unknown command is refused, every command has
a handler and a permission, and the scopes of the table hold (office; region for complaints)."""

from __future__ import annotations

import typing
from dataclasses import dataclass

import pytest

from services.decision.domain import commands as c
from services.decision.domain.case import HANDLERS, Env, decide
from services.decision.domain.errors import InvalidState, NotFound
from services.decision.domain.model import CaseState, evolve_all, initial
from services.decision.domain.policy import POLICY
from services.decision.domain.queries import ReadCase, ReadCaseDetails, ReadCaseStatus, ReadWorklist
from shared.auth.policy import Scope
from shared.domain.errors import UnknownCommand

from .helpers import AKMOLA_Q4_2012, HEAD, TSA, TSA_AKMOLA, env, submitted


@dataclass(frozen=True)
class Unheard:
    actor: c.Actor


def _opened() -> tuple[CaseState, Env]:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    sub = submitted()
    state = initial(sub.application_id)
    return evolve_all(state, decide(c.OpenCase(sub), state, e)), e


def test_an_unknown_command_is_refused_not_taken_for_another() -> None:
    state, e = _opened()
    with pytest.raises(UnknownCommand, match="Unheard is not a command of the case"):
        decide(Unheard(HEAD), state, e)  # type: ignore[arg-type]
    # Refused before anything else is looked at, even on a case that is not open.
    with pytest.raises(UnknownCommand):
        decide(Unheard(HEAD), initial("no-such-case"), e)  # type: ignore[arg-type]


def test_every_command_has_one_handler_and_one_permission() -> None:
    commands = set(typing.get_args(c.Command))
    assert set(HANDLERS) == commands
    assert set(POLICY.table) == commands | {ReadCase, ReadCaseDetails, ReadCaseStatus, ReadWorklist}
    assert POLICY.permission(c.FireTimer).scope is Scope.SYSTEM
    assert POLICY.roles(c.ScheduleInspection) == ["head", "inspector", "specialist", "system"]


def test_complaints_are_answered_by_the_region_other_commands_by_the_office_only() -> None:
    state, e = _opened()
    regional = c.Actor("rev-region", "reviewer", "akmola")
    # In scope: refused only because the case is not decided yet.
    with pytest.raises(InvalidState, match="only a decided case"):
        decide(c.ReopenApplication(regional, "cmp-1", "upheld"), state, e)
    # Out of scope: answered as a missing case (another office's case is not revealed).
    with pytest.raises(NotFound, match="no case"):
        decide(c.ReopenApplication(c.Actor("rev-2", "reviewer", "karaganda"), "cmp-1", "upheld"), state, e)
    with pytest.raises(NotFound, match="no case"):
        decide(c.AssignExecutor(c.Actor("head-r", "head", "akmola"), "spec-1"), state, e)
    # The system acts everywhere.
    system = c.Actor("system:decision", "system", "*")
    with pytest.raises(InvalidState, match="only a decided case"):
        decide(c.ReopenApplication(system, "cmp-1", "upheld"), state, e)
