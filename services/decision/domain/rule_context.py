"""What a rule evaluator reads and how it answers: the case's `EligibilityInputs`, named and
effective-dated parameters (from the parameter book, or from a decision's own record when it is
re-evaluated), the limits the catalog states for the rule, and one `ConditionResult` per
condition with its ground and legal citation. A parameter with no value is `ParameterMissing`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from shared.catalog.errors import CatalogError, ParameterNotInForce
from shared.catalog.models import Edition, Rule
from shared.catalog.parameters import ParameterBook, TermValue
from shared.contracts.decisions import (
    ConditionResult,
    EligibilityInputs,
    IncomeCounting,
    ParameterUsed,
)

ParameterLookup = Callable[[str, str, date], ParameterUsed]
"""(parameter id, region, date) -> the value used; raises ParameterNotInForce."""

EQUALITY_POLICY = "income_threshold_equality_policy"
EQUAL_IS_ELIGIBLE = "equal_is_eligible"
EQUAL_IS_NOT_ELIGIBLE = "equal_is_not_eligible"
RULE_DEFAULT = "rule_default"


class ParameterMissing(Exception):
    """A parameter a rule needs has no usable value (wraps the catalog error)."""

    def __init__(self, parameter: str, region: str, on_date: date, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.region = region
        self.on_date = on_date


def _text(value: object) -> str:
    if isinstance(value, TermValue):
        return f"{value.amount} {value.unit.value}"
    if isinstance(value, tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def book_lookup(book: ParameterBook) -> ParameterLookup:
    """A lookup over a ParameterBook (the value in force on the date, for the region)."""

    def lookup(parameter: str, region: str, on_date: date) -> ParameterUsed:
        resolved = book.lookup(parameter, region, on_date)
        return ParameterUsed(
            parameter=parameter,
            region=region,
            on_date=on_date,
            value=_text(resolved.value),
            record_region=resolved.record.region,
            effective_from=resolved.record.effective_from,
            example=resolved.record.example,
        )

    return lookup


def recorded_lookup(recorded: tuple[ParameterUsed, ...]) -> ParameterLookup:
    """A lookup that answers only with the values a decision recorded (for re-evaluation)."""
    by_id = {p.parameter: p for p in recorded}

    def lookup(parameter: str, region: str, on_date: date) -> ParameterUsed:
        try:
            return by_id[parameter]
        except KeyError:
            raise ParameterNotInForce(parameter, region, on_date) from None

    return lookup


def rule_limit(edition: Edition, rule_id: str, name: str) -> int | None:
    for rule in edition.rules or ():
        if rule.id == rule_id:
            return rule.limits.get(name)
    return None


@dataclass
class RuleContext:
    service_id: str
    edition: Edition
    key: str
    """The catalog rule id, or `ground:<id>` when the condition is stated only as a ground."""
    text: str
    inputs: EligibilityInputs
    lookup: ParameterLookup
    used: dict[str, ParameterUsed] = field(default_factory=dict)
    income: list[IncomeCounting] = field(default_factory=list)
    """How each income test counted income (recorded on the evaluation)."""

    @property
    def rule(self) -> Rule | None:
        """The catalog rule being evaluated (None when the condition is stated only as a ground)."""
        return next((r for r in self.edition.rules if r.id == self.key), None)

    @property
    def citation(self) -> str:
        e = self.edition
        return f"{e.act} ({e.source.file} {e.source.lines}), edition {e.id}, {self.key}: {self.text}"

    def parameter(self, parameter_id: str) -> str:
        inputs = self.inputs
        try:
            used = self.lookup(parameter_id, inputs.region, inputs.application_date)
        except CatalogError as exc:
            raise ParameterMissing(parameter_id, inputs.region, inputs.application_date, str(exc)) from exc
        self.used[parameter_id] = used
        return used.value

    def limit(self, name: str) -> int:
        """A number the seed states for this rule (catalog `limits`), never a literal in code."""
        value = rule_limit(self.edition, self.key, name)
        if value is None:
            inputs = self.inputs
            raise ParameterMissing(
                f"{self.key}.limits.{name}",
                inputs.region,
                inputs.application_date,
                f"edition {self.edition.id} rule {self.key!r} states no limit {name!r}",
            )
        return value

    def decimal(self, parameter_id: str) -> Decimal:
        return Decimal(self.parameter(parameter_id))

    def equality_eligible(self, default: bool) -> bool:
        """The income-threshold equality policy in force; the rule's own reading if none is."""
        inputs = self.inputs
        try:
            used = self.lookup(EQUALITY_POLICY, inputs.region, inputs.application_date)
        except CatalogError:
            used = ParameterUsed(
                parameter=EQUALITY_POLICY,
                region=inputs.region,
                on_date=inputs.application_date,
                value=EQUAL_IS_ELIGIBLE if default else EQUAL_IS_NOT_ELIGIBLE,
                record_region=RULE_DEFAULT,
                effective_from=inputs.application_date,
                example=False,
            )
        self.used[EQUALITY_POLICY] = used
        return used.value != EQUAL_IS_NOT_ELIGIBLE

    def result(
        self, condition: str, text: str, holds: bool | None, detail: str, grounds: tuple[str, ...] = ()
    ) -> ConditionResult:
        catalog_grounds = {g.id for g in (*self.edition.refusal_grounds, *self.edition.termination_grounds)}
        ground = next((g for g in grounds if g in catalog_grounds), None)
        return ConditionResult(
            id=condition,
            rule_id=self.key,
            text=text,
            holds=holds,
            detail=detail,
            ground_id=ground,
            citation=self.citation,
        )


Evaluator = Callable[[RuleContext], list[ConditionResult]]
