"""Parameters: definitions, EXAMPLE values, and the ParameterBook's effective-dated lookup."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from shared.catalog import (
    Catalog,
    ConflictingParameterValues,
    InvalidParameterRecord,
    ParameterBook,
    ParameterNotInForce,
    ParameterRecord,
    TermValue,
    UnknownParameter,
    UnknownRegion,
    load_example_parameter_records,
    load_parameter_book,
)


@pytest.fixture(scope="module")
def book(catalog: Catalog) -> ParameterBook:
    return load_parameter_book(catalog)


def _record(parameter: str, region: str, start: str, value: object, **extra: object) -> ParameterRecord:
    return ParameterRecord.model_validate(
        {"parameter": parameter, "region": region, "effective_from": start, "value": value, **extra}
    )


def test_every_rule_parameter_has_an_example_value(catalog: Catalog, book: ParameterBook) -> None:
    named = catalog.rule_parameter_ids()
    assert {
        "poverty_line",
        "food_basket_cost",
        "housing_max_share_of_income",
        "complaint_review_term",
    } <= named
    for parameter in named:
        assert book.records(parameter), parameter
        record = book.records(parameter)[0]
        assert book.lookup(
            parameter, record.region if record.region != "national" else "akmola", record.effective_from
        )


def test_every_defined_parameter_has_an_example_and_all_are_labelled(catalog: Catalog) -> None:
    records = load_example_parameter_records(catalog)
    assert {r.parameter for r in records} == set(catalog.parameters)
    assert all(r.example and r.note and "not legal data" in r.note for r in records)


def test_monthly_calculation_index_is_only_a_named_parameter(catalog: Catalog) -> None:
    definition = catalog.parameter("monthly_calculation_index")
    assert definition.used_by == () and definition.value_type == "money"
    assert "monthly_calculation_index" not in catalog.rule_parameter_ids()


def test_region_value_beats_national_fallback(book: ParameterBook) -> None:
    assert book.value("poverty_line", "karaganda", date(2008, 11, 1)) == Decimal("7500")
    assert book.value("poverty_line", "karaganda", date(2009, 2, 1)) == Decimal("7800")
    assert book.value("poverty_line", "karaganda", date(2009, 5, 1)) == Decimal("10000")
    assert book.value("poverty_line", "pavlodar", date(2009, 2, 1)) == Decimal("10000")


def test_typed_values(book: ParameterBook) -> None:
    assert book.term("complaint_review_term", "akmola", date(2013, 1, 1)) == TermValue(
        amount=15, unit="calendar_days"
    )
    assert book.decimal("housing_max_share_of_income", "karaganda", date(2009, 1, 1)) == Decimal("0.10")
    assert book.decimal("monthly_calculation_index", "national", date(2013, 6, 1)) == Decimal("1731")
    assert book.text("income_threshold_equality_policy", "akmola", date(2013, 1, 1)) == "equal_is_eligible"
    with pytest.raises(TypeError):
        book.term("poverty_line", "akmola", date(2013, 1, 1))


def test_parameter_not_in_force_names_parameter_region_and_date(book: ParameterBook) -> None:
    with pytest.raises(ParameterNotInForce) as info:
        book.value("poverty_line", "akmola", date(2001, 3, 4))
    error = info.value
    assert (error.parameter, error.region, error.date) == ("poverty_line", "akmola", date(2001, 3, 4))
    assert "'poverty_line'" in str(error) and "'akmola'" in str(error) and "2001-03-04" in str(error)
    with pytest.raises(ParameterNotInForce, match=r"monthly_calculation_index.*2019-05-01"):
        book.value("monthly_calculation_index", "national", date(2019, 5, 1))


def test_unknown_parameter_and_region(book: ParameterBook) -> None:
    with pytest.raises(UnknownParameter):
        book.value("poverty_lines", "akmola", date(2013, 1, 1))
    with pytest.raises(UnknownRegion):
        book.value("poverty_line", "atlantis", date(2013, 1, 1))


def test_stored_record_beats_example_and_examples_can_be_excluded(catalog: Catalog) -> None:
    stored = _record(
        "poverty_line", "akmola", "2013-01-01", "12345", recorded_by="admin", source="akimat decision"
    )
    book = load_parameter_book(catalog, [stored])
    assert book.value("poverty_line", "akmola", date(2013, 2, 1)) == Decimal("12345")
    assert not book.lookup("poverty_line", "akmola", date(2013, 2, 1)).example
    real_only = load_parameter_book(catalog, [stored], include_examples=False)
    assert real_only.value("poverty_line", "akmola", date(2013, 2, 1)) == Decimal("12345")
    with pytest.raises(ParameterNotInForce):
        real_only.value("poverty_line", "karaganda", date(2013, 2, 1))


def test_newer_decision_and_later_correction_win(catalog: Catalog) -> None:
    early = datetime(2013, 1, 5, tzinfo=UTC)
    late = datetime(2013, 1, 9, tzinfo=UTC)
    records = [
        _record("poverty_line", "akmola", "2013-01-01", "100", recorded_at=early),
        _record("poverty_line", "akmola", "2013-01-01", "110", recorded_at=late),
        _record("poverty_line", "akmola", "2013-04-01", "120", recorded_at=early),
    ]
    book = ParameterBook(catalog.parameters.values(), records)
    assert book.value("poverty_line", "akmola", date(2013, 2, 1)) == Decimal("110")
    assert book.value("poverty_line", "akmola", date(2013, 5, 1)) == Decimal("120")


def test_conflicting_records_are_refused(catalog: Catalog) -> None:
    records = [
        _record("poverty_line", "akmola", "2013-01-01", "100"),
        _record("poverty_line", "akmola", "2013-01-01", "110"),
    ]
    with pytest.raises(ConflictingParameterValues):
        ParameterBook(catalog.parameters.values(), records).value("poverty_line", "akmola", date(2013, 2, 1))


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (_record("poverty_line", "akmola", "2013-01-01", "a lot"), "expected a number"),
        (
            _record("complaint_review_term", "akmola", "2013-01-01", {"amount": 15, "unit": "calendar_days"}),
            "national-scope",
        ),
        (
            _record(
                "complaint_review_term", "national", "2013-01-01", {"amount": 0, "unit": "calendar_days"}
            ),
            "greater than 0",
        ),
        (_record("income_threshold_equality_policy", "national", "2013-01-01", "maybe"), "expected one of"),
        (_record("poverty_line", "atlantis", "2013-01-01", "1"), "unknown region"),
        (_record("local_assistance_categories", "national", "2013-01-01", "one"), "expected a list of texts"),
    ],
)
def test_invalid_records_are_rejected(catalog: Catalog, record: ParameterRecord, reason: str) -> None:
    with pytest.raises(InvalidParameterRecord, match=reason):
        ParameterBook(catalog.parameters.values(), [record], regions=[r.id for r in catalog.regions])


def test_record_period_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="effective_to must be after effective_from"):
        _record("poverty_line", "akmola", "2013-01-01", "1", effective_to="2012-01-01")
