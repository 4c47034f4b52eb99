"""Contract models refuse text PostgreSQL cannot store (NUL, unpaired surrogates) wherever it
sits in a field: a plain string, ASCII or not, inside lists, tuples, sets and mapping keys or
values; ordinary values of every kind pass untouched (reject_nul's fast paths, issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import Field, ValidationError

from shared.contracts.event import ContractModel


class _Sample(ContractModel):
    name: str = "Айгүл"
    code: str = "A-1"
    tags: tuple[str, ...] = ()
    names: list[str] = Field(default_factory=list)
    kinds: frozenset[str] = frozenset()
    extra: dict[str, Any] = Field(default_factory=dict)
    amount: Decimal = Decimal("1.5")
    count: int = 3
    flag: bool = True
    at: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    note: str | None = None


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("code", "A\x00", "NUL"),
        ("name", "Айгүл\x00", "NUL"),
        ("name", "x\ud800", "surrogates"),
        ("note", "\udfff", "surrogates"),
        ("tags", ("ok", "b\x00"), "NUL"),
        ("names", ["ok", "Ә\ud800"], "surrogates"),
        ("kinds", frozenset({"k\x00"}), "NUL"),
        ("extra", {"k\x00": 1}, "NUL"),
        ("extra", {"k": ["deep", {"x": "v\x00"}]}, "NUL"),
    ],
)
def test_unstorable_text_anywhere_in_a_field_is_refused_with_the_field(
    field: str, value: Any, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _Sample(**{field: value})
    [error] = refused.value.errors()
    assert error["loc"][0] == field and reason in error["msg"]


def test_ordinary_values_of_every_kind_pass_unchanged() -> None:
    extra = {"ключ": ["a", {"b": 1.5}], "n": None}
    sample = _Sample(tags=("a", "ә"), names=["x"], kinds=frozenset({"k"}), extra=extra, note="Қ")
    assert sample.extra == extra and sample.tags == ("a", "ә") and sample.amount == Decimal("1.5")


class _Part(ContractModel):
    text: str = "ok"


class _Whole(ContractModel):
    parts: tuple[_Part, ...] = ()
    kind: str = "k"


def test_the_inline_checks_cover_nested_models_and_str_subclasses() -> None:
    """`_no_nul` checks plain strings itself and lets models, numbers and times pass (issue 14):
    a nested model's text is still refused, as its own field, and so is a str subclass's."""
    from enum import StrEnum

    class Kind(StrEnum):
        BAD = "b\x00"

    with pytest.raises(ValidationError) as refused:
        _Whole(parts=(_Part(), {"text": "x\x00"}))  # type: ignore[arg-type]
    assert [e["loc"] for e in refused.value.errors()] == [("parts", 1, "text")]
    with pytest.raises(ValidationError, match="NUL"):
        _Whole(kind=Kind.BAD)
    assert _Whole(parts=(_Part(text="Қ"),)).parts[0].text == "Қ"
