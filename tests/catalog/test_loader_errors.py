"""A broken catalog fails loading with the file, the path inside it and the reason."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from shared.catalog import CatalogLoadError, load_catalog
from shared.catalog.loader import DEFAULT_DATA_DIR, format_location, load_example_adoptions


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DEFAULT_DATA_DIR, target)
    return target


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _load_error(path: Path) -> CatalogLoadError:
    with pytest.raises(CatalogLoadError) as info:
        load_catalog(path)
    return info.value


def test_a_copy_of_the_shipped_data_loads(data_copy: Path) -> None:
    assert len(load_catalog(data_copy).services) == 30


def test_wrong_type_names_file_path_and_reason(data_copy: Path) -> None:
    _edit(data_copy / "services" / "targeted_social_assistance.yaml", "total: 10", "total: ten")
    error = _load_error(data_copy)
    assert (
        "services/targeted_social_assistance.yaml: editions[0].sla.total: Input should be a valid integer"
        in str(error)
    )
    assert "'ten'" in str(error)
    issue = error.issues[0]
    assert (issue.file, issue.path) == ("services/targeted_social_assistance.yaml", "editions[0].sla.total")


def test_housing_assistance_sla_total_must_be_positive(data_copy: Path) -> None:
    _edit(
        data_copy / "services" / "housing_assistance.yaml",
        "total: null\n      unit: null",
        "total: -3\n      unit: calendar_days",
    )
    assert re.search(
        r"services/housing_assistance\.yaml: editions\[0\]\.sla\.total: Input should be greater than 0",
        str(_load_error(data_copy)),
    )


def test_unknown_key_is_an_error(data_copy: Path) -> None:
    _edit(
        data_copy / "services" / "burial_lump_sum_payment.yaml",
        "    recipients:",
        "    recipient_list: x\n    recipients:",
    )
    assert (
        "services/burial_lump_sum_payment.yaml: editions[0].recipient_list: Extra inputs are not permitted"
        in str(_load_error(data_copy))
    )


def test_missing_key_is_an_error(data_copy: Path) -> None:
    _edit(data_copy / "regions.yaml", "    time_zone: Asia/Aqtobe\n", "")
    assert "regions.yaml: regions[2].time_zone: Field required" in str(_load_error(data_copy))


def test_unknown_time_zone(data_copy: Path) -> None:
    _edit(data_copy / "regions.yaml", "time_zone: Asia/Aqtobe", "time_zone: Asia/Aktobe")
    assert "regions.yaml: regions[2].time_zone: unknown IANA time zone 'Asia/Aktobe'" in str(
        _load_error(data_copy)
    )


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "services/unemployed_registration.yaml",
            "channels: [department]",
            "channels: [fax]",
            "services/unemployed_registration.yaml: editions[0].channels[0]: unknown channel 'fax'",
        ),
        (
            "services/housing_assistance.yaml",
            "parameters: [housing_max_share_of_income, housing_assistance_rules]",
            "parameters: [housing_max_share, housing_assistance_rules]",
            "services/housing_assistance.yaml: "
            "editions[0].rules[0].parameters[0]: unknown parameter 'housing_max_share'",
        ),
        (
            "services/unemployed_registration.yaml",
            "actors: [department_specialist]",
            "actors: [clerk]",
            "services/unemployed_registration.yaml: editions[0].steps[1].actors[0]: unknown actor 'clerk'",
        ),
        (
            "services/unemployed_registration.yaml",
            "act: krg_akimat_32_08_2008",
            "act: krg_akimat_2008",
            "services/unemployed_registration.yaml: editions[0].act: unknown legal act 'krg_akimat_2008'",
        ),
        (
            "services/unemployed_registration.yaml",
            "region: karaganda",
            "region: qaraghandy",
            "services/unemployed_registration.yaml: editions[0].region: unknown region 'qaraghandy'",
        ),
        (
            "services/unemployed_registration.yaml",
            "applies_when: {status: [oralman]}",
            "applies_when: {status: [repatriate]}",
            "services/unemployed_registration.yaml: "
            "editions[0].documents[6].applies_when: unknown status code",
        ),
        (
            "services/child_benefit_under_18.yaml",
            "per_channel:\n        - channel: village_akim",
            "per_channel:\n        - channel: tson",
            "services/child_benefit_under_18.yaml: "
            "editions[0].sla.per_channel[0].channel: unknown channel of this edition 'tson'",
        ),
        (
            "services/unemployed_registration.yaml",
            "quality_indicator_profile: krg_q1",
            "quality_indicator_profile: krg_q9",
            "services/unemployed_registration.yaml: "
            "editions[0].quality_indicator_profile: unknown quality indicator profile",
        ),
    ],
)
def test_cross_reference_errors(data_copy: Path, file: str, old: str, new: str, expected: str) -> None:
    _edit(data_copy / file, old, new)
    assert expected in str(_load_error(data_copy))


def test_malformed_condition(data_copy: Path) -> None:
    _edit(
        data_copy / "services" / "unemployed_registration.yaml",
        "applies_when: {status: [oralman]}",
        "applies_when: {status: [oralman], channel: [department]}",
    )
    message = str(_load_error(data_copy))
    assert (
        "services/unemployed_registration.yaml: "
        "editions[0].documents[6].applies_when: a condition is 'always' or" in message
    )


def test_duplicate_keys_are_refused(data_copy: Path) -> None:
    _edit(data_copy / "channels.yaml", "  - id: department\n", "  - id: department\n    id: department\n")
    assert re.search(
        r"channels\.yaml: line \d+, column \d+: invalid YAML: duplicate key 'id'", str(_load_error(data_copy))
    )


def test_aliases_are_refused(data_copy: Path) -> None:
    _edit(data_copy / "channels.yaml", "  - id: department\n", "  - id: &dept department\n")
    _edit(data_copy / "channels.yaml", "  - id: village_akim\n", "  - id: *dept\n")
    assert "channels.yaml: line" in str(_load_error(data_copy))
    assert "aliases are not allowed" in str(_load_error(data_copy))


def test_invalid_yaml_syntax(data_copy: Path) -> None:
    (data_copy / "actors.yaml").write_text("actors: [unclosed\n", encoding="utf-8")
    assert re.search(r"actors\.yaml: line \d+, column \d+: invalid YAML", str(_load_error(data_copy)))


def test_dropped_service_file_is_reported(data_copy: Path) -> None:
    (data_copy / "services" / "wheelchair_docs.yaml").unlink()
    assert "catalog.yaml: services[15]: no file services/wheelchair_docs.yaml" in str(_load_error(data_copy))


def test_service_id_must_match_its_file(data_copy: Path) -> None:
    source = data_copy / "services" / "wheelchair_docs.yaml"
    source.rename(data_copy / "services" / "wheelchairs.yaml")
    message = str(_load_error(data_copy))
    assert (
        "services/wheelchairs.yaml: id: service id 'wheelchair_docs' must equal the file name 'wheelchairs'"
        in message
    )


def test_every_problem_is_reported_at_once(data_copy: Path) -> None:
    _edit(data_copy / "services" / "targeted_social_assistance.yaml", "total: 10", "total: ten")
    _edit(data_copy / "regions.yaml", "time_zone: Asia/Aqtobe", "time_zone: 5")
    error = _load_error(data_copy)
    assert {i.file for i in error.issues} == {"services/targeted_social_assistance.yaml", "regions.yaml"}
    assert str(error).startswith("catalog data is invalid (2 problems):")


def test_edition_period_must_be_ordered(data_copy: Path) -> None:
    _edit(
        data_copy / "services" / "unemployed_registration.yaml",
        "effective_to: 2009-07-07",
        "effective_to: 2008-01-01",
    )
    assert (
        "services/unemployed_registration.yaml: "
        "editions[0]: Value error, effective_to must be after effective_from" in str(_load_error(data_copy))
    )


def test_broken_example_adoptions_name_the_record(data_copy: Path) -> None:
    catalog = load_catalog(data_copy)
    _edit(data_copy / "example_adoptions.yaml", "edition: krg_2008_standard", "edition: krg_2099_standard")
    with pytest.raises(CatalogLoadError) as info:
        load_example_adoptions(catalog)
    assert (
        "example_adoptions.yaml: "
        "adoptions[0].edition: service 'unemployed_registration' has no edition 'krg_2099_standard'"
        in str(info.value)
    )


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("editions", 0, "sla", "total"), "editions[0].sla.total"),
        (
            ("editions", 1, "documents", 2, "applies_when", "all", "all", 0, "status", "status", 1),
            "editions[1].documents[2].applies_when.all[0].status[1]",
        ),
        ((), ""),
    ],
)
def test_format_location(loc: tuple[int | str, ...], expected: str) -> None:
    assert format_location(loc) == expected


def test_missing_directory() -> None:
    with pytest.raises(CatalogLoadError, match="catalog data directory not found"):
        load_catalog("/nonexistent/catalog/data")


def test_duplicate_and_reserved_region_ids(data_copy: Path) -> None:
    _edit(data_copy / "regions.yaml", "  - id: aktobe\n", "  - id: akmola\n")
    _edit(data_copy / "regions.yaml", "  - id: atyrau\n", "  - id: national\n")
    message = str(_load_error(data_copy))
    assert "regions.yaml: regions[2]: duplicate id 'akmola'" in message
    assert "regions.yaml: regions[4].id: 'national' is reserved for national editions" in message


def test_example_parameter_records_must_be_labelled(data_copy: Path) -> None:
    from shared.catalog.loader import load_example_parameter_records

    catalog = load_catalog(data_copy)
    _edit(data_copy / "example_parameters.yaml", "    example: true\n", "    example: false\n")
    _edit(data_copy / "example_parameters.yaml", "value: '7500'", "value: lots")
    with pytest.raises(CatalogLoadError) as info:
        load_example_parameter_records(catalog)
    message = str(info.value)
    assert (
        "example_parameters.yaml: records[0].example: every record of the example file must be example: true"
        in message
    )
    assert (
        "example_parameters.yaml: records[1]: parameter 'poverty_line': expected a number, got 'lots'"
        in message
    )
