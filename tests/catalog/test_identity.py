"""ИИН / БИН validation: valid examples computed with the algorithm, and each kind of invalid one."""

from __future__ import annotations

from datetime import date

import pytest

from shared.identity import (
    EntityAttribute,
    EntityType,
    IdentityError,
    IdentityPart,
    Sex,
    check_digit,
    is_valid_bin,
    is_valid_iin,
    parse_bin,
    parse_iin,
)


def with_check_digit(first_eleven: str) -> str:
    digit = check_digit(first_eleven)
    assert digit is not None
    return first_eleven + str(digit)


def first_valid(prefix: str) -> str:
    """The first number starting with `prefix` (7 digits) that has a check digit."""
    for serial in range(10000):
        if check_digit(f"{prefix}{serial:04d}") is not None:
            return with_check_digit(f"{prefix}{serial:04d}")
    raise AssertionError(prefix)


def test_hand_computed_iin() -> None:
    # 9 0 0 1 0 1 3 0 0 0 1 with weights 1..11: 9 + 4 + 6 + 21 + 11 = 51; 51 mod 11 = 7.
    iin = parse_iin("900101300017")
    assert iin.birth_date == date(1990, 1, 1) and iin.sex is Sex.MALE and str(iin) == "900101300017"


def test_second_pass_is_used_when_the_first_gives_ten() -> None:
    # 0 0 0 0 0 0 3 0 0 0 1: first pass 3*7 + 1*11 = 32 -> 10; second pass 3*9 + 1*2 = 29 -> 7.
    assert check_digit("00000030001") == 7


@pytest.mark.parametrize(
    ("century_digit", "year", "sex"),
    [
        ("1", 1885, Sex.MALE),
        ("2", 1885, Sex.FEMALE),
        ("3", 1985, Sex.MALE),
        ("4", 1985, Sex.FEMALE),
        ("5", 2015, Sex.MALE),
        ("6", 2015, Sex.FEMALE),
    ],
)
def test_century_and_sex_digit(century_digit: str, year: int, sex: Sex) -> None:
    iin = parse_iin(first_valid(f"{year % 100:02d}0615{century_digit}"))
    assert iin.birth_date == date(year, 6, 15) and iin.sex is sex


def test_valid_iin_with_second_pass_check_digit() -> None:
    # Find a number whose first pass gives 10 and whose second does not, then check it parses.
    for serial in range(10000):
        first_eleven = f"8507153{serial:04d}"
        digits = [int(c) for c in first_eleven]
        if sum(d * w for d, w in zip(digits, range(1, 12), strict=True)) % 11 == 10:
            second = check_digit(first_eleven)
            if second is not None:
                assert parse_iin(first_eleven + str(second)).birth_date == date(1985, 7, 15)
                return
    pytest.fail("no such number found")


def _error(value: str) -> IdentityError:
    with pytest.raises(IdentityError) as info:
        parse_iin(value, field="applicant.iin")
    return info.value


@pytest.mark.parametrize(
    ("value", "part", "words"),
    [
        ("90010130001", IdentityPart.LENGTH, "12 digits"),
        ("9001013000171", IdentityPart.LENGTH, "12 digits"),
        ("90010130001A", IdentityPart.DIGITS, "digits only"),
        ("９００１０１３０００１７", IdentityPart.DIGITS, "digits only"),
        ("901301300017", IdentityPart.BIRTH_DATE, "birth date"),
        ("900230300017", IdentityPart.BIRTH_DATE, "birth date"),
        ("900101000017", IdentityPart.CENTURY_SEX, "century and sex"),
        ("900101700017", IdentityPart.CENTURY_SEX, "century and sex"),
        ("900101300018", IdentityPart.CHECKSUM, "checksum"),
    ],
)
def test_invalid_iin_names_the_wrong_part(value: str, part: IdentityPart, words: str) -> None:
    error = _error(value)
    assert error.part is part and words in error.reason
    assert error.field == "applicant.iin" and str(error).startswith("applicant.iin: ")


def test_number_whose_both_passes_give_ten_is_invalid() -> None:
    for serial in range(10000):
        first_eleven = f"8507153{serial:04d}"
        if check_digit(first_eleven) is None:
            for last in "0123456789":
                error = _error(first_eleven + last)
                assert error.part is IdentityPart.CHECKSUM and "both weighting passes give 10" in error.reason
            return
    pytest.fail("no such number found")


def test_future_birth_date_is_rejected_only_when_today_is_given() -> None:
    iin = with_check_digit("30010150001")  # 2030-01-01
    assert parse_iin(iin).birth_date == date(2030, 1, 1)
    with pytest.raises(IdentityError, match="future"):
        parse_iin(iin, today=date(2026, 11, 22))


def test_valid_bin() -> None:
    value = with_check_digit("08044000123")  # registered April 2008, resident legal entity, head office
    parsed = parse_bin(value)
    assert (parsed.registration_yy, parsed.registration_month) == (8, 4)
    assert (
        parsed.entity_type is EntityType.RESIDENT_LEGAL_ENTITY
        and parsed.attribute is EntityAttribute.HEAD_OFFICE
    )
    assert parse_bin(with_check_digit("12116100001")).attribute is EntityAttribute.BRANCH
    assert parse_bin(with_check_digit("12115300001")).attribute is EntityAttribute.PEASANT_FARM
    assert is_valid_bin(value) and not is_valid_bin(value[:-1])


@pytest.mark.parametrize(
    ("first_eleven", "part"),
    [
        ("08134000123", IdentityPart.REGISTRATION_DATE),
        ("08004000123", IdentityPart.REGISTRATION_DATE),
        ("08043000123", IdentityPart.ENTITY_TYPE),
        ("08047000123", IdentityPart.ENTITY_TYPE),
        ("08044400123", IdentityPart.ENTITY_ATTRIBUTE),
    ],
)
def test_invalid_bin_names_the_wrong_part(first_eleven: str, part: IdentityPart) -> None:
    digit = check_digit(first_eleven)
    value = first_eleven + str(digit if digit is not None else 0)
    with pytest.raises(IdentityError) as info:
        parse_bin(value)
    assert info.value.part is part and info.value.field == "bin"


def test_bin_checksum() -> None:
    value = with_check_digit("08044000123")
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    with pytest.raises(IdentityError, match="checksum") as info:
        parse_bin(wrong)
    assert info.value.part is IdentityPart.CHECKSUM


def test_boolean_helpers() -> None:
    assert is_valid_iin("900101300017") and not is_valid_iin("900101300018")
