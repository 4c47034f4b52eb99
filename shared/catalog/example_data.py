"""The shipped EXAMPLE data, which is not legal data: edition adoptions and parameter values,
each record marked `example: true` and checked against the catalog; and the parameter book
built over them and the values administrators store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pydantic import Field

from shared.catalog.catalog import Catalog
from shared.catalog.data_files import read_model
from shared.catalog.editions import AdoptionRecord
from shared.catalog.errors import CatalogError, CatalogIssue, CatalogLoadError
from shared.catalog.models import Strict
from shared.catalog.parameters import ParameterBook, ParameterRecord

EXAMPLE_ADOPTIONS_FILE = "example_adoptions.yaml"
EXAMPLE_PARAMETERS_FILE = "example_parameters.yaml"


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
