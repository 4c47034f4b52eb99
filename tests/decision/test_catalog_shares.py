"""The approaching share is looked up once per region and day for a catalog, and a parameter
refresh (a new catalog) is never answered from the old catalog's lookups (issue 14)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.decision.adapters import catalog as catalog_module

from .helpers import decision_catalog, record

SHARE = "deadline_approaching_share"
DEFAULT = Decimal("0.5")


def test_a_refreshed_catalog_answers_its_own_share() -> None:
    old = decision_catalog(record(SHARE, "national", date(2008, 1, 1), "0.75"))
    assert old.approaching_share("akmola", date(2024, 3, 1), DEFAULT) == Decimal("0.75")
    refreshed = old.with_stored([record(SHARE, "akmola", date(2024, 1, 1), "0.9")])
    assert refreshed.approaching_share("akmola", date(2024, 3, 1), DEFAULT) == Decimal("0.9")
    assert old.approaching_share("akmola", date(2024, 3, 1), DEFAULT) == Decimal("0.75")
    # before the stored record's start the national value still holds
    assert refreshed.approaching_share("akmola", date(2023, 12, 31), DEFAULT) == Decimal("0.75")


def test_without_a_value_in_force_the_default_is_answered() -> None:
    none = decision_catalog()
    assert none.approaching_share("akmola", date(2024, 3, 1), DEFAULT) == DEFAULT
    assert none.approaching_share("akmola", date(2024, 3, 1), Decimal("0.6")) == Decimal("0.6")


def test_the_lookups_kept_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    cat = decision_catalog(record(SHARE, "national", date(2008, 1, 1), "0.75"))
    monkeypatch.setattr(catalog_module, "SHARES_KEPT", 3)
    for day in range(1, 11):
        assert cat.approaching_share("akmola", date(2024, 3, day), DEFAULT) == Decimal("0.75")
        assert 1 <= len(cat._shares) <= 3


def test_a_region_and_day_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    cat = decision_catalog(record(SHARE, "national", date(2008, 1, 1), "0.75"))
    looked_up: list[tuple[str, date]] = []
    decimal = type(cat.parameters).decimal

    def counted(book: object, parameter: str, region: str, on: date) -> Decimal:
        looked_up.append((region, on))
        return decimal(book, parameter, region, on)  # type: ignore[arg-type]

    monkeypatch.setattr(type(cat.parameters), "decimal", counted)
    for _ in range(3):
        assert cat.approaching_share("akmola", date(2024, 3, 1), DEFAULT) == Decimal("0.75")
    cat.approaching_share("karaganda", date(2024, 3, 1), DEFAULT)
    assert looked_up == [("akmola", date(2024, 3, 1)), ("karaganda", date(2024, 3, 1))]
