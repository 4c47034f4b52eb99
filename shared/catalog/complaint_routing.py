"""Complaint routing as data (`data/complaint_routing.yaml`): which body reviews a complaint, and
which office of that body, by the contested edition's act, the service and the subject.

`load_complaint_routing(catalog)` reads the file strictly and checks every act, service and body
against the catalog; `ComplaintRouting.route(...)` is pure. See the data file for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.catalog import Catalog
from shared.catalog.data_files import read_model
from shared.catalog.errors import CatalogIssue, CatalogLoadError
from shared.catalog.models import Edition

FILE = "complaint_routing.yaml"
Subject = Literal["decision", "intake_refusal", "official_action", "official_inaction"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Body(_Strict):
    id: str
    office: str = Field(description="pattern over {region}, {region_slug} and {office}")
    note: str


class Rule(_Strict):
    act: str
    services: tuple[str, ...] = ()
    """Empty: every service of the act."""
    subjects: tuple[Subject, ...] = ()
    """Empty: every subject."""
    at_tson: bool | None = None
    body: str | None = None
    refuse: str | None = None
    citation: str

    def matches(self, act: str, service_id: str, subject: str, at_tson: bool) -> bool:
        return (
            self.act == act
            and (not self.services or service_id in self.services)
            and (not self.subjects or subject in self.subjects)
            and (self.at_tson is None or self.at_tson == at_tson)
        )


class Review(_Strict):
    term_parameter: str
    extended_term_parameter: str


class RoutingFile(_Strict):
    bodies: tuple[Body, ...]
    rules: tuple[Rule, ...]
    review: Review


@dataclass(frozen=True)
class Routed:
    """Where a complaint goes: the body (catalog actor id), its office, and why."""

    body: str
    office: str
    citation: str


@dataclass(frozen=True)
class NoProcedure:
    """The contested act gives no complaint procedure (refused, with the reason and citation)."""

    reason: str
    citation: str


class ComplaintRouting:
    def __init__(self, data: RoutingFile) -> None:
        self.data = data
        self._bodies = {b.id: b for b in data.bodies}

    @property
    def review(self) -> Review:
        return self.data.review

    def route(
        self, edition: Edition, service_id: str, subject: str, *, region: str, office: str, at_tson: bool
    ) -> Routed | NoProcedure:
        """The body and office reviewing a complaint about `office`'s handling of `service_id`
        under `edition` (first matching rule; an edition without a complaints section has none)."""
        if edition.complaints is None or not edition.complaints.to:
            return NoProcedure(
                f"the {edition.id} edition of {service_id} gives no complaint procedure",
                f"catalog services/{service_id}.yaml, edition {edition.id}: no complaints addressee",
            )
        for rule in self.data.rules:
            if not rule.matches(edition.act, service_id, subject, at_tson):
                continue
            if rule.refuse is not None or rule.body is None:
                return NoProcedure(rule.refuse or "no complaint procedure", rule.citation)
            body = self._bodies[rule.body]
            slug = region.replace("_", "-")
            where = body.office.format(region=region, region_slug=slug, office=office)
            return Routed(body.id, where, rule.citation)
        return NoProcedure(
            f"no routing rule for act {edition.act}, service {service_id}, subject {subject}",
            f"{FILE}: no matching rule",
        )


def _check(data: RoutingFile, catalog: Catalog, issues: list[CatalogIssue]) -> None:
    actors = {a.id for a in catalog.actors}
    acts = {a.id for a in catalog.legal_acts}
    services = {s.id for s in catalog.services}
    bodies = {b.id for b in data.bodies}
    for i, body in enumerate(data.bodies):
        if body.id not in actors:
            issues.append(CatalogIssue(FILE, f"bodies[{i}].id", f"unknown actor {body.id!r}"))
    for i, rule in enumerate(data.rules):
        if rule.act not in acts:
            issues.append(CatalogIssue(FILE, f"rules[{i}].act", f"unknown legal act {rule.act!r}"))
        for service in rule.services:
            if service not in services:
                issues.append(CatalogIssue(FILE, f"rules[{i}].services", f"unknown service {service!r}"))
        if (rule.body is None) == (rule.refuse is None):
            issues.append(CatalogIssue(FILE, f"rules[{i}]", "give exactly one of body and refuse"))
        if rule.body is not None and rule.body not in bodies:
            issues.append(CatalogIssue(FILE, f"rules[{i}].body", f"unknown body {rule.body!r}"))
    for name in ("term_parameter", "extended_term_parameter"):
        if getattr(data.review, name) not in catalog.parameters:
            issues.append(CatalogIssue(FILE, f"review.{name}", "unknown parameter"))


def load_complaint_routing(catalog: Catalog, path: Path | None = None) -> ComplaintRouting:
    """Read and check the routing file (default: the catalog's data directory)."""
    return _load(catalog, path or catalog.data_dir / FILE)


@lru_cache(maxsize=4)
def _load(catalog: Catalog, path: Path) -> ComplaintRouting:
    issues: list[CatalogIssue] = []
    data = read_model(path, FILE, RoutingFile, issues)
    if data is not None:
        _check(data, catalog, issues)
    if data is None or issues:
        raise CatalogLoadError(issues)
    return ComplaintRouting(data)
