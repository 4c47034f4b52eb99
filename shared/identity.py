"""Kazakhstan identification numbers: ИИН / ЖСН (individuals) and БИН (legal entities).

Both are 12 digits and end with a check digit computed the same way: a weighted sum of the first
11 digits modulo 11, first with weights 1..11; if that gives 10, again with weights
3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2; if that also gives 10 the number is invalid (no such number
is issued).

ИИН: YYMMDD (birth date), then a century-and-sex digit (1/2 = 1800s, 3/4 = 1900s,
5/6 = 2000s; odd = male, even = female), four serial digits and the check digit.
БИН: YYMM (registration year and month), an entity-type digit (4 resident legal entity,
5 non-resident legal entity, 6 individual entrepreneur in joint entrepreneurship), an attribute
digit (0 head office, 1 branch, 2 representative office, 3 peasant farm in joint
entrepreneurship), five serial digits and the check digit.

Errors are `IdentityError(field, reason)`; `part` says which part of the number is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

LENGTH = 12
FIRST_WEIGHTS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


class IdentityPart(StrEnum):
    LENGTH = "length"
    DIGITS = "digits"
    BIRTH_DATE = "birth_date"
    CENTURY_SEX = "century_sex"
    REGISTRATION_DATE = "registration_date"
    ENTITY_TYPE = "entity_type"
    ENTITY_ATTRIBUTE = "entity_attribute"
    CHECKSUM = "checksum"


class IdentityError(ValueError):
    """An ИИН / БИН is invalid. `field` names the input field, `reason` says what is wrong."""

    def __init__(self, field: str, reason: str, part: IdentityPart | None = None) -> None:
        self.field = field
        self.reason = reason
        self.part = part
        super().__init__(f"{field}: {reason}")


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class EntityType(StrEnum):
    RESIDENT_LEGAL_ENTITY = "resident_legal_entity"
    NON_RESIDENT_LEGAL_ENTITY = "non_resident_legal_entity"
    JOINT_INDIVIDUAL_ENTREPRENEUR = "joint_individual_entrepreneur"


class EntityAttribute(StrEnum):
    HEAD_OFFICE = "head_office"
    BRANCH = "branch"
    REPRESENTATIVE_OFFICE = "representative_office"
    PEASANT_FARM = "peasant_farm"


_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}
_ENTITY_TYPES = {
    4: EntityType.RESIDENT_LEGAL_ENTITY,
    5: EntityType.NON_RESIDENT_LEGAL_ENTITY,
    6: EntityType.JOINT_INDIVIDUAL_ENTREPRENEUR,
}
_ATTRIBUTES = {
    0: EntityAttribute.HEAD_OFFICE,
    1: EntityAttribute.BRANCH,
    2: EntityAttribute.REPRESENTATIVE_OFFICE,
    3: EntityAttribute.PEASANT_FARM,
}


@dataclass(frozen=True)
class Iin:
    """A valid ИИН / ЖСН and what it encodes."""

    value: str
    birth_date: date
    sex: Sex

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Bin:
    """A valid БИН and what it encodes. The registration year is two digits in the number."""

    value: str
    registration_yy: int
    registration_month: int
    entity_type: EntityType
    attribute: EntityAttribute

    def __str__(self) -> str:
        return self.value


def check_digit(first_eleven: str) -> int | None:
    """The check digit for 11 digits, or None when both passes give 10 (no valid number)."""
    digits = [int(c) for c in first_eleven]
    if len(digits) != LENGTH - 1:
        raise ValueError("expected 11 digits")
    for weights in (FIRST_WEIGHTS, SECOND_WEIGHTS):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def _digits(value: str, field: str, kind: str) -> str:
    if not isinstance(value, str):
        raise IdentityError(field, f"{kind} must be a string of 12 digits", IdentityPart.DIGITS)
    text = value.strip()
    if len(text) != LENGTH:
        raise IdentityError(
            field, f"{kind} must have 12 digits, got {len(text)} characters", IdentityPart.LENGTH
        )
    if not (text.isascii() and text.isdigit()):
        raise IdentityError(field, f"{kind} must contain digits only", IdentityPart.DIGITS)
    return text


def _check_checksum(text: str, field: str, kind: str) -> None:
    expected = check_digit(text[:11])
    if expected is None:
        raise IdentityError(
            field, f"{kind} checksum is invalid: both weighting passes give 10", IdentityPart.CHECKSUM
        )
    if int(text[11]) != expected:
        raise IdentityError(
            field,
            f"{kind} checksum is invalid: last digit is {text[11]}, expected {expected}",
            IdentityPart.CHECKSUM,
        )


def parse_iin(value: str, field: str = "iin", *, today: date | None = None) -> Iin:
    """Validate an ИИН and return its birth date and sex; raise IdentityError naming the wrong part.

    With `today`, a birth date after it is rejected too.
    """
    text = _digits(value, field, "ИИН")
    century_digit = int(text[6])
    century = _CENTURY.get(century_digit)
    if century is None:
        raise IdentityError(
            field,
            f"ИИН 7th digit (century and sex) must be 1-6, got {century_digit}",
            IdentityPart.CENTURY_SEX,
        )
    try:
        birth = date(century + int(text[0:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise IdentityError(
            field,
            f"ИИН first six digits {text[:6]} are not a valid birth date (YYMMDD)",
            IdentityPart.BIRTH_DATE,
        ) from None
    if today is not None and birth > today:
        raise IdentityError(
            field, f"ИИН birth date {birth.isoformat()} is in the future", IdentityPart.BIRTH_DATE
        )
    _check_checksum(text, field, "ИИН")
    return Iin(text, birth, Sex.MALE if century_digit % 2 else Sex.FEMALE)


def parse_bin(value: str, field: str = "bin") -> Bin:
    """Validate a БИН and return what it encodes; raise IdentityError naming the wrong part."""
    text = _digits(value, field, "БИН")
    month = int(text[2:4])
    if not 1 <= month <= 12:
        raise IdentityError(
            field,
            f"БИН digits 3-4 (registration month) must be 01-12, got {text[2:4]}",
            IdentityPart.REGISTRATION_DATE,
        )
    entity_type = _ENTITY_TYPES.get(int(text[4]))
    if entity_type is None:
        raise IdentityError(
            field, f"БИН 5th digit (entity type) must be 4, 5 or 6, got {text[4]}", IdentityPart.ENTITY_TYPE
        )
    attribute = _ATTRIBUTES.get(int(text[5]))
    if attribute is None:
        raise IdentityError(
            field,
            f"БИН 6th digit (attribute) must be 0, 1, 2 or 3, got {text[5]}",
            IdentityPart.ENTITY_ATTRIBUTE,
        )
    _check_checksum(text, field, "БИН")
    return Bin(text, int(text[0:2]), month, entity_type, attribute)


def is_valid_iin(value: str) -> bool:
    try:
        parse_iin(value)
    except IdentityError:
        return False
    return True


def is_valid_bin(value: str) -> bool:
    try:
        parse_bin(value)
    except IdentityError:
        return False
    return True
