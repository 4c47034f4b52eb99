"""Machine-evaluable document conditions.

A document's `applies_when` is either the string ``always`` or a mapping with exactly one key:

    all: [cond, ...]            every condition holds
    any: [cond, ...]            at least one holds
    not: cond                   the condition does not hold
    channel: [channel id, ...]  the application came through one of these channels
    subtype: [subtype id, ...]  the application is for one of these sub-services
    status: [status id, ...]    the subject's legal status (citizen, foreigner, stateless, oralman, refugee)
    category: [category id, ...]  at least one of these categories applies to the application
    applicant_type: [type, ...] individual, legal_entity or individual_entrepreneur
    representative: true|false  a proxy acts under a power of attorney
    age_under: N                the subject (the person the service concerns) is younger than N years
    age_at_least: N             the subject is N years old or older

Status, category and applicant-type codes form a closed vocabulary declared in
`data/conditions.yaml`; the loader rejects any other code. Evaluation uses three-valued logic:
a fact that the caller did not supply is unknown, and a condition that depends on it evaluates to
`None` ("an officer must decide") rather than to a guess.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, NonNegativeInt, Tag

ALWAYS = "always"

Truth = bool | None
"""Three-valued truth: True, False or None (unknown)."""


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)


class AllOf(_Node):
    conditions: tuple[Condition, ...] = Field(alias="all", min_length=1)

    def holds(self, facts: ApplicationFacts) -> Truth:
        results = [evaluate(c, facts) for c in self.conditions]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True


class AnyOf(_Node):
    conditions: tuple[Condition, ...] = Field(alias="any", min_length=1)

    def holds(self, facts: ApplicationFacts) -> Truth:
        results = [evaluate(c, facts) for c in self.conditions]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False


class Not(_Node):
    condition: Condition = Field(alias="not")

    def holds(self, facts: ApplicationFacts) -> Truth:
        result = evaluate(self.condition, facts)
        return None if result is None else not result


def _member(value: str | None, allowed: tuple[str, ...]) -> Truth:
    return None if value is None else value in allowed


class ChannelIn(_Node):
    channel: tuple[str, ...] = Field(min_length=1)

    def holds(self, facts: ApplicationFacts) -> Truth:
        return _member(facts.channel, self.channel)


class SubtypeIn(_Node):
    subtype: tuple[str, ...] = Field(min_length=1)

    def holds(self, facts: ApplicationFacts) -> Truth:
        return _member(facts.subtype, self.subtype)


class StatusIn(_Node):
    status: tuple[str, ...] = Field(min_length=1)

    def holds(self, facts: ApplicationFacts) -> Truth:
        return _member(facts.status, self.status)


class ApplicantTypeIn(_Node):
    applicant_type: tuple[str, ...] = Field(min_length=1)

    def holds(self, facts: ApplicationFacts) -> Truth:
        return _member(facts.applicant_type, self.applicant_type)


class CategoryIn(_Node):
    category: tuple[str, ...] = Field(min_length=1)

    def holds(self, facts: ApplicationFacts) -> Truth:
        if facts.categories is None:
            return None
        return any(c in facts.categories for c in self.category)


class Representative(_Node):
    representative: bool

    def holds(self, facts: ApplicationFacts) -> Truth:
        return None if facts.representative is None else facts.representative == self.representative


class AgeUnder(_Node):
    age_under: NonNegativeInt

    def holds(self, facts: ApplicationFacts) -> Truth:
        return None if facts.age is None else facts.age < self.age_under


class AgeAtLeast(_Node):
    age_at_least: NonNegativeInt

    def holds(self, facts: ApplicationFacts) -> Truth:
        return None if facts.age is None else facts.age >= self.age_at_least


ConditionNode = (
    AllOf
    | AnyOf
    | Not
    | ChannelIn
    | SubtypeIn
    | StatusIn
    | ApplicantTypeIn
    | CategoryIn
    | Representative
    | AgeUnder
    | AgeAtLeast
)

_TAGS: dict[type[_Node], str] = {
    AllOf: "all",
    AnyOf: "any",
    Not: "not",
    ChannelIn: "channel",
    SubtypeIn: "subtype",
    StatusIn: "status",
    ApplicantTypeIn: "applicant_type",
    CategoryIn: "category",
    Representative: "representative",
    AgeUnder: "age_under",
    AgeAtLeast: "age_at_least",
}


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return str(next(iter(value))) if len(value) == 1 else None
    if isinstance(value, _Node):
        return _TAGS.get(type(value))
    return None


Condition = Annotated[
    Annotated[Literal["always"], Tag("always")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")]
    | Annotated[ChannelIn, Tag("channel")]
    | Annotated[SubtypeIn, Tag("subtype")]
    | Annotated[StatusIn, Tag("status")]
    | Annotated[ApplicantTypeIn, Tag("applicant_type")]
    | Annotated[CategoryIn, Tag("category")]
    | Annotated[Representative, Tag("representative")]
    | Annotated[AgeUnder, Tag("age_under")]
    | Annotated[AgeAtLeast, Tag("age_at_least")],
    Discriminator(
        _condition_tag,
        custom_error_type="invalid_condition",
        custom_error_message=(
            "a condition is 'always' or a mapping with exactly one of the keys: "
            "all, any, not, channel, subtype, status, applicant_type, category, representative, "
            "age_under, age_at_least"
        ),
    ),
]

for _model in (AllOf, AnyOf, Not):
    _model.model_rebuild()


@dataclass(frozen=True)
class ApplicationFacts:
    """What is known about an application. `None` means "not known", never "false".

    `categories` is the complete set of categories that apply when given; `None` means the
    categories were not assessed. `age` is the age in full years of the subject (the person the
    service concerns, e.g. the disabled child) on the application date.
    """

    channel: str | None = None
    subtype: str | None = None
    status: str | None = None
    applicant_type: str | None = None
    representative: bool | None = None
    age: int | None = None
    categories: frozenset[str] | None = None


def evaluate(condition: Condition, facts: ApplicationFacts) -> Truth:
    """Evaluate a condition against the facts (three-valued)."""
    if isinstance(condition, str):
        assert condition == ALWAYS
        return True
    return condition.holds(facts)


def iter_atoms(condition: Condition) -> Iterator[ConditionNode]:
    """Every leaf condition (not all/any/not) inside `condition`."""
    if isinstance(condition, str):
        return
    if isinstance(condition, (AllOf, AnyOf)):
        for child in condition.conditions:
            yield from iter_atoms(child)
    elif isinstance(condition, Not):
        yield from iter_atoms(condition.condition)
    else:
        yield condition


class Requirement(StrEnum):
    """Whether a document must be submitted for given facts."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    NOT_APPLICABLE = "not_applicable"
    UNDETERMINED = "undetermined"
    """The facts do not say; an officer decides (and the system records who decided)."""


class VocabularyEntry(_Node):
    id: str
    name_en: str
    note: str | None = None


class ConditionVocabulary(_Node):
    """The closed vocabulary of codes that conditions may use (data/conditions.yaml)."""

    statuses: tuple[VocabularyEntry, ...]
    applicant_types: tuple[VocabularyEntry, ...]
    categories: tuple[VocabularyEntry, ...]
    notes: tuple[str, ...] = ()

    def status_ids(self) -> frozenset[str]:
        return frozenset(e.id for e in self.statuses)

    def applicant_type_ids(self) -> frozenset[str]:
        return frozenset(e.id for e in self.applicant_types)

    def category_ids(self) -> frozenset[str]:
        return frozenset(e.id for e in self.categories)
