"""The decision contract: schemas generate, personal data is marked, names are stable."""

from __future__ import annotations

from shared.contracts.decisions import (
    DECISION_EVENTS,
    INSPECTION_COMMANDS,
    DecisionDrafted,
    DecisionMade,
    DecisionSubmittedForSignature,
    HouseholdMember,
)
from shared.contracts.schemas import event_schemas
from shared.contracts.topics import contract_of


def test_every_decision_event_has_a_schema_and_a_versioned_type() -> None:
    schemas = event_schemas(DECISION_EVENTS)
    assert "kz.qyzmet.decision.made.v1" in schemas
    assert "kz.qyzmet.inspection.completed.v1" in schemas
    assert set(event_schemas(INSPECTION_COMMANDS)) == {
        "kz.qyzmet.inspection.scheduled.v1",
        "kz.qyzmet.inspection.completed.v1",
    }
    made = schemas["kz.qyzmet.decision.made.v1"]
    for field in ("outcome", "grounds", "amount", "signed_by", "evaluation", "edition_id"):
        assert field in made["properties"]


def test_personal_data_is_marked() -> None:
    schema = HouseholdMember.model_json_schema()
    assert schema["properties"]["monthly_income"]["anyOf"][0].get("x-personal-data") is True
    assert schema["properties"]["full_name"]["anyOf"][0].get("x-personal-data") is True


def test_money_is_exact_decimal_text_never_a_json_number() -> None:
    types = [
        HouseholdMember.model_json_schema()["properties"]["monthly_income"],
        DecisionMade.model_json_schema()["properties"]["amount"],
    ]
    for prop in types:
        variants = prop.get("anyOf", [prop])
        assert all(v.get("type") in ("string", "null") for v in variants), prop
        assert any("pattern" in v and "-" not in v["pattern"] for v in variants), prop


def test_a_draft_awaiting_signature_is_published_without_any_of_its_content() -> None:
    """`decision.submitted_for_signature` on decisions.v1 tells that the case waits for the head;
    the draft's outcome, amount, grounds and evaluation stay internal until it is signed."""
    schema = event_schemas(DECISION_EVENTS)["kz.qyzmet.decision.submitted_for_signature.v1"]
    assert set(schema["properties"]) == {"application_id", "submitted_by", "submitted_at"}
    assert DecisionSubmittedForSignature in contract_of("decisions.v1").events
    assert DecisionDrafted not in contract_of("decisions.v1").events
