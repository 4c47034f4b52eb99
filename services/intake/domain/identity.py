"""ИИН checks for intake, over `shared.identity` (the platform's ИИН/БИН rules)."""

from __future__ import annotations

from datetime import date

from shared.identity import IdentityError, check_digit, parse_iin


def iin_problem(iin: str, today: date | None = None) -> str | None:
    """Why `iin` is not a valid individual's ИИН (born by `today`, if given), or None if it is."""
    try:
        parse_iin(iin, today=today)
    except IdentityError as exc:
        return exc.reason
    return None


def iin_birth_date(iin: str) -> date | None:
    """The birth date encoded in a valid ИИН, or None."""
    try:
        return parse_iin(iin).birth_date
    except IdentityError:
        return None


def make_iin(birth: date, serial: int = 1, *, female: bool = False) -> str:
    """A valid ИИН for a birth date (tests and example data)."""
    century_digit = {1800: 1, 1900: 3, 2000: 5}[birth.year // 100 * 100] + (1 if female else 0)
    for attempt in range(serial, serial + 10000):
        head = f"{birth:%y%m%d}{century_digit}{attempt % 10000:04d}"
        check = check_digit(head)
        if check is not None:
            return head + str(check)
    raise ValueError("no valid ИИН found")  # pragma: no cover


def age_on(birth: date, on_date: date) -> int:
    """Age in full years on `on_date`."""
    return on_date.year - birth.year - ((on_date.month, on_date.day) < (birth.month, birth.day))
