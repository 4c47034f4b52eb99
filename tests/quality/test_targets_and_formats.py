"""Targets come from the catalog only; the three formats carry the same figures."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

from shared.catalog.loader import load_catalog
from shared.catalog.parameters import ParameterRecord
from shared.quality.computation import QualityComputation
from shared.quality.html import to_html
from shared.quality.periods import NATIONAL_ZONE, PeriodGrid
from shared.quality.render import to_csv, to_json
from shared.quality.report import QualityReport, not_computable, report_rows
from shared.quality.targets import NO_TARGET_IN_SEEDS, TargetBook
from tests.quality.known_log import END, START, as_facts, known_log

CATALOG = load_catalog()
ON = date(2009, 3, 31)


def _report(targets: TargetBook | None = None) -> QualityReport:
    computation = QualityComputation(PeriodGrid(START, END), lambda region: NATIONAL_ZONE)
    computation.feed_all(as_facts(known_log()))
    rows = report_rows(computation.figures(), targets or TargetBook(CATALOG))
    return QualityReport(
        START, END, None, None, "range", tuple(rows),
        tuple(not_computable(CATALOG, {r.service for r in rows})), ("test",),
    )  # fmt: skip


TSA, KRG = "targeted_social_assistance", "krg_2008_standard"
BOOK = TargetBook(CATALOG)


def test_seed_targets_of_the_edition_used() -> None:
    target = BOOK.target("on_time", TSA, {KRG}, {"karaganda"}, ON)
    assert (target.value, target.source) == (Decimal(95), "catalog profile krg_q4 row 1.1")
    assert BOOK.target("first_time_right", TSA, {KRG}, (), ON).value == 90


def test_blank_targets_say_so_and_suspect_ones_are_flagged() -> None:
    pension = BOOK.target("on_time", "basic_state_pension_payment", (), (), ON)
    assert pension.value is None and pension.source.startswith(NO_TARGET_IN_SEEDS)
    absent = BOOK.target("first_time_right", "basic_state_pension_payment", (), (), ON)
    assert absent.value is None and "not an indicator of the service's profile (mlsp_6)" in absent.source
    unprofiled = BOOK.target("on_time", TSA, {"akmola_2012_regulation"}, {"akmola"}, ON)
    assert unprofiled.value is None and "no quality-indicator profile" in unprofiled.source
    suspect = BOOK.target("justified_complaints_share", "unemployed_registration", {KRG}, (), ON)
    assert suspect.value == 100 and suspect.suspect and suspect.note and "template error" in suspect.note
    # Complaints only (no edition seen): the editions for the group's region.
    akmola = BOOK.target("on_time", TSA, (), {"akmola"}, ON)
    assert akmola.value is None and "no quality-indicator profile" in akmola.source


def test_a_recorded_target_wins_and_example_values_never_count() -> None:
    recorded = ParameterRecord(
        parameter="quality_targets", region="karaganda", effective_from=date(2009, 1, 1),
        value={"on_time": "97"}, source="order No. 1 (test)", recorded_by="admin",
    )  # fmt: skip
    example = recorded.model_copy(
        update={"value": {"first_time_right": "99"}, "example": True, "region": "national"}
    )
    book = TargetBook(CATALOG, [recorded, example])
    target = book.target("on_time", TSA, {KRG}, {"karaganda"}, ON)
    assert target.value == 97
    assert target.source.startswith("parameter quality_targets (karaganda, from 2009-01-01")
    ftr = book.target("first_time_right", TSA, {KRG}, {"karaganda"}, ON)
    assert ftr.value == 90 and ftr.source == "catalog profile krg_q4 row 3.2"
    assert book.target("on_time", TSA, {KRG}, {"karaganda"}, date(2008, 12, 31)).value == 95


def test_csv_rows_give_the_known_figures_beside_their_targets() -> None:
    rows = {r["indicator_id"]: r for r in csv.DictReader(io.StringIO(to_csv(_report())))}
    on_time = rows["on_time"]
    assert (on_time["numerator"], on_time["denominator"], on_time["value"]) == ("95", "100", "95.00")
    assert (rows["on_time"]["target"], rows["on_time"]["meets_target"]) == ("95", "yes")
    assert (rows["first_time_right"]["value"], rows["first_time_right"]["target"]) == ("80.00", "90")
    assert rows["first_time_right"]["meets_target"] == "no"
    share = rows["justified_complaints_share"]
    assert (share["value"], share["target"], share["meets_target"]) == ("4.00", "0.1", "no")
    assert rows["justified_complaints_resolved_in_term"]["value"] == "75.00"
    reviewed = rows["complaints_reviewed_in_term"]
    assert (reviewed["value"], reviewed["target_source"]) == ("72.73", "not a catalog indicator")
    assert rows["queue_wait_within_threshold"]["note"].startswith("not computable from the log: ")
    assert rows["courtesy_satisfaction"]["value"] == ""


def test_json_and_html_carry_the_same_figures() -> None:
    report = _report()
    document = json.loads(to_json(report))
    on_time = next(r for r in document["rows"] if r["indicator_id"] == "on_time")
    assert (on_time["numerator"], on_time["denominator"]) == (95, 100)
    assert (on_time["value"], on_time["target"]) == (95.0, 95.0)
    missing = {n["indicator_id"] for n in document["not_computable"]}
    assert missing >= {"queue_wait_within_threshold", "courtesy_satisfaction"}
    page = to_html(report)
    assert (
        page.count("<svg") == 5
        and "72.73%" in page
        and "95.00%" in page
        and "not computable from the log" in page
    )
    assert "<script" not in page and "src=" not in page and "href=" not in page and "@import" not in page
