"""Load and validate the catalog data files.

`load_catalog(path=None)` reads a data directory (default: the package's `data/`, cached),
validates every file strictly (unknown keys, wrong types, YAML aliases and duplicate keys are
errors) and checks cross-references (channels, actors, regions, legal acts, parameters, profiles,
condition codes, subtypes). Every problem is reported with the file, the path inside it and the
reason, e.g. ``services/housing_assistance.yaml: editions[0].sla.total: Input should be ...``.

The reference files are read and checked in `reference_files`, the services here; the EXAMPLE
adoptions and parameter values (`example_data`) are loaded on request and importable from here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from shared.catalog.catalog import Catalog
from shared.catalog.cross_references import check_service
from shared.catalog.data_files import format_location, read_model
from shared.catalog.errors import CatalogIssue, CatalogLoadError
from shared.catalog.example_data import (
    load_example_adoptions,
    load_example_parameter_records,
    load_parameter_book,
)
from shared.catalog.models import Service
from shared.catalog.reference_files import check_reference_files, read_reference_files

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / "data"


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
    reference = read_reference_files(data_dir, issues)
    services = _read_services(data_dir, issues)
    if reference is None or issues:
        raise CatalogLoadError(issues)
    check_reference_files(reference, {s.id for s in services}, issues)
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


__all__ = [
    "DEFAULT_DATA_DIR",
    "format_location",
    "load_catalog",
    "load_example_adoptions",
    "load_example_parameter_records",
    "load_parameter_book",
]
