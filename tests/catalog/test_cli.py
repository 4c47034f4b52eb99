"""`qyzmet catalog list | show | due` through the real entry point."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from shared.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["catalog", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 30
    assert all({"id", "name_kk", "name_en"} <= row.keys() for row in rows)
    assert rows[0]["id"] == "unemployed_registration"
    assert rows[0]["name_kk"] == "Жұмыссыз азаматтарды есепке қою және тіркеу"


def test_list_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0 and len(out.splitlines()) == 30 and "targeted_social_assistance" in out


def test_show_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "targeted_social_assistance", "--json")
    service = json.loads(out)
    assert code == 0 and service["id"] == "targeted_social_assistance"
    akmola = next(e for e in service["editions"] if e["id"] == "akmola_2012_regulation")
    assert akmola["sla"]["total"] == 7 and akmola["sla"]["unit"] == "working_days"
    assert akmola["documents"] and akmola["steps"] and akmola["rules"]
    assert akmola["source"]["file"] == "003_d04157f0ef521ba7.txt" and akmola["source"]["lines"] == "L27-4584"
    assert akmola["documents"][4]["applies_when"] == "always"


def test_show_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "unemployed_certificate")
    assert code == 0
    for expected in (
        "== edition akmola_2011_regulation [akmola]",
        "SLA: 10 minutes",
        "via tson: 3 working_days",
        "steps:",
        "rules:",
        "seeds/003_d04157f0ef521ba7.txt",
    ):
        assert expected in out


def test_due_json_hand_computed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "due",
        "targeted_social_assistance",
        "--channel",
        "department",
        "--region",
        "akmola",
        "--at",
        "2013-03-20T10:00:00+06:00",
        "--json",
    )
    result = json.loads(out)
    assert code == 0
    assert datetime.fromisoformat(result["due"]) == datetime.fromisoformat("2013-04-03T23:59:59+06:00")
    assert result["due_local"] == "2013-04-03T23:59:59+06:00"
    assert result["edition"] == "akmola_2012_regulation" and result["edition_basis"] == "adoption"
    assert result["term"] == {
        "amount": 7,
        "unit": "working_days",
        "counted_as": "working_days",
        "excludes": [],
        "source": "base",
        "note": "L100-111",
    }


def test_due_today_uses_the_example_adoptions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "due",
        "basic_state_pension_payment",
        "--channel",
        "tson",
        "--region",
        "kostanay",
        "--at",
        "2026-11-20T10:00",
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["at_assumed_local_time"] and result["time_zone"] == "Asia/Qostanay"
    assert result["due_local"] == "2026-12-04T23:59:59+05:00"  # Fri 20 Nov + 10 working days = Fri 4 Dec
    assert result["adoption"]["example"] is True


def test_due_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "due",
        "semipalatinsk_victim_registration",
        "--channel",
        "department",
        "--region",
        "astana",
        "--at",
        "2026-11-20T10:00+05:00",
    )
    assert code == 0 and "counted as calendar_days" in out and "due if extended" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("due", "no_such_service", "--channel", "tson", "--region", "akmola", "--at", "2013-01-10T10:00"),
            "unknown service 'no_such_service'",
        ),
        (
            (
                "due",
                "targeted_social_assistance",
                "--channel",
                "fax",
                "--region",
                "akmola",
                "--at",
                "2013-01-10T10:00",
            ),
            "unknown channel 'fax'",
        ),
        (
            (
                "due",
                "targeted_social_assistance",
                "--channel",
                "tson",
                "--region",
                "akmola",
                "--at",
                "2013-01-10T10:00",
            ),
            "not offered through channel 'tson'",
        ),
        (
            (
                "due",
                "targeted_social_assistance",
                "--channel",
                "department",
                "--region",
                "mars",
                "--at",
                "2013-01-10T10:00",
            ),
            "unknown region 'mars'",
        ),
        (
            (
                "due",
                "targeted_social_assistance",
                "--channel",
                "department",
                "--region",
                "akmola",
                "--at",
                "yesterday",
            ),
            "not an ISO 8601",
        ),
        (("show", "no_such_service"), "unknown service 'no_such_service'"),
    ],
)
def test_unknown_inputs_exit_2(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err


def test_unanswerable_questions_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys,
        "due",
        "wheelchair_docs",
        "--channel",
        "department",
        "--region",
        "akmola",
        "--at",
        "2026-11-20T10:00",
    )
    assert code == 1 and "no computable term" in err
    code, _, err = run(
        capsys,
        "due",
        "basic_state_pension_payment",
        "--channel",
        "tson",
        "--region",
        "akmola",
        "--at",
        "2026-11-20T10:00",
        "--no-adoptions",
    )
    assert code == 1 and "no edition of service 'basic_state_pension_payment'" in err and "2026-11-20" in err


def test_show_says_a_service_known_only_from_an_amendment_cannot_be_applied_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "show", "wheelchair_docs")
    assert code == 0
    assert "CANNOT BE APPLIED FOR: the standard of service 'wheelchair_docs' is not in the catalog" in out
    assert "gov_1059_2012" in out and "Adding an edition" in out
    code, out, _ = run(capsys, "show", "wheelchair_docs", "--json")
    assert code == 0 and json.loads(out)["standard_in_catalog"] is False
    code, out, _ = run(capsys, "show", "basic_state_pension_payment", "--json")
    assert json.loads(out)["standard_in_catalog"] is True


def test_show_gives_the_forwarding_term_the_term_parameter_and_the_power_of_attorney(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "show", "basic_state_pension_payment")
    assert "forwarding tson -> pension_centre: 1 working_days (L548-550)" in out
    _, out, _ = run(capsys, "show", "housing_assistance")
    assert "SLA: parameter housing_assistance_term (per district" in out
    _, out, _ = run(capsys, "show", "social_individual_code")
    assert (
        "representative: power of attorney notarised_power_of_attorney required, notarisation required" in out
    )
