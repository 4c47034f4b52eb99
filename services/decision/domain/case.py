"""The case aggregate: `decide(command, state, env) -> events` (pure; `env` carries the catalog
edition, the parameter lookup and the clock). Refusals raise a DomainError and store nothing.

`decide` dispatches through one table, command type -> handler; each handler lives in the module
of its step (opening, review, drafting, signing, extension, timer firing, entitlements,
reopening, withdrawal); a withdrawn application's case takes no further command. Who may issue
which command is the table in `policy.py`, checked here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.decision.domain import commands as c
from services.decision.domain.drafting import draft_decision
from services.decision.domain.entitlements import next_quarter_start, record_fact
from services.decision.domain.env import Env
from services.decision.domain.errors import InvalidState
from services.decision.domain.extension import extend_term
from services.decision.domain.model import CaseState, Status
from services.decision.domain.opening import assign_executor, open_case
from services.decision.domain.policy import authorize
from services.decision.domain.reopening import reopen_application
from services.decision.domain.review import check_documents, record_inspection, schedule_inspection
from services.decision.domain.signing import return_for_rework, sign_decision
from services.decision.domain.timer_firing import fire_timer
from services.decision.domain.withdrawal import close_withdrawn
from shared.contracts.event import DomainEvent
from shared.domain.errors import UnknownCommand

Handler = Callable[[Any, CaseState, Env], list[DomainEvent]]

HANDLERS: dict[type, Handler] = {
    c.OpenCase: open_case,
    c.AssignExecutor: assign_executor,
    c.CheckDocuments: check_documents,
    c.ScheduleInspection: schedule_inspection,
    c.RecordInspection: record_inspection,
    c.DraftDecision: draft_decision,
    c.ReturnForRework: return_for_rework,
    c.SignDecision: sign_decision,
    c.ExtendTerm: extend_term,
    c.FireTimer: fire_timer,
    c.RecordFact: record_fact,
    c.ReopenApplication: reopen_application,
    c.CloseWithdrawn: close_withdrawn,
}


def decide(command: c.Command, state: CaseState, env: Env) -> list[DomainEvent]:
    handler = HANDLERS.get(type(command))
    if handler is None:
        raise UnknownCommand(f"{type(command).__name__} is not a command of the case")
    if isinstance(command, c.OpenCase):
        return handler(command, state, env)
    if state.opened is None:
        raise InvalidState(f"case {state.application_id!r} is not open")
    if state.status is Status.WITHDRAWN and not isinstance(command, c.CloseWithdrawn | c.FireTimer):
        raise InvalidState("the application was withdrawn: its case is closed")
    if not isinstance(command, c.FireTimer):  # timers are the service's own steps: no actor
        authorize(type(command), command.actor, state)
    return handler(command, state, env)


__all__ = ["HANDLERS", "Env", "decide", "next_quarter_start"]
