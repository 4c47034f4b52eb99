"""Who may act for the applicant, and with what authority, as an edition's seed says.

A representative always brings a power of attorney record (`Representative.power_of_attorney`
in the contract); `Representation` says what the seed requires of it:

* `power_of_attorney: required` - the seed makes a power of attorney a document of the set when
  another person applies (its catalog document is `document`, required for a representative);
  `not_stated` - the seed names no power of attorney for this service.
* `notarised: required` - only a notarised power of attorney is accepted (intake refuses an
  unnotarised one); `not_required` - the seed says it needs no notarisation; `not_stated` - the
  seed says nothing about notarisation ("issued in the established order").

`source` cites the seed lines; `audit` records where the project corrected the reference
extraction (shared/domain/services.yaml) against the seed text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import model_validator

from shared.catalog.strict import Id, Strict


class PowerOfAttorneyRule(StrEnum):
    REQUIRED = "required"
    NOT_STATED = "not_stated"


class NotarisationRule(StrEnum):
    REQUIRED = "required"
    NOT_REQUIRED = "not_required"
    NOT_STATED = "not_stated"


class Representation(Strict):
    power_of_attorney: PowerOfAttorneyRule
    notarised: NotarisationRule = NotarisationRule.NOT_STATED
    document: Id | None = None
    """The edition's document that is the power of attorney (required for a representative)."""
    applies_to_subtypes: tuple[Id, ...] = ()
    """Empty: every application of the edition; else only these subtypes (hygiene products)."""
    source: str | None = None
    audit: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.power_of_attorney is PowerOfAttorneyRule.REQUIRED) != (self.document is not None):
            raise ValueError("a required power of attorney names its document, and only then")
        if self.power_of_attorney is PowerOfAttorneyRule.REQUIRED and not self.source:
            raise ValueError("a required power of attorney cites the seed lines that require it")
        if self.notarised is not NotarisationRule.NOT_STATED and not self.source:
            raise ValueError("a notarisation rule cites the seed lines that state it")
        return self

    def applies(self, subtype: str | None) -> bool:
        return not self.applies_to_subtypes or subtype in self.applies_to_subtypes
