"""The head extends the case's term, as far as the catalog's SLA allows and before it passes."""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.env import Env
from services.decision.domain.errors import InvalidState
from services.decision.domain.model import CaseState
from shared.catalog.deadlines import extended_due_at
from shared.catalog.errors import CatalogError
from shared.contracts.decisions import TermExtended
from shared.contracts.event import DomainEvent


def extend_term(cmd: c.ExtendTerm, state: CaseState, env: Env) -> list[DomainEvent]:
    if not state.is_open:
        raise InvalidState(f"cannot extend the term of a case in status {state.status.value}")
    if not env.workflow.extension_allowed:
        raise InvalidState(
            f"the catalog allows no extension for {env.service.id!r} edition {env.edition.id!r}"
        )
    if state.breached or (state.due_at is not None and env.now > state.due_at):
        raise InvalidState("the term has already passed: an extension must be decided before the due date")
    opened = state.opened
    assert opened is not None
    try:
        new_due = extended_due_at(
            env.service,
            env.edition,
            opened.channel,
            opened.received_at,
            env.tz,
            opened.subtype,
            policy=env.policy,
        )
    except CatalogError as exc:
        raise InvalidState(str(exc)) from exc
    if state.due_at is not None and new_due <= state.due_at:
        raise InvalidState("the term is already extended to the catalog's maximum")
    return [
        TermExtended(
            application_id=state.application_id,
            reason=cmd.reason,
            previous_due_at=state.due_at,
            new_due_at=new_due,
            extended_by=cmd.actor.subject,
            extended_at=env.now,
        )
    ]
