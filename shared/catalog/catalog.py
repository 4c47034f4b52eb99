"""The loaded catalog: reference data, services, settings, and edition selection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field

from shared.catalog.conditions import ConditionVocabulary
from shared.catalog.deadlines import DEFAULT_DEADLINE_POLICY, DeadlinePolicy
from shared.catalog.editions import AdoptionRecord, EditionChoice, select_edition
from shared.catalog.errors import UnknownChannel, UnknownParameter, UnknownRegion, UnknownService
from shared.catalog.models import (
    Actor,
    Channel,
    Edition,
    GlossaryEntry,
    LegalAct,
    OfficeHoursProfile,
    QualityIndicatorProfile,
    Region,
    Service,
    Strict,
)
from shared.catalog.parameters import ParameterDefinition


class CatalogSettings(Strict):
    deadlines: DeadlinePolicy = DEFAULT_DEADLINE_POLICY


class CatalogHeader(Strict):
    """data/catalog.yaml: version, settings, the ordered list of services, conventions."""

    schema_version: str
    title: str
    source: str
    settings: CatalogSettings
    services: tuple[str, ...] = Field(min_length=1)
    conventions: dict[str, object] = Field(default_factory=dict)


class Catalog:
    """Read-only view of the catalog data. Build it with `shared.catalog.load_catalog()`."""

    def __init__(
        self,
        *,
        header: CatalogHeader,
        regions: Iterable[Region],
        channels: Iterable[Channel],
        actors: Iterable[Actor],
        legal_acts: Iterable[LegalAct],
        parameters: Iterable[ParameterDefinition],
        conditions: ConditionVocabulary,
        office_hours_profiles: Iterable[OfficeHoursProfile],
        quality_indicator_profiles: Iterable[QualityIndicatorProfile],
        glossary: Iterable[GlossaryEntry],
        services: Iterable[Service],
        data_dir: Path,
    ) -> None:
        self.header = header
        self.data_dir = data_dir
        self.condition_vocabulary = conditions
        self.glossary = tuple(glossary)
        self._regions = {r.id: r for r in regions}
        self._channels = {c.id: c for c in channels}
        self._actors = {a.id: a for a in actors}
        self._legal_acts = {a.id: a for a in legal_acts}
        self._parameters = {p.id: p for p in parameters}
        self._office_hours = {p.id: p for p in office_hours_profiles}
        self._quality_profiles = {p.id: p for p in quality_indicator_profiles}
        self._services = {s.id: s for s in services}

    # ----------------------------------------------------------------- collections

    @property
    def services(self) -> tuple[Service, ...]:
        """Every service, in catalog order."""
        return tuple(self._services[i] for i in self.header.services)

    @property
    def regions(self) -> tuple[Region, ...]:
        return tuple(self._regions.values())

    @property
    def channels(self) -> tuple[Channel, ...]:
        return tuple(self._channels.values())

    @property
    def actors(self) -> tuple[Actor, ...]:
        return tuple(self._actors.values())

    @property
    def legal_acts(self) -> tuple[LegalAct, ...]:
        return tuple(self._legal_acts.values())

    @property
    def parameters(self) -> Mapping[str, ParameterDefinition]:
        return dict(self._parameters)

    @property
    def office_hours_profiles(self) -> tuple[OfficeHoursProfile, ...]:
        return tuple(self._office_hours.values())

    @property
    def quality_indicator_profiles(self) -> tuple[QualityIndicatorProfile, ...]:
        return tuple(self._quality_profiles.values())

    @property
    def deadline_policy(self) -> DeadlinePolicy:
        return self.header.settings.deadlines

    # ----------------------------------------------------------------- lookups

    def service(self, service_id: str) -> Service:
        try:
            return self._services[service_id]
        except KeyError:
            raise UnknownService(service_id) from None

    def region(self, region_id: str) -> Region:
        try:
            return self._regions[region_id]
        except KeyError:
            raise UnknownRegion(region_id) from None

    def time_zone(self, region_id: str) -> ZoneInfo:
        """The office time zone of a region (IANA, via zoneinfo)."""
        return ZoneInfo(self.region(region_id).time_zone)

    def channel(self, channel_id: str) -> Channel:
        try:
            return self._channels[channel_id]
        except KeyError:
            raise UnknownChannel(channel_id) from None

    def actor(self, actor_id: str) -> Actor:
        return self._actors[actor_id]

    def legal_act(self, act_id: str) -> LegalAct:
        return self._legal_acts[act_id]

    def parameter(self, parameter_id: str) -> ParameterDefinition:
        try:
            return self._parameters[parameter_id]
        except KeyError:
            raise UnknownParameter(parameter_id) from None

    def office_hours_profile(self, profile_id: str) -> OfficeHoursProfile:
        return self._office_hours[profile_id]

    def quality_indicator_profile(self, profile_id: str) -> QualityIndicatorProfile:
        return self._quality_profiles[profile_id]

    def rule_parameter_ids(self) -> frozenset[str]:
        """Every parameter named by a rule or a complaint review term of any edition."""
        return frozenset(p for s in self.services for e in s.editions for p in e.parameter_ids)

    # ----------------------------------------------------------------- edition selection

    def edition_in_force(self, service_id: str, region: str, on_date: date) -> Edition:
        """The edition really in force (no adoptions); see Service.edition_in_force."""
        self.region(region)
        return self.service(service_id).edition_in_force(region, on_date)

    def resolve_edition(
        self, service_id: str, region: str, on_date: date, adoptions: Iterable[AdoptionRecord] = ()
    ) -> EditionChoice:
        """The edition for an application and the basis (adoption or law in force)."""
        self.region(region)
        return select_edition(self.service(service_id), region, on_date, adoptions)

    def edition_for(
        self, service_id: str, region: str, on_date: date, adoptions: Iterable[AdoptionRecord] = ()
    ) -> Edition:
        """An adoption covering the date overrides; else the edition in force; else NoEditionInForce."""
        return self.resolve_edition(service_id, region, on_date, adoptions).edition
