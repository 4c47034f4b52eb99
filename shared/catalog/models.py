"""Pydantic models of the catalog data (strict: unknown keys are errors, values are frozen).

The data files under `data/` mirror these models one to one. A service holds one or more
editions; each edition is self-contained (it carries its own documents, SLA, steps, ...), so the
rules of one version of the law never leak into another.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from shared.catalog.conditions import ApplicationFacts, Condition, Requirement, evaluate
from shared.catalog.errors import AmbiguousEdition, NoEditionInForce, UnknownEdition
from shared.catalog.vocabulary import (
    NATIONAL,
    Automation,
    ClockStart,
    Coverage,
    DayExclusion,
    DocType,
    DocumentAgeUnit,
    DurationUnit,
    GroundEffect,
    Outcome,
    RegionKind,
    ResultDelivery,
    ServiceCategory,
    SlaUnit,
)

_ID = r"^[a-z][a-z0-9_]*$"
_LINES = re.compile(r"^L(\d+)(?:-(\d+))?$")

Id = str


class Strict(BaseModel):
    """Base of every catalog model: unknown keys are errors; instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True, validate_by_name=True)


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"duplicate {what} id {i!r}")
        seen.add(i)


# --------------------------------------------------------------------------- reference data


class Region(Strict):
    id: Id = Field(pattern=_ID)
    name_kk: str
    name_en: str
    kind: RegionKind
    time_zone: str
    """IANA time zone as zoneinfo names it (all of Kazakhstan is UTC+5 since 2024-03-01)."""
    established: date | None = None
    note: str | None = None


class Channel(Strict):
    id: Id = Field(pattern=_ID)
    name_en: str
    name_kk: str | None = None


class Actor(Strict):
    id: Id = Field(pattern=_ID)
    name_en: str
    terms: str | None = None
    may: tuple[str, ...] = ()


class ActRegistration(Strict):
    date: date
    number: str
    by: str
    note: str | None = None


class ActRepeal(Strict):
    act: str
    date: date
    note: str | None = None


class SeedReference(Strict):
    file: str
    lines: str


class LegalAct(Strict):
    id: Id = Field(pattern=_ID)
    kind: str
    issuer: str
    number: str
    date: date
    registered: ActRegistration | None = None
    approves: str
    in_force_note: str
    repealed_by: ActRepeal | None = None
    source: SeedReference
    common_edit: str | None = None


class OfficeHoursProfile(Strict):
    id: Id = Field(pattern=_ID)
    text: str
    source: str
    suspect: bool = False


class QualityIndicator(Strict):
    id: Id = Field(pattern=_ID)
    number: str
    name_en: str
    target_percent: Decimal | None = None
    """The "normative value" printed in the seed; None = blank (set yearly: parameter quality_targets)."""
    target_range_percent: tuple[Decimal, Decimal] | None = None
    threshold_min: PositiveInt | None = None
    suspect: bool = False
    note: str | None = None


class QualityIndicatorProfile(Strict):
    id: Id = Field(pattern=_ID)
    used_in: str
    source: str
    targets_set_by: str | None = None
    note: str | None = None
    indicators: tuple[QualityIndicator, ...]

    @model_validator(mode="after")
    def _ids_unique(self) -> Self:
        _unique([i.id for i in self.indicators], "indicator")
        return self


class GlossaryEntry(Strict):
    term: str
    gloss: str


# --------------------------------------------------------------------------- edition content


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
    id: Id = Field(pattern=_ID)
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


class Duration(Strict):
    max: PositiveInt
    unit: DurationUnit
    note: str | None = None


def _total_and_unit(total: int | None, unit: object | None) -> None:
    if (total is None) != (unit is None):
        raise ValueError("total and unit must both be given or both be null")


class ChannelSla(Strict):
    """A channel-specific total term overriding the edition's base term."""

    channel: Id
    total: PositiveInt | None
    unit: SlaUnit | None
    excludes: tuple[DayExclusion, ...] | None = None
    """None: the base `excludes` apply."""
    note: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> Self:
        _total_and_unit(self.total, self.unit)
        return self


class SubtypeSla(Strict):
    subtype: Id
    total: PositiveInt
    unit: SlaUnit
    excludes: tuple[DayExclusion, ...] | None = None
    note: str | None = None


class SlaExtension(Strict):
    """The term may be extended; `max_total` is the longest total term, counted from the start."""

    max_total: PositiveInt
    unit: DurationUnit
    condition: str


