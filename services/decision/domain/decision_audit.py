"""The decision audit (`qyzmet replay decisions --verify`): is every recorded decision what its
recorded inputs give under the rules in force when it was made?

A `DecisionMade` carries its evaluation: the edition, the inputs, every parameter value it used
(with the date it was looked up for) and each condition's result. The audit asks the catalog
which edition was in force for the application's region on its date (the date a case is judged
by, DOMAIN.md section 11; the date its parameters were looked up for): an administrator's
adoption covering that date, else the edition whose effective dates contain it. It evaluates the
recorded inputs again under that edition, with the parameter values the catalog now says were in
force on those dates (a value corrected afterwards for a past date counts), and compares.
Anything that differs is listed with why: an edition recorded other than the one in force (or no
edition in force on that date per the catalog: then nothing is evaluated, the recorded edition is
never used instead), the decision's own fields against its evaluation (an edited event), each
parameter whose value in force differs from the one used, each condition whose result changed
(with its rule), and the outcome, grounds and amount. Decisions that no rule computes (an
officer's outcome) are checked only for what their evaluation records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from services.decision.domain.rule_context import ParameterLookup, ParameterMissing
from services.decision.domain.rules import evaluate
from shared.catalog.models import Edition
from shared.contracts.decisions import DecisionMade, Evaluation, ParameterUsed


@dataclass(frozen=True)
class EditionInForce:
    """What the catalog says governed an application of a service in a region on a date."""

    edition: Edition | None
    """None: no edition in force then per the catalog."""
    why: str
    """The basis (an adoption: by whom, from when; else the edition's own effective dates), or why
    there is none."""


InForce = Callable[[str, str, date], EditionInForce]
"""(service id, region, application date) -> the edition in force then per the catalog."""


@dataclass(frozen=True)
class DecisionCheck:
    application_id: str
    event_id: str
    decided_at: datetime
    reasons: tuple[str, ...]
    """Why the decision would now differ; empty when it reproduces."""

    @property
    def differs(self) -> bool:
        return bool(self.reasons)


def _own_fields(made: DecisionMade) -> list[str]:
    """The decision's fields against its own evaluation (a computed decision only)."""
    evaluation = made.evaluation
    out: list[str] = []
    if made.edition_id != evaluation.edition_id or made.service_id != evaluation.service_id:
        out.append(
            f"the decision names {made.service_id}/{made.edition_id}, its evaluation"
            f" {evaluation.service_id}/{evaluation.edition_id}"
        )
    if not evaluation.computable or evaluation.outcome is None:
        return out
    if made.outcome != evaluation.outcome:
        out.append(f"outcome {made.outcome!r} recorded, its evaluation gives {evaluation.outcome!r}")
    grounds = tuple(g.id for g in made.grounds)
    if made.outcome == "refused" and grounds != evaluation.grounds:
        out.append(f"grounds {list(grounds)} recorded, its evaluation gives {list(evaluation.grounds)}")
    if (
        made.outcome == "approved"
        and evaluation.amount_source == "formula"
        and made.amount != evaluation.amount
    ):
        out.append(f"amount {made.amount} recorded, its evaluation gives {evaluation.amount}")
    return out


def _parameters(recorded: tuple[ParameterUsed, ...], lookup: ParameterLookup) -> list[str]:
    out = []
    for used in recorded:
        try:
            now = lookup(used.parameter, used.region, used.on_date)
        except ParameterMissing:
            out.append(f"parameter {used.parameter} ({used.region}, {used.on_date}): no value in force now")
            continue
        if now.value != used.value:
            out.append(
                f"parameter {used.parameter} ({used.region}, {used.on_date}): {used.value} used,"
                f" {now.value} in force (from {now.effective_from})"
            )
    return out


def _against(recorded: Evaluation, again: Evaluation) -> list[str]:
    out = []
    before = {(c.id, c.rule_id): c for c in recorded.conditions}
    after = {(c.id, c.rule_id): c for c in again.conditions}
    for key in sorted({*before, *after}):
        was, now = before.get(key), after.get(key)
        if was is None or now is None:
            out.append(
                f"condition {key[0]} (rule {key[1]}): {'new' if was is None else 'no longer evaluated'}"
            )
        elif was.holds != now.holds:
            out.append(
                f"condition {key[0]} (rule {key[1]}): held {was.holds}, now {now.holds} ({now.detail})"
            )
    if recorded.outcome != again.outcome:
        out.append(f"outcome {recorded.outcome!r} recorded, the rules now give {again.outcome!r}")
    if recorded.grounds != again.grounds:
        out.append(f"grounds {list(recorded.grounds)} recorded, the rules now give {list(again.grounds)}")
    if recorded.amount != again.amount:
        out.append(f"amount {recorded.amount} recorded, the rules now give {again.amount}")
    if recorded.rule_ids != again.rule_ids:
        out.append(f"rules {list(recorded.rule_ids)} applied, the edition now names {list(again.rule_ids)}")
    return out


def check_decision(
    made: DecisionMade,
    in_force: InForce,
    lookup: ParameterLookup,
    event_id: str = "",
) -> DecisionCheck:
    """`in_force`: the edition the catalog has in force for the application's region on its date;
    `lookup`: the parameter values the catalog now has in force on a date."""
    evaluation = made.evaluation
    reasons = _own_fields(made)
    on, region = evaluation.inputs.application_date, evaluation.inputs.region
    found = in_force(evaluation.service_id, region, on)
    if found.edition is None:
        reasons.append(
            f"no edition in force on {on} per catalog for {evaluation.service_id} in {region}"
            f" ({found.why}); the decision names edition {evaluation.edition_id}"
        )
    elif found.edition.id != evaluation.edition_id:
        reasons.append(
            f"edition {evaluation.edition_id} recorded, but the catalog has edition {found.edition.id}"
            f" in force on {on} in {region} ({found.why})"
        )
    reasons.extend(_parameters(evaluation.parameters, lookup))
    if found.edition is not None:
        try:
            again = evaluate(evaluation.service_id, found.edition, evaluation.inputs, lookup)
        except ParameterMissing as exc:
            reasons.append(f"cannot evaluate again: {exc}")
        else:
            reasons.extend(_against(evaluation, again))
    return DecisionCheck(made.application_id, event_id, made.decided_at, tuple(dict.fromkeys(reasons)))
