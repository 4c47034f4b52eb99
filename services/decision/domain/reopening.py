"""A complaint reopens a decided case: a new term, and payments suspended while the case is
reviewed again. The office or a higher body of the case's region answers (`policy.py`).
"""

from __future__ import annotations

from datetime import datetime

from services.decision.domain import commands as c
from services.decision.domain.env import Env
from services.decision.domain.errors import InvalidState
from services.decision.domain.model import ENTITLEMENT_STATUSES, CaseState, Status
from shared.catalog.deadlines import due_at
from shared.catalog.errors import CatalogError
from shared.contracts.decisions import (
    ApplicationReopened,
    CaseFlagged,
    EntitlementSuspended,
    Ground,
)
from shared.contracts.event import DomainEvent


def reopen_application(cmd: c.ReopenApplication, state: CaseState, env: Env) -> list[DomainEvent]:
    contested = cmd.contested_decided_at
    if contested is not None and (state.decision is None or state.decision.decided_at != contested):
        # The complaint contested a decision that a reopening (another complaint) has already set
        # aside: nothing of this case is in question any more.
        return []
    if state.decision is None:
        raise InvalidState(f"only a decided case can be reopened (status {state.status.value})")
    opened = state.opened
    assert opened is not None
    events: list[DomainEvent] = []
    new_due: datetime | None
    try:
        new_due = due_at(
            env.service, env.edition, opened.channel, env.now, env.tz, opened.subtype, policy=env.policy
        )
    except CatalogError as exc:
        new_due = None
        events.append(
            CaseFlagged(
                application_id=state.application_id,
                reason="no_computable_term",
                message=str(exc),
                flagged_at=env.now,
            )
        )
    if state.status in ENTITLEMENT_STATUSES and state.status is not Status.SUSPENDED:
        # Payments stop while the case is under review again, and downstream systems are told so.
        events.insert(
            0,
            EntitlementSuspended(
                application_id=state.application_id,
                ground=Ground(
                    id="reopened_after_complaint",
                    text=f"the case was reopened after complaint {cmd.complaint_id}",
                    source="fact",
                ),
                effective=env.now.astimezone(env.tz).date(),
                recorded_by=cmd.actor.subject,
            ),
        )
    reopened = ApplicationReopened(
        application_id=state.application_id,
        complaint_id=cmd.complaint_id,
        reason=cmd.reason,
        reopened_by=cmd.actor.subject,
        reopened_at=env.now,
        new_due_at=new_due,
    )
    suspended = [e for e in events if isinstance(e, EntitlementSuspended)]
    flagged = [e for e in events if not isinstance(e, EntitlementSuspended)]
    return [*suspended, reopened, *flagged]