class Forwarding(Strict):
    from_channel: Id = Field(alias="from")
    to: Id
    what: str
    max: PositiveInt | None = None
    unit: DurationUnit | None = None
    excludes: tuple[DayExclusion, ...] = ()
    cadence: str | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> Self:
        _total_and_unit(self.max, self.unit)
        return self


class NotifyAfterDecision(Strict):
    max: PositiveInt
    unit: DurationUnit
    who: str
    source: str | None = None


class ResultStorage(Strict):
    keeper: Id
    max: PositiveInt
    unit: DurationUnit
    then: str


class Sla(Strict):
    total: PositiveInt | None
    unit: SlaUnit | None
    starts_at: ClockStart | None
    excludes: tuple[DayExclusion, ...] = ()
    per_channel: tuple[ChannelSla, ...] = ()
    per_subtype: tuple[SubtypeSla, ...] = ()
    extension: SlaExtension | None = None
    forwarding: tuple[Forwarding, ...] = ()
    notify_after_decision: NotifyAfterDecision | None = None
    result_storage: ResultStorage | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _total_and_unit(self.total, self.unit)
        _unique([c.channel for c in self.per_channel], "per_channel channel")
        _unique([s.subtype for s in self.per_subtype], "per_subtype subtype")
        return self


class ChannelQueueLimits(Strict):
    channel: Id
    submit_wait_max_min: PositiveInt | None = None
    result_wait_max_min: PositiveInt | None = None
    service_time_max_min: PositiveInt | None = None
    note: str | None = None


class QueueLimits(Strict):
    submit_wait_max_min: PositiveInt | None = None
    result_wait_max_min: PositiveInt | None = None
    service_time_max_min: PositiveInt | None = None
    wait_formula: str | None = None
    wait_minutes_per_person: PositiveInt | None = None
    """Machine form of `wait_formula`: max wait = this many minutes x people ahead in the queue."""
    per_channel: tuple[ChannelQueueLimits, ...] = ()
    note: str | None = None


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
    id: Id = Field(pattern=_ID)
    name_en: str
    outcome: Outcome
    form: str


class Period(Strict):
    value: PositiveInt
    unit: DurationUnit


class Ground(Strict):
    id: Id = Field(pattern=_ID)
    text: str
    effect: GroundEffect
    period: Period | None = None


class Rule(Strict):
    id: Id = Field(pattern=_ID)
    text: str
    parameters: tuple[Id, ...] = ()
    limits: dict[Id, int] = Field(default_factory=dict)
    """Numbers the seed itself states for this rule (e.g. an age limit in years), so that no
    evaluator writes them as literals; values the seeds do not give are `parameters`."""


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
    id: Id = Field(pattern=_ID)
    name_en: str
    fields: tuple[str, ...]


class Edition(Strict):
    """One version of a service's rules, as one seed act gives it, valid over a period."""

    id: Id = Field(pattern=_ID)
    region: Id
    """Region id, or "national" for national standards."""
    authority: str
    doc_type: DocType
    act: Id
    amends: Id | None = None
    amended_by: Id | None = None
    first_approved_by: Id | None = None
    effective_from: date
    effective_to: date | None
    """Exclusive end (the date of the repealing act); None = repeal not in the seeds."""
    in_force_note: str
    automation: Automation | None
    coverage: Coverage
    source: SourceCitation
    name_kk_in_edition: str | None = None
    name_en_in_edition: str | None = None
    amendment_edits: tuple[str, ...] = ()

    recipients: str | None = None
    eligibility: tuple[str, ...] = ()
    provider: str | None = None
    channels: tuple[Id, ...] = ()
    documents: tuple[Document, ...] = ()
    intake_receipt: IntakeReceipt | None = None
    sla: Sla | None = None
    queue_limits: QueueLimits | None = None
    steps: tuple[Step, ...] = ()
    e_channel_steps: tuple[Step, ...] = ()
    inspection: Inspection | None = None
    results: tuple[Result, ...] = ()
    result_delivery: tuple[ResultDelivery, ...] = ()
    refusal_grounds: tuple[Ground, ...] = ()
    termination_grounds: tuple[Ground, ...] = ()
    rules: tuple[Rule, ...] = ()
    complaints: Complaints | None = None
    quality_indicator_profile: Id | None = None
    quality_indicators: tuple[QualityIndicator, ...] = ()
    office_hours: tuple[Id, ...] = ()
    forms: tuple[Form, ...] = ()
    notes: tuple[str, ...] = ()
    """Drafting errors, contradictions and decisions recorded from the seeds (kept visible)."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        _unique(list(self.channels), "channel")
        _unique([d.id for d in self.documents], "document")
        _unique([r.id for r in self.results], "result")
        _unique([g.id for g in self.refusal_grounds], "refusal ground")
        _unique([g.id for g in self.termination_grounds], "termination ground")
        _unique([r.id for r in self.rules], "rule")
        _unique([f.id for f in self.forms], "form")
        return self

    def in_force_on(self, on_date: date) -> bool:
        """True when `on_date` lies in [effective_from, effective_to)."""
        return self.effective_from <= on_date and (self.effective_to is None or on_date < self.effective_to)

    def applies_to_region(self, region: str) -> bool:
        return self.region in (region, NATIONAL)

    def document(self, document_id: str) -> Document:
        for doc in self.documents:
            if doc.id == document_id:
                return doc
        raise KeyError(f"edition {self.id!r} has no document {document_id!r}")

    def document_requirements(self, facts: ApplicationFacts) -> dict[str, Requirement]:
        """For every document of the edition: required, optional, not applicable or undetermined."""
        return {doc.id: doc.requirement(facts) for doc in self.documents}

    @property
    def parameter_ids(self) -> frozenset[str]:
        """Every parameter named by the edition's rules and complaint review term."""
        ids = {p for rule in self.rules for p in rule.parameters}
        if self.complaints is not None:
            ids.add(self.complaints.review_term.parameter)
        return frozenset(ids)


