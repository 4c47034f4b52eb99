"""Load and validate the catalog data files.

`load_catalog(path=None)` reads a data directory (default: the package's `data/`, cached),
validates every file strictly (unknown keys, wrong types, YAML aliases and duplicate keys are
errors) and checks cross-references (channels, actors, regions, legal acts, parameters, profiles,
condition codes, subtypes). Every problem is reported with the file, the path inside it and the
reason, e.g. ``services/housing_assistance.yaml: editions[0].sla.total: Input should be ...``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from shared.catalog.catalog import Catalog, CatalogHeader
from shared.catalog.conditions import ConditionVocabulary
from shared.catalog.cross_references import KnownIds, check_service
from shared.catalog.data_files import check_unique, format_location, read_model
from shared.catalog.editions import AdoptionRecord
from shared.catalog.errors import CatalogError, CatalogIssue, CatalogLoadError
from shared.catalog.models import (
    Actor,
    Channel,
    GlossaryEntry,
    LegalAct,
    OfficeHoursProfile,
    QualityIndicatorProfile,
    Region,
    Service,
    Strict,
)
from shared.catalog.parameters import ParameterBook, ParameterDefinition, ParameterRecord
from shared.catalog.vocabulary import NATIONAL

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"
EXAMPLE_ADOPTIONS_FILE = "example_adoptions.yaml"
EXAMPLE_PARAMETERS_FILE = "example_parameters.yaml"


# ----------------------------------------------------------------------------- file models


class RegionsFile(Strict):
    regions: tuple[Region, ...] = Field(min_length=1)


class ChannelsFile(Strict):
    channels: tuple[Channel, ...] = Field(min_length=1)


class ActorsFile(Strict):
    actors: tuple[Actor, ...] = Field(min_length=1)


class LegalActsFile(Strict):
    legal_acts: tuple[LegalAct, ...] = Field(min_length=1)


class ParametersFile(Strict):
    parameters: tuple[ParameterDefinition, ...] = Field(min_length=1)


class OfficeHoursFile(Strict):
    office_hours_profiles: tuple[OfficeHoursProfile, ...] = Field(min_length=1)


class QualityProfilesFile(Strict):
    quality_indicator_profiles: tuple[QualityIndicatorProfile, ...] = Field(min_length=1)


class GlossaryFile(Strict):
    glossary: tuple[GlossaryEntry, ...] = ()


class AdoptionGroup(Strict):
    """One edition adopted for several regions from one date (expands to AdoptionRecords)."""

    service: str
    edition: str
    regions: tuple[str, ...] = Field(min_length=1)
    effective_from: date
    effective_to: date | None = None
    adopted_by: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    example: bool


class ExampleAdoptionsFile(Strict):
    notice: str
    adoptions: tuple[AdoptionGroup, ...]


class ExampleParametersFile(Strict):
    notice: str
    records: tuple[ParameterRecord, ...]


@dataclass(frozen=True)
class _ReferenceFiles:
    header: CatalogHeader
    regions: RegionsFile
    channels: ChannelsFile
    actors: ActorsFile
    legal_acts: LegalActsFile
    parameters: ParametersFile
    vocabulary: ConditionVocabulary
    office_hours: OfficeHoursFile
    quality: QualityProfilesFile
    glossary: GlossaryFile

    def known_ids(self) -> KnownIds:
        return KnownIds(
            regions=frozenset(r.id for r in self.regions.regions),
            channels=frozenset(c.id for c in self.channels.channels),
            actors=frozenset(a.id for a in self.actors.actors),
            legal_acts=frozenset(a.id for a in self.legal_acts.legal_acts),
            parameters=frozenset(p.id for p in self.parameters.parameters),
            office_hours=frozenset(p.id for p in self.office_hours.office_hours_profiles),
            quality_profiles={p.id: p for p in self.quality.quality_indicator_profiles},
            statuses=self.vocabulary.status_ids(),
            applicant_types=self.vocabulary.applicant_type_ids(),
            categories=self.vocabulary.category_ids(),
        )


# ----------------------------------------------------------------------------- loading


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load the catalog from a data directory (default: the shipped data, loaded once and cached).

    Raises CatalogLoadError listing every problem as `file: path: reason`.
    """
    if path is None:
        return _default_catalog()
    return _load(Path(path))


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return _load(DEFAULT_DATA_DIR)


