"""Fixtures of the catalog tests (pure: no database, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.catalog import AdoptionRecord, Catalog, load_catalog, load_example_adoptions
from tests.catalog.reference import load_reference


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def adoptions(catalog: Catalog) -> tuple[AdoptionRecord, ...]:
    return load_example_adoptions(catalog)


@pytest.fixture(scope="session")
def reference() -> dict[str, Any]:
    """shared/domain/services.yaml (read-only reference), when present next to the repository."""
    data = load_reference()
    if data is None:
        pytest.skip("shared/domain/services.yaml is not available")
    return data