class Service(Strict):
    id: Id = Field(pattern=_ID)
    name_en: str
    name_kk: str
    name_ru: str | None = None
    """Usual Russian name supplied from general knowledge; NOT in the seeds."""
    category: ServiceCategory
    subtypes: tuple[Id, ...] = ()
    notes: tuple[str, ...] = ()
    """Notes about the service as a whole (edition-specific notes are on the editions)."""
    editions: tuple[Edition, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _unique([e.id for e in self.editions], "edition")
        _unique(list(self.subtypes), "subtype")
        return self

    def edition(self, edition_id: str) -> Edition:
        for edition in self.editions:
            if edition.id == edition_id:
                return edition
        raise UnknownEdition(self.id, edition_id)

    def editions_in_force(self, region: str, on_date: date) -> tuple[Edition, ...]:
        """Every edition whose region is `region` or national and whose period contains `on_date`.

        Ordered by precedence: regional before national, full texts before amendment-only ones.
        """
        matching = [e for e in self.editions if e.applies_to_region(region) and e.in_force_on(on_date)]
        return tuple(sorted(matching, key=_precedence))

    def edition_in_force(self, region: str, on_date: date) -> Edition:
        """The edition that governs an application made in `region` on `on_date`.

        Per the EDITION SELECTION rule of the catalog: editions of the region or national whose
        [effective_from, effective_to) contains the date. When a regional and a national edition
        both apply (e.g. Akmola 2012 regulation + standard 394) the regional one is returned (it
        supplies steps and timings; `editions_in_force` gives both). Raises `NoEditionInForce`
        when none applies and `AmbiguousEdition` when two apply with equal precedence.
        """
        candidates = self.editions_in_force(region, on_date)
        if not candidates:
            raise NoEditionInForce(self.id, region, on_date)
        best = [e for e in candidates if _precedence(e) == _precedence(candidates[0])]
        if len(best) > 1:
            raise AmbiguousEdition(self.id, region, on_date, [e.id for e in best])
        return best[0]

    def latest_edition(self) -> Edition:
        return max(self.editions, key=lambda e: e.effective_from)


def _precedence(edition: Edition) -> tuple[int, int]:
    return (1 if edition.region == NATIONAL else 0, 0 if edition.coverage is Coverage.FULL else 1)


__all__ = [
    "ActRegistration",
    "ActRepeal",
    "Actor",
    "Channel",
    "ChannelQueueLimits",
    "ChannelReceipt",
    "ChannelSla",
    "Complaints",
    "Document",
    "DocumentAge",
    "Duration",
    "Edition",
    "Form",
    "Forwarding",
    "GlossaryEntry",
    "Ground",
    "Inspection",
    "IntakeReceipt",
    "LegalAct",
    "NotifyAfterDecision",
    "OfficeHoursProfile",
    "Period",
    "QualityIndicator",
    "QualityIndicatorProfile",
    "QueueLimits",
    "Region",
    "Result",
    "ResultStorage",
    "ReviewTerm",
    "Rule",
    "SeedReference",
    "Service",
    "Sla",
    "SlaExtension",
    "SourceCitation",
    "Step",
    "Strict",
    "SubtypeSla",
]