def _load(data_dir: Path) -> Catalog:
    if not data_dir.is_dir():
        raise CatalogLoadError([CatalogIssue(str(data_dir), "", "catalog data directory not found")])
    issues: list[CatalogIssue] = []
    reference = _read_reference_files(data_dir, issues)
    services = _read_services(data_dir, issues)
    if reference is None or issues:
        raise CatalogLoadError(issues)
    _check_reference_files(reference, {s.id for s in services}, issues)
    known = reference.known_ids()
    for service in services:
        check_service(service, known, f"services/{service.id}.yaml", issues)
    if issues:
        raise CatalogLoadError(issues)
    order = {service_id: i for i, service_id in enumerate(reference.header.services)}
    return Catalog(
        header=reference.header,
        regions=reference.regions.regions,
        channels=reference.channels.channels,
        actors=reference.actors.actors,
        legal_acts=reference.legal_acts.legal_acts,
        parameters=reference.parameters.parameters,
        conditions=reference.vocabulary,
        office_hours_profiles=reference.office_hours.office_hours_profiles,
        quality_indicator_profiles=reference.quality.quality_indicator_profiles,
        glossary=reference.glossary.glossary,
        services=sorted(services, key=lambda s: order[s.id]),
        data_dir=data_dir,
    )


def _read_reference_files(data_dir: Path, issues: list[CatalogIssue]) -> _ReferenceFiles | None:
    header = read_model(data_dir / "catalog.yaml", "catalog.yaml", CatalogHeader, issues)
    regions = read_model(data_dir / "regions.yaml", "regions.yaml", RegionsFile, issues)
    channels = read_model(data_dir / "channels.yaml", "channels.yaml", ChannelsFile, issues)
    actors = read_model(data_dir / "actors.yaml", "actors.yaml", ActorsFile, issues)
    legal_acts = read_model(data_dir / "legal_acts.yaml", "legal_acts.yaml", LegalActsFile, issues)
    parameters = read_model(data_dir / "parameters.yaml", "parameters.yaml", ParametersFile, issues)
    vocabulary = read_model(data_dir / "conditions.yaml", "conditions.yaml", ConditionVocabulary, issues)
    office_hours = read_model(
        data_dir / "office_hours_profiles.yaml", "office_hours_profiles.yaml", OfficeHoursFile, issues
    )
    quality = read_model(
        data_dir / "quality_indicator_profiles.yaml",
        "quality_indicator_profiles.yaml",
        QualityProfilesFile,
        issues,
    )
    glossary = read_model(data_dir / "glossary.yaml", "glossary.yaml", GlossaryFile, issues)
    if (
        header is None
        or regions is None
        or channels is None
        or actors is None
        or legal_acts is None
        or parameters is None
        or vocabulary is None
        or office_hours is None
        or quality is None
        or glossary is None
    ):
        return None
    return _ReferenceFiles(
        header, regions, channels, actors, legal_acts, parameters, vocabulary, office_hours, quality, glossary
    )


def _read_services(data_dir: Path, issues: list[CatalogIssue]) -> list[Service]:
    services: list[Service] = []
    for file in sorted((data_dir / "services").glob("*.yaml")):
        name = f"services/{file.name}"
        service = read_model(file, name, Service, issues)
        if service is None:
            continue
        if service.id != file.stem:
            issues.append(
                CatalogIssue(name, "id", f"service id {service.id!r} must equal the file name {file.stem!r}")
            )
        services.append(service)
    return services


