"""Cross-reference checks of a service's editions against the catalog's reference data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.catalog.conditions import (
    AgeAtLeast,
    AgeUnder,
    ApplicantTypeIn,
    CategoryIn,
    ChannelIn,
    Condition,
    Representative,
    StatusIn,
    SubtypeIn,
    iter_atoms,
)
from shared.catalog.errors import CatalogIssue
from shared.catalog.models import Edition, QualityIndicatorProfile, Service
from shared.catalog.vocabulary import NATIONAL, GroundEffect

OF_EDITION = "channel of this edition"


@dataclass(frozen=True)
class KnownIds:
    """The ids a service file may refer to."""

    regions: frozenset[str]
    channels: frozenset[str]
    actors: frozenset[str]
    legal_acts: frozenset[str]
    parameters: frozenset[str]
    office_hours: frozenset[str]
    quality_profiles: dict[str, QualityIndicatorProfile]
    statuses: frozenset[str]
    applicant_types: frozenset[str]
    categories: frozenset[str]


class _Checker:
    def __init__(self, file: str, issues: list[CatalogIssue]) -> None:
        self.file = file
        self.issues = issues

    def need(self, value: str | None, known: Iterable[str], path: str, what: str) -> None:
        if value is not None and value not in known:
            self.issues.append(CatalogIssue(self.file, path, f"unknown {what} {value!r}"))

    def fail(self, path: str, reason: str) -> None:
        self.issues.append(CatalogIssue(self.file, path, reason))


def check_service(service: Service, known: KnownIds, file: str, issues: list[CatalogIssue]) -> None:
    """Record an issue for every id in the service's editions that the catalog does not define."""
    check = _Checker(file, issues)
    for i, edition in enumerate(service.editions):
        at = f"editions[{i}]"
        _check_header(check, known, edition, at)
        _check_documents(check, known, service, edition, at)
        _check_terms(check, known, service, edition, at)
        _check_actors_and_rules(check, known, edition, at)
        _check_quality(check, known, edition, at)


def _check_header(check: _Checker, known: KnownIds, edition: Edition, at: str) -> None:
    check.need(edition.region, known.regions | {NATIONAL}, f"{at}.region", "region")
    for key in ("act", "amends", "amended_by", "first_approved_by"):
        check.need(getattr(edition, key), known.legal_acts, f"{at}.{key}", "legal act")
    for i, channel in enumerate(edition.channels):
        check.need(channel, known.channels, f"{at}.channels[{i}]", "channel")
    for i, profile in enumerate(edition.office_hours):
        check.need(profile, known.office_hours, f"{at}.office_hours[{i}]", "office hours profile")


def _check_condition(
    check: _Checker, known: KnownIds, service: Service, edition: Edition, condition: Condition, path: str
) -> None:
    for atom in iter_atoms(condition):
        if isinstance(atom, ChannelIn):
            for c in atom.channel:
                check.need(c, edition.channels, path, OF_EDITION)
        elif isinstance(atom, SubtypeIn):
            for s in atom.subtype:
                check.need(s, service.subtypes, path, "subtype")
        elif isinstance(atom, StatusIn):
            for s in atom.status:
                check.need(s, known.statuses, path, "status code (see conditions.yaml)")
        elif isinstance(atom, ApplicantTypeIn):
            for t in atom.applicant_type:
                check.need(t, known.applicant_types, path, "applicant type (see conditions.yaml)")
        elif isinstance(atom, CategoryIn):
            for c in atom.category:
                check.need(c, known.categories, path, "category code (see conditions.yaml)")
        else:
            assert isinstance(atom, (Representative, AgeUnder, AgeAtLeast))


def _check_documents(check: _Checker, known: KnownIds, service: Service, edition: Edition, at: str) -> None:
    for i, doc in enumerate(edition.documents):
        _check_condition(
            check, known, service, edition, doc.applies_when, f"{at}.documents[{i}].applies_when"
        )
        for j, channel in enumerate(doc.notarised_copy_at):
            check.need(channel, edition.channels, f"{at}.documents[{i}].notarised_copy_at[{j}]", OF_EDITION)
    if edition.intake_receipt is not None:
        for i, receipt in enumerate(edition.intake_receipt.per_channel):
            check.need(
                receipt.channel, edition.channels, f"{at}.intake_receipt.per_channel[{i}].channel", OF_EDITION
            )


def _check_terms(check: _Checker, known: KnownIds, service: Service, edition: Edition, at: str) -> None:
    if edition.sla is not None:
        sla = edition.sla
        for i, by_channel in enumerate(sla.per_channel):
            check.need(by_channel.channel, edition.channels, f"{at}.sla.per_channel[{i}].channel", OF_EDITION)
        for i, by_subtype in enumerate(sla.per_subtype):
            check.need(by_subtype.subtype, service.subtypes, f"{at}.sla.per_subtype[{i}].subtype", "subtype")
        for i, forwarding in enumerate(sla.forwarding):
            check.need(
                forwarding.from_channel, edition.channels, f"{at}.sla.forwarding[{i}].from", OF_EDITION
            )
            check.need(forwarding.to, known.channels, f"{at}.sla.forwarding[{i}].to", "channel")
        if sla.result_storage is not None:
            check.need(
                sla.result_storage.keeper, known.channels, f"{at}.sla.result_storage.keeper", "channel"
            )
    if edition.queue_limits is not None:
        for i, limits in enumerate(edition.queue_limits.per_channel):
            check.need(
                limits.channel, edition.channels, f"{at}.queue_limits.per_channel[{i}].channel", OF_EDITION
            )


def _check_actors_and_rules(check: _Checker, known: KnownIds, edition: Edition, at: str) -> None:
    for key, steps in (("steps", edition.steps), ("e_channel_steps", edition.e_channel_steps)):
        for i, step in enumerate(steps):
            for j, actor in enumerate(step.actors):
                check.need(actor, known.actors, f"{at}.{key}[{i}].actors[{j}]", "actor")
    if edition.inspection is not None:
        check.need(edition.inspection.actor, known.actors, f"{at}.inspection.actor", "actor")
    for i, rule in enumerate(edition.rules):
        for j, parameter in enumerate(rule.parameters):
            check.need(parameter, known.parameters, f"{at}.rules[{i}].parameters[{j}]", "parameter")
    restoring = [g.id for g in edition.termination_grounds if g.effect is GroundEffect.RESTORE]
    for key, grounds in (
        ("refusal_grounds", edition.refusal_grounds),
        ("termination_grounds", edition.termination_grounds),
    ):
        for i, ground in enumerate(grounds):
            if ground.lifted_by is not None:
                check.need(ground.lifted_by, restoring, f"{at}.{key}[{i}].lifted_by", "restoring ground")
    if edition.complaints is not None:
        review = edition.complaints.review_term
        check.need(review.parameter, known.parameters, f"{at}.complaints.review_term.parameter", "parameter")


def _check_quality(check: _Checker, known: KnownIds, edition: Edition, at: str) -> None:
    profile_id = edition.quality_indicator_profile
    if profile_id is None:
        if edition.quality_indicators:
            check.fail(f"{at}.quality_indicators", "given without a quality_indicator_profile")
        return
    profile = known.quality_profiles.get(profile_id)
    if profile is None:
        check.fail(f"{at}.quality_indicator_profile", f"unknown quality indicator profile {profile_id!r}")
    elif profile.indicators != edition.quality_indicators:
        check.fail(f"{at}.quality_indicators", f"differ from profile {profile_id!r} (they must be its copy)")
