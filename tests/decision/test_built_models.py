"""Models the case builds of validated parts without validating them again (`domain/built.py`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.decision.domain import built as b
from shared.contracts.decisions import CaseOpened, EligibilityInputs

AT = datetime(2013, 3, 1, 5, 0, tzinfo=UTC)
FIELDS = {
    "application_id": "a-1",
    "registration_number": "S-1",
    "service_id": "svc",
    "edition_id": "ed",
    "channel": "tson",
    "office_id": "astana-tson-1",
    "region": "astana",
    "received_at": AT,
    "due_at": None,
    "categories": ("large_family",),
    "automated": True,
    "assignment_required": False,
    "inspection": "none",
    "signature_required": False,
}


def test_a_built_model_is_the_validated_one() -> None:
    made = b.built(CaseOpened, **FIELDS)
    validated = CaseOpened(**FIELDS)
    assert made == validated and made.model_fields_set == validated.model_fields_set
    assert made.model_dump(mode="json") == validated.model_dump(mode="json")
    assert made.household == () and made.subtype is None  # defaults filled
    # given in another order than the model's, the fields still come out in the model's order
    reordered = b.built(CaseOpened, **dict(reversed(list(FIELDS.items()))))
    assert list(reordered.model_dump()) == list(validated.model_dump())
    assert reordered.model_dump_json() == validated.model_dump_json() and repr(reordered) == repr(validated)
    with pytest.raises(ValueError, match="frozen"):
        made.region = "almaty"


def test_a_default_made_by_a_factory_is_made_for_each_model() -> None:
    first = b.built(EligibilityInputs, application_date=date(2013, 3, 1), region="astana", channel="tson")
    second = b.built(EligibilityInputs, application_date=date(2013, 3, 1), region="astana", channel="tson")
    assert first.facts == {} and first.facts is not second.facts


def test_missing_or_unknown_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="missing \\['region'\\]"):
        b.built(CaseOpened, **{k: v for k, v in FIELDS.items() if k != "region"})
    with pytest.raises(TypeError, match="unknown \\['colour'\\]"):
        b.built(CaseOpened, **FIELDS, colour="red")


def test_checking_catches_a_part_validation_would_refuse_or_convert(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(b, "checking", True)
    with pytest.raises(AssertionError, match="categories: built list, validation gives tuple"):
        b.built(CaseOpened, **{**FIELDS, "categories": ["large_family"]})
    with pytest.raises(ValueError, match="NUL"):
        b.built(CaseOpened, **{**FIELDS, "region": "ast\x00ana"})
    monkeypatch.setattr(b, "checking", False)
    assert b.built(CaseOpened, **{**FIELDS, "categories": ["large_family"]}).categories == ["large_family"]


def test_model_of_validates_what_is_not_trusted() -> None:
    with pytest.raises(ValueError, match="pattern"):
        b.model_of(
            EligibilityInputs,
            trusted=False,
            application_date=date(2013, 3, 1),
            region="astana",
            channel="tson",
            amount="-5",
        )
