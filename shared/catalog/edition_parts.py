"""The content of an edition other than its terms: the seed citation, documents and receipts,
steps and inspection, results, refusal and termination grounds, rules, complaints and forms.
"""

from __future__ import annotations

import re

from pydantic import Field, PositiveInt, field_validator

from shared.catalog.conditions import ApplicationFacts, Condition, Requirement, evaluate
from shared.catalog.sla_models import Duration
from shared.catalog.strict import ID_PATTERN, Id, Strict
from shared.catalog.vocabulary import (
    DocumentAgeUnit,
    DurationUnit,
    GroundEffect,
    IncomePeriod,
    Outcome,
)

_LINES = re.compile(r"^L(\d+)(?:-(\d+))?$")


class SourceCitation(Strict):
    """Where the edition's text is in the seeds: file and line range (plus named parts)."""

    file: str
    lines: str
    main_text_lines: str | None = None
    parts: dict[str, str] = Field(default_factory=dict)
    """Named line ranges inside `lines` (quality_table, step_tables, village_akims_table, ...)."""

    @field_validator("lines")
    @classmethod
    def _line_range(cls, value: str) -> str:
        match = _LINES.match(value)
        if match is None:
            raise ValueError("expected a seed line range such as 'L78-1327'")
        if match.group(2) is not None and int(match.group(2)) < int(match.group(1)):
            raise ValueError("line range ends before it starts")
        return value

    @property
    def line_range(self) -> tuple[int, int]:
        match = _LINES.match(self.lines)
        assert match is not None
        first = int(match.group(1))
        return first, int(match.group(2) or first)


class DocumentAge(Strict):
    value: PositiveInt
    unit: DocumentAgeUnit


class Document(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    name_en: str
    name_kk: str
    required: bool
    """True: must be submitted whenever `applies_when` holds. False: optional (accepted if given)."""
    condition_text: str | None = None
    """The condition as the seed extraction wrote it (kept verbatim)."""
    applies_when: Condition = "always"
    """Machine-evaluable form of `condition_text` (see shared.catalog.conditions)."""
    notarised_copy_at: tuple[Id, ...] = ()
    """Channels where a notarised copy is needed instead of showing the original."""
    max_age: DocumentAge | None = None
    """The document must not be older than this at submission."""

    def requirement(self, facts: ApplicationFacts) -> Requirement:
        applies = evaluate(self.applies_when, facts)
        if applies is None:
            return Requirement.UNDETERMINED
        if not applies:
            return Requirement.NOT_APPLICABLE
        return Requirement.REQUIRED if self.required else Requirement.OPTIONAL


class ChannelReceipt(Strict):
    channel: Id
    type: str | None
    fields: tuple[str, ...] = ()
    note: str | None = None
    source: str | None = None


class IntakeReceipt(Strict):
    type: str
    fields: tuple[str, ...] = ()
    note: str | None = None
    source: str | None = None
    per_channel: tuple[ChannelReceipt, ...] = ()


class Step(Strict):
    actors: tuple[Id, ...] = Field(min_length=1)
    """Who performs the step; several = either one, depending on the channel."""
    action: str
    duration: Duration | None = None
    note: str | None = None


class Inspection(Strict):
    actor: Id | None
    what: str
    duration: Duration | None = None
    produces: tuple[str, ...] = ()
    conditional: bool
    note: str | None = None


class Result(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    name_en: str
    outcome: Outcome
    form: str


class Period(Strict):
    value: PositiveInt
    unit: DurationUnit


class Ground(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    text: str
    """An English summary of the ground, ending with the seed lines it comes from."""
    text_kk: str | None = None
    """The ground as the seed states it in Kazakh: a quote from the cited seed lines (whitespace
    normalised only), for letters to applicants. None: the seed has no Kazakh line to quote."""
    effect: GroundEffect
    period: Period | None = None
    lifted_by: Id | None = None
    """A ground of effect `restore` in the same edition whose fact ends this one (a refusal of
    work that bars assistance until the person is placed in a job, 003 L121-133)."""


class ListEntry(Strict):
    """One entry of a closed list the seed gives for a rule (e.g. who is exempt from registering
    as unemployed), with the seed lines it comes from and the numbers the seed states for it."""

    id: Id = Field(pattern=ID_PATTERN)
    text: str
    lines: str
    limits: dict[Id, int] = Field(default_factory=dict)


class Rule(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    text: str
    parameters: tuple[Id, ...] = ()
    limits: dict[Id, int] = Field(default_factory=dict)
    """Numbers the seed itself states for this rule (e.g. an age limit in years), so that no
    evaluator writes them as literals; values the seeds do not give are `parameters`."""
    exemptions: tuple[ListEntry, ...] = ()
    """The closed list of exemptions the seed gives for the rule; nothing else exempts."""
    income_period: IncomePeriod | None = None
    """Which period's income the seed says is counted (None: the seed does not say)."""


class ReviewTerm(Strict):
    days: PositiveInt | None
    """Always None in the seeds: no seed gives a complaint review term in days."""
    parameter: Id
    legal_reference: str


class Complaints(Strict):
    to: tuple[str, ...]
    review_term: ReviewTerm
    receipt: str | None = None
    court: str | None = None
    notes: str | None = None


class Form(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    name_en: str
    fields: tuple[str, ...]