def _check_reference_files(files: _ReferenceFiles, service_ids: set[str], issues: list[CatalogIssue]) -> None:
    check_unique(issues, "regions.yaml", "regions", [r.id for r in files.regions.regions])
    check_unique(issues, "channels.yaml", "channels", [c.id for c in files.channels.channels])
    check_unique(issues, "actors.yaml", "actors", [a.id for a in files.actors.actors])
    check_unique(issues, "legal_acts.yaml", "legal_acts", [a.id for a in files.legal_acts.legal_acts])
    check_unique(issues, "parameters.yaml", "parameters", [p.id for p in files.parameters.parameters])
    check_unique(
        issues,
        "office_hours_profiles.yaml",
        "office_hours_profiles",
        [p.id for p in files.office_hours.office_hours_profiles],
    )
    check_unique(
        issues,
        "quality_indicator_profiles.yaml",
        "quality_indicator_profiles",
        [p.id for p in files.quality.quality_indicator_profiles],
    )
    vocabulary = files.vocabulary
    for key, entries in (
        ("statuses", vocabulary.statuses),
        ("applicant_types", vocabulary.applicant_types),
        ("categories", vocabulary.categories),
    ):
        check_unique(issues, "conditions.yaml", key, [e.id for e in entries])

    for i, region in enumerate(files.regions.regions):
        if region.id == NATIONAL:
            issues.append(
                CatalogIssue(
                    "regions.yaml", f"regions[{i}].id", f"{NATIONAL!r} is reserved for national editions"
                )
            )
        try:
            ZoneInfo(region.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            issues.append(
                CatalogIssue(
                    "regions.yaml", f"regions[{i}].time_zone", f"unknown IANA time zone {region.time_zone!r}"
                )
            )

    listed = files.header.services
    check_unique(issues, "catalog.yaml", "services", list(listed))
    for i, service_id in enumerate(listed):
        if service_id not in service_ids:
            issues.append(
                CatalogIssue("catalog.yaml", f"services[{i}]", f"no file services/{service_id}.yaml")
            )
    for service_id in sorted(service_ids - set(listed)):
        issues.append(
            CatalogIssue(
                f"services/{service_id}.yaml", "", "service file is not listed in catalog.yaml services"
            )
        )

    for i, definition in enumerate(files.parameters.parameters):
        for j, used_by in enumerate(definition.used_by):
            if used_by not in service_ids:
                issues.append(
                    CatalogIssue(
                        "parameters.yaml", f"parameters[{i}].used_by[{j}]", f"unknown service {used_by!r}"
                    )
                )


# ----------------------------------------------------------------------------- examples


def _example_file(catalog: Catalog, path: str | Path | None, default_name: str) -> tuple[Path, str]:
    file = Path(path) if path is not None else catalog.data_dir / default_name
    return file, file.name


def load_example_adoptions(catalog: Catalog, path: str | Path | None = None) -> tuple[AdoptionRecord, ...]:
    """The shipped EXAMPLE adoptions, one record per (service, region), checked against the catalog."""
    file, name = _example_file(catalog, path, EXAMPLE_ADOPTIONS_FILE)
    issues: list[CatalogIssue] = []
    loaded = read_model(file, name, ExampleAdoptionsFile, issues)
    if loaded is None:
        raise CatalogLoadError(issues)
    regions = {r.id for r in catalog.regions}
    records: list[AdoptionRecord] = []
    for i, group in enumerate(loaded.adoptions):
        at = f"adoptions[{i}]"
        if not group.example:
            issues.append(
                CatalogIssue(name, f"{at}.example", "every record of the example file must be example: true")
            )
        try:
            service = catalog.service(group.service)
        except CatalogError:
            issues.append(CatalogIssue(name, f"{at}.service", f"unknown service {group.service!r}"))
            continue
        if group.edition not in {e.id for e in service.editions}:
            issues.append(
                CatalogIssue(
                    name, f"{at}.edition", f"service {service.id!r} has no edition {group.edition!r}"
                )
            )
        for j, region in enumerate(group.regions):
            if region not in regions:
                issues.append(CatalogIssue(name, f"{at}.regions[{j}]", f"unknown region {region!r}"))
        records.extend(
            AdoptionRecord(
                service=group.service,
                edition=group.edition,
                region=region,
                effective_from=group.effective_from,
                effective_to=group.effective_to,
                adopted_by=group.adopted_by,
                reason=group.reason,
                example=group.example,
            )
            for region in group.regions
        )
    if issues:
        raise CatalogLoadError(issues)
    return tuple(records)


def load_example_parameter_records(
    catalog: Catalog, path: str | Path | None = None
) -> tuple[ParameterRecord, ...]:
    """The shipped EXAMPLE parameter values (each marked example: true; not legal data), checked."""
    file, name = _example_file(catalog, path, EXAMPLE_PARAMETERS_FILE)
    issues: list[CatalogIssue] = []
    loaded = read_model(file, name, ExampleParametersFile, issues)
    if loaded is None:
        raise CatalogLoadError(issues)
    regions = [r.id for r in catalog.regions]
    for i, record in enumerate(loaded.records):
        if not record.example:
            issues.append(
                CatalogIssue(
                    name, f"records[{i}].example", "every record of the example file must be example: true"
                )
            )
        try:
            ParameterBook(catalog.parameters.values(), [record], regions=regions)
        except CatalogError as exc:
            issues.append(CatalogIssue(name, f"records[{i}]", str(exc)))
    if issues:
        raise CatalogLoadError(issues)
    return loaded.records


def load_parameter_book(
    catalog: Catalog,
    stored_records: Iterable[ParameterRecord] = (),
    *,
    include_examples: bool = True,
    examples_path: str | Path | None = None,
) -> ParameterBook:
    """A ParameterBook over the example values (unless excluded) plus administrator-stored records."""
    examples = load_example_parameter_records(catalog, examples_path) if include_examples else ()
    return ParameterBook(
        catalog.parameters.values(),
        [*examples, *stored_records],
        regions=[r.id for r in catalog.regions],
    )


__all__ = [
    "DEFAULT_DATA_DIR",
    "format_location",
    "load_catalog",
    "load_example_adoptions",
    "load_example_parameter_records",
    "load_parameter_book",
]
