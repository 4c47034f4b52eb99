"""Checks of a command's own dates against the case's clock and the catalog: an inspection act
dated after the office's today, a decision period that ends before it starts or is longer than
the named parameter `decision_period_max` allows. Refusals are `InvalidInput` naming the field.
"""

from __future__ import annotations

from datetime import date

from services.decision.domain import commands as c
from services.decision.domain.eligibility_conditions import add_period
from services.decision.domain.env import Env
from services.decision.domain.errors import InvalidInput
from services.decision.domain.model import CaseState
from services.decision.domain.rule_context import ParameterMissing
from shared.catalog.errors import CatalogError
from shared.catalog.vocabulary import DurationUnit

PERIOD_MAX = "decision_period_max"
"""The named parameter bounding a decision's period (no seed gives a maximum)."""
_PERIOD_UNITS = frozenset({DurationUnit.MONTHS, DurationUnit.CALENDAR_DAYS})


def check_inspection_act(cmd: c.RecordInspection, env: Env) -> None:
    today = env.today()
    if cmd.act.inspected_on > today:
        raise InvalidInput(
            f"the inspection act is dated after the office's today ({today.isoformat()})",
            title="Inspection act dated in the future",
            errors=[{"field": "act.inspected_on", "reason": "after the office's today"}],
        )


def _period_max(state: CaseState, env: Env) -> tuple[int, DurationUnit]:
    opened = state.opened
    assert opened is not None
    on = opened.received_at.astimezone(env.tz).date()
    try:
        used = env.lookup(PERIOD_MAX, opened.region, on)
    except CatalogError as exc:
        raise ParameterMissing(PERIOD_MAX, opened.region, on, str(exc)) from exc
    amount, _, unit = used.value.partition(" ")
    if not amount.isdigit() or unit not in {u.value for u in _PERIOD_UNITS}:
        raise ParameterMissing(
            PERIOD_MAX, opened.region, on, f"{PERIOD_MAX} must be a term in months or calendar days"
        )
    return int(amount), DurationUnit(unit)


def check_period(cmd: c.DraftDecision, state: CaseState, env: Env) -> None:
    """A period ends on or after its start, and within `decision_period_max` of it (the start
    defaults to the office's today, as the entitlement does). Raises ParameterMissing when the
    bound has no value in force and a period end is given."""
    if cmd.period_end is None:
        return
    start: date = cmd.period_start or env.today()
    if cmd.period_end < start:
        raise InvalidInput(
            "the decision period ends before it starts",
            title="Invalid decision period",
            errors=[{"field": "period_end", "reason": "before period_start"}],
        )
    amount, unit = _period_max(state, env)
    latest = add_period(start, amount, unit)
    if cmd.period_end > latest:
        raise InvalidInput(
            f"the decision period is longer than {PERIOD_MAX} ({amount} {unit.value})",
            title="Invalid decision period",
            errors=[{"field": "period_end", "reason": f"longer than {PERIOD_MAX}"}],
        )
