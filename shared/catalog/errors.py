"""Typed errors of the catalog package. Every message names what was asked for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


class CatalogError(Exception):
    """Base class of every catalog error."""


class UnknownService(CatalogError, LookupError):
    def __init__(self, service_id: str) -> None:
        self.service_id = service_id
        super().__init__(f"unknown service {service_id!r}")


class UnknownEdition(CatalogError, LookupError):
    def __init__(self, service_id: str, edition_id: str) -> None:
        self.service_id = service_id
        self.edition_id = edition_id
        super().__init__(f"service {service_id!r} has no edition {edition_id!r}")


class UnknownRegion(CatalogError, LookupError):
    def __init__(self, region: str) -> None:
        self.region = region
        super().__init__(f"unknown region {region!r}")


class UnknownChannel(CatalogError, LookupError):
    def __init__(self, channel: str) -> None:
        self.channel = channel
        super().__init__(f"unknown channel {channel!r}")


class UnknownParameter(CatalogError, LookupError):
    def __init__(self, parameter: str) -> None:
        self.parameter = parameter
        super().__init__(f"unknown parameter {parameter!r}")


class NoEditionInForce(CatalogError, LookupError):
    """No edition of the service applies in the region on the date (and none was adopted)."""

    def __init__(self, service: str, region: str, on_date: date) -> None:
        self.service = service
        self.region = region
        self.date = on_date
        super().__init__(
            f"no edition of service {service!r} is in force or adopted for region {region!r} "
            f"on {on_date.isoformat()}"
        )


class AmbiguousEdition(CatalogError):
    """Several editions apply with equal precedence; the catalog refuses to pick one."""

    def __init__(self, service: str, region: str, on_date: date, edition_ids: Sequence[str]) -> None:
        self.service = service
        self.region = region
        self.date = on_date
        self.edition_ids = tuple(edition_ids)
        super().__init__(
            f"service {service!r}, region {region!r}, {on_date.isoformat()}: editions "
            f"{', '.join(self.edition_ids)} apply with equal precedence; adopt one explicitly"
        )


class ParameterNotInForce(CatalogError, LookupError):
    """No value of the parameter is in force for the region on the date."""

    def __init__(self, parameter: str, region: str, on_date: date) -> None:
        self.parameter = parameter
        self.region = region
        self.date = on_date
        super().__init__(
            f"parameter {parameter!r} has no value in force for region {region!r} on {on_date.isoformat()}"
        )


class ConflictingParameterValues(CatalogError):
    def __init__(self, parameter: str, region: str, on_date: date) -> None:
        self.parameter = parameter
        self.region = region
        self.date = on_date
        super().__init__(
            f"parameter {parameter!r}, region {region!r}, {on_date.isoformat()}: two records with "
            "equal precedence give different values; record a correction"
        )


class InvalidParameterRecord(CatalogError, ValueError):
    def __init__(self, parameter: str, reason: str) -> None:
        self.parameter = parameter
        self.reason = reason
        super().__init__(f"parameter {parameter!r}: {reason}")


class ChannelNotOffered(CatalogError, LookupError):
    def __init__(self, service: str, edition: str, channel: str) -> None:
        self.service = service
        self.edition = edition
        self.channel = channel
        super().__init__(
            f"service {service!r} edition {edition!r} is not offered through channel {channel!r}"
        )


class UnknownSubtype(CatalogError, LookupError):
    def __init__(self, service: str, subtype: str) -> None:
        self.service = service
        self.subtype = subtype
        super().__init__(f"service {service!r} has no subtype {subtype!r}")


class SlaNotDefined(CatalogError):
    """The edition gives no computable term for this channel / subtype (the seeds are silent)."""

    def __init__(self, service: str, edition: str, reason: str) -> None:
        self.service = service
        self.edition = edition
        self.reason = reason
        super().__init__(f"service {service!r} edition {edition!r}: no computable term: {reason}")


class AmbiguousSla(CatalogError):
    def __init__(self, service: str, edition: str, reason: str) -> None:
        self.service = service
        self.edition = edition
        self.reason = reason
        super().__init__(f"service {service!r} edition {edition!r}: ambiguous term: {reason}")


class NoExtensionAllowed(CatalogError):
    def __init__(self, service: str, edition: str) -> None:
        self.service = service
        self.edition = edition
        super().__init__(f"service {service!r} edition {edition!r} allows no extension of its term")


@dataclass(frozen=True)
class CatalogIssue:
    """One problem found while loading: the file, the path inside it, and the reason."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}" if self.path else f"{self.file}: {self.reason}"


class CatalogLoadError(CatalogError, ValueError):
    """The catalog data is broken. `issues` lists every problem found, each with file and path."""

    def __init__(self, issues: Sequence[CatalogIssue]) -> None:
        self.issues = tuple(issues)
        lines = [str(issue) for issue in self.issues]
        head = f"catalog data is invalid ({len(lines)} problem{'s' if len(lines) != 1 else ''}):"
        super().__init__("\n".join([head, *lines]))
