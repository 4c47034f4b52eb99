"""The catalog's reference data files (catalog header, regions, channels, actors, legal acts,
parameters, condition codes, office hours, quality profiles, glossary): their file models,
reading them, and the checks across them (unique ids, time zones, the listed services).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from shared.catalog.catalog import CatalogHeader
from shared.catalog.conditions import ConditionVocabulary
from shared.catalog.cross_references import KnownIds
from shared.catalog.data_files import check_unique, read_model
from shared.catalog.errors import CatalogIssue
from shared.catalog.models import (
    Actor,
    Channel,
    GlossaryEntry,
    LegalAct,
    OfficeHoursProfile,
    QualityIndicatorProfile,
    Region,
    Strict,
)
from shared.catalog.parameters import ParameterDefinition
from shared.catalog.vocabulary import NATIONAL


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


@dataclass(frozen=True)
class ReferenceFiles:
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


def read_reference_files(data_dir: Path, issues: list[CatalogIssue]) -> ReferenceFiles | None:
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
    return ReferenceFiles(
        header, regions, channels, actors, legal_acts, parameters, vocabulary, office_hours, quality, glossary
    )


def check_reference_files(files: ReferenceFiles, service_ids: set[str], issues: list[CatalogIssue]) -> None:
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
