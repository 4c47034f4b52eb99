"""The catalog as the notification service reads it: service names in the applicant's
language, how an edition delivers its result, its keeping period, and the office time zone."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from services.notification.domain.messages import KAZAKHSTAN
from shared.catalog import load_catalog
from shared.catalog.catalog import Catalog
from shared.catalog.sla_models import ResultStorage


@dataclass(frozen=True)
class EditionDelivery:
    result_delivery: tuple[str, ...]
    storage: ResultStorage | None
    citation: str


class NotificationCatalog:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    @classmethod
    def load(cls) -> NotificationCatalog:
        return cls(load_catalog())

    def service_name(self, service_id: str | None, language: str) -> str:
        """The service's name in `language` (Russian names are not in the seeds for every
        service: the Kazakh name stands in)."""
        if service_id is None:
            return ""
        try:
            service = self.catalog.service(service_id)
        except LookupError:
            return service_id
        if language == "ru" and service.name_ru:
            return service.name_ru
        if language == "en":
            return service.name_en
        return service.name_kk

    def delivery(self, service_id: str | None, edition_id: str | None) -> EditionDelivery:
        if service_id is None or edition_id is None:
            return EditionDelivery((), None, "")
        try:
            edition = self.catalog.service(service_id).edition(edition_id)
        except LookupError:
            return EditionDelivery((), None, "")
        storage = edition.sla.result_storage if edition.sla is not None else None
        citation = f"{edition.id}, {edition.source.file} {edition.source.lines}"
        return EditionDelivery(tuple(str(d) for d in edition.result_delivery), storage, citation)

    def zone(self, region: str | None) -> ZoneInfo:
        if region is None:
            return KAZAKHSTAN
        try:
            return self.catalog.time_zone(region)
        except LookupError:
            return KAZAKHSTAN
