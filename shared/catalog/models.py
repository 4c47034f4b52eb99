"""Pydantic models of the catalog data (strict: unknown keys are errors, values are frozen).

The data files under `data/` mirror these models one to one. A service holds one or more
editions; each edition is self-contained (it carries its own documents, SLA, steps, ...), so the
rules of one version of the law never leak into another.

This module holds the edition and the service; their parts live in `reference_data`,
`sla_models` and `edition_parts` (on `strict`), and every model is importable from here.
"""

from __future__ import annotations

from datetime import date
from typing import Self

from pydantic import Field, model_validator

from shared.catalog.conditions import ApplicationFacts, Requirement
from shared.catalog.edition_parts import (
    ChannelReceipt,
    Complaints,
    Document,
    DocumentAge,
    Form,
    Ground,
    Inspection,
    IntakeReceipt,
    Period,
    Result,
    ReviewTerm,
    Rule,
    SourceCitation,
    Step,
)
from shared.catalog.errors import AmbiguousEdition, NoEditionInForce, UnknownEdition
from shared.catalog.reference_data import (
    Actor,
    ActRegistration,
    ActRepeal,
    Channel,
    GlossaryEntry,
    LegalAct,
    OfficeHoursProfile,
    QualityIndicator,
    QualityIndicatorProfile,
    Region,
    SeedReference,
)
from shared.catalog.representation import NotarisationRule, PowerOfAttorneyRule, Representation
from shared.catalog.sla_models import (
    ChannelQueueLimits,
    ChannelSla,
    Duration,
    Forwarding,
    NotifyAfterDecision,
    QueueLimits,
    ResultStorage,
    Sla,
    SlaExtension,
    SubtypeSla,
)
from shared.catalog.strict import (
    ID_PATTERN,
    Id,
    Strict,
    require_unique,
)
from shared.catalog.vocabulary import (
    NATIONAL,
    Automation,
    Coverage,
    DocType,
    ResultDelivery,
    ServiceCategory,
)


class Edition(Strict):
    """One version of a service's rules, as one seed act gives it, valid over a period."""

    id: Id = Field(pattern=ID_PATTERN)
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
    representation: Representation | None = None
    """What the seed requires of a representative's power of attorney (None: amendment only)."""
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
        require_unique(list(self.channels), "channel")
        require_unique([d.id for d in self.documents], "document")
        require_unique([r.id for r in self.results], "result")
        require_unique([g.id for g in self.refusal_grounds], "refusal ground")
        require_unique([g.id for g in self.termination_grounds], "termination ground")
        require_unique([r.id for r in self.rules], "rule")
        require_unique([f.id for f in self.forms], "form")
        rep = self.representation
        if rep is not None and rep.document is not None:
            doc = next((d for d in self.documents if d.id == rep.document), None)
            if doc is None:
                raise ValueError(f"representation.document {rep.document!r} is not a document of the edition")
            if not doc.required:
                raise ValueError(f"the power of attorney {doc.id!r} is required where the seed requires it")
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
        if self.sla is not None and self.sla.term_parameter is not None:
            ids.add(self.sla.term_parameter)
        if self.complaints is not None:
            ids.add(self.complaints.review_term.parameter)
        return frozenset(ids)


class Service(Strict):
    id: Id = Field(pattern=ID_PATTERN)
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
        require_unique([e.id for e in self.editions], "edition")
        require_unique(list(self.subtypes), "subtype")
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

    @property
    def standard_in_catalog(self) -> bool:
        """False when every edition is known only from an amendment (no documents, channels or
        term): the service cannot be applied for until an administrator adds an edition."""
        return any(e.coverage is not Coverage.AMENDMENT_ONLY for e in self.editions)

    def standard_missing(self, editions: tuple[Edition, ...] | None = None) -> str | None:
        """Why `editions` (default: all) give nothing to apply under: each is known only from an
        amendment. None when one of them carries the standard's text."""
        chosen = self.editions if editions is None else editions
        if any(e.coverage is not Coverage.AMENDMENT_ONLY for e in chosen):
            return None
        known = "; ".join(
            f"standard {e.act}"
            + (f" only from its amendment {e.amended_by}" if e.amended_by else " only in part")
            for e in chosen
        )
        return (
            f"the standard of service {self.id!r} is not in the catalog ({known}): no documents, channels"
            " or term; an administrator must add an edition with the standard's text"
        )

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
    "NotarisationRule",
    "NotifyAfterDecision",
    "OfficeHoursProfile",
    "Period",
    "PowerOfAttorneyRule",
    "QualityIndicator",
    "QualityIndicatorProfile",
    "QueueLimits",
    "Region",
    "Representation",
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
