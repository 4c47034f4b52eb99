"""Facts recorded on a running entitlement (a death, a move, refused work, a re-confirmation...):
each falls under a catalog ground and suspends, restores or ends the entitlement. Also the
quarterly re-confirmation calendar.
"""

from __future__ import annotations

from datetime import date

from services.decision.domain import commands as c
from services.decision.domain.eligibility_conditions import add_period
from services.decision.domain.env import Env
from services.decision.domain.errors import InvalidInput, InvalidState
from services.decision.domain.model import ENTITLEMENT_STATUSES, CaseState, Status
from shared.catalog.deadlines import add_months
from shared.catalog.models import Edition
from shared.catalog.vocabulary import GroundEffect
from shared.contracts.decisions import (
    EntitlementRestored,
    EntitlementSuspended,
    EntitlementTerminated,
    Ground,
    ReconfirmationReceived,
)
from shared.contracts.event import DomainEvent


def next_quarter_start(day: date) -> date:
    first_month = ((day.month - 1) // 3) * 3 + 1
    return add_months(date(day.year, first_month, 1), 3)


_FACT_WORDS: dict[str, tuple[str, ...]] = {
    "death": ("death",),
    "moved_away": ("moving", "moved", "residence"),
    "full_state_care": ("state_support", "state_care", "full_state"),
    "false_information": ("false",),
    "child_turned_18": ("age", "18"),
    "refused_work": ("refused_work",),
    "placed_in_job": ("restor",),
}


def _fact_ground(edition: Edition, fact: str, ground_id: str | None = None) -> Ground:
    """The catalog ground a recorded fact falls under.

    The specialist may name it (`ground_id`, checked against the edition's lists); otherwise it
    is found by the fact's words in the grounds' ids, and when several grounds match (an
    applicant's death vs a child's death) the specialist must choose: nothing is guessed."""
    grounds = [(g, "termination_grounds") for g in edition.termination_grounds] + [
        (g, "refusal_grounds") for g in edition.refusal_grounds
    ]
    if ground_id is not None:
        for g, source in grounds:
            if g.id == ground_id:
                return Ground(id=g.id, text=g.text, text_kk=g.text_kk, source=source)
        raise InvalidInput(f"ground {ground_id!r} is not in edition {edition.id!r}'s lists")
    words = _FACT_WORDS.get(fact, ())
    matches = [(g, source) for g, source in grounds if any(word in g.id for word in words)]
    termination = [m for m in matches if m[1] == "termination_grounds"]
    candidates = termination or matches
    if len(candidates) > 1:
        ids = ", ".join(g.id for g, _ in candidates)
        raise InvalidInput(f"fact {fact!r} matches several grounds ({ids}): name one as ground_id")
    if candidates:
        g, source = candidates[0]
        return Ground(id=g.id, text=g.text, text_kk=g.text_kk, source=source)
    return Ground(id=fact, text=f"recorded fact: {fact.replace('_', ' ')}", source="fact")


def record_fact(cmd: c.RecordFact, state: CaseState, env: Env) -> list[DomainEvent]:
    if state.status not in ENTITLEMENT_STATUSES:
        raise InvalidState(f"no running entitlement: status is {state.status.value}")
    aid = state.application_id
    who = cmd.actor.subject
    if cmd.fact == "reconfirmation_received":
        if not env.workflow.quarterly_reconfirmation:
            raise InvalidInput(f"edition {env.edition.id!r} of {env.service.id!r} has no re-confirmation")
        current = state.reconfirm_by or next_quarter_start(cmd.on)
        return [
            ReconfirmationReceived(
                application_id=aid, received_on=cmd.on, next_due_by=add_months(current, 3), recorded_by=who
            )
        ]
    ground = _fact_ground(env.edition, cmd.fact, cmd.ground_id)
    if cmd.fact == "placed_in_job":
        if state.status is not Status.SUSPENDED:
            raise InvalidState("the entitlement is not suspended")
        return [EntitlementRestored(application_id=aid, ground=ground, effective=cmd.on, recorded_by=who)]
    if cmd.fact == "refused_work":
        sanction = next(
            (
                g
                for g in (*env.edition.termination_grounds, *env.edition.refusal_grounds)
                if g.effect is GroundEffect.DEPRIVE_FOR_PERIOD and g.period is not None
            ),
            None,
        )
        if sanction is not None and sanction.period is not None:
            until = add_period(cmd.on, sanction.period.value, sanction.period.unit)
            g = Ground(
                id=sanction.id, text=sanction.text, text_kk=sanction.text_kk, source="termination_grounds"
            )
            return [
                EntitlementSuspended(
                    application_id=aid, ground=g, effective=cmd.on, until=until, recorded_by=who
                )
            ]
        return [EntitlementSuspended(application_id=aid, ground=ground, effective=cmd.on, recorded_by=who)]
    return [EntitlementTerminated(application_id=aid, ground=ground, effective=cmd.on, recorded_by=who)]
