"""The head's answer to a draft: sign it (the decision is made) or return it for rework."""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.drafting import decision_made
from services.decision.domain.env import Env
from services.decision.domain.errors import InvalidState
from services.decision.domain.model import CaseState, Status
from shared.contracts.decisions import DecisionReturnedForRework
from shared.contracts.event import DomainEvent


def return_for_rework(cmd: c.ReturnForRework, state: CaseState, env: Env) -> list[DomainEvent]:
    if state.status is not Status.AWAITING_SIGNATURE:
        raise InvalidState(f"nothing to return: status is {state.status.value}")
    return [
        DecisionReturnedForRework(
            application_id=state.application_id,
            reason=cmd.reason,
            returned_by=cmd.actor.subject,
            returned_at=env.now,
        )
    ]


def sign_decision(cmd: c.SignDecision, state: CaseState, env: Env) -> list[DomainEvent]:
    if state.status is not Status.AWAITING_SIGNATURE or state.draft is None:
        raise InvalidState(f"nothing to sign: status is {state.status.value}")
    return decision_made(state, env, state.draft, signed_by=cmd.actor.subject, automated=False)
