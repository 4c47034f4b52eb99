"""How long a result waits to be collected, from the catalog's `result_storage` (e.g. 004: the
ЦОН keeps an uncollected result for 1 month, then hands it to the authorised body).

A service whose edition gives no keeping period gets no timer: the seeds give no number for it,
and none is invented here. Units other than calendar months and days (working days, minutes)
do not occur in the catalog's storage terms; they too start no timer rather than a guessed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from shared.catalog.sla_models import ResultStorage


@dataclass(frozen=True)
class Keeping:
    kept_until: date
    """The last day the result is kept."""
    expires_at: datetime
    """The instant after that day (local midnight, in UTC)."""
    basis: str
    storage_step: str


def keeping_of(
    storage: ResultStorage | None, ready_since: datetime, zone: ZoneInfo, citation: str
) -> Keeping | None:
    if storage is None:
        return None
    start = ready_since.astimezone(zone).date()
    unit = str(storage.unit)
    if unit == "months":
        kept_until = start + relativedelta(months=storage.max)
    elif unit in ("calendar_days", "days_unspecified"):
        kept_until = start + timedelta(days=storage.max)
    else:
        return None
    expires_at = datetime.combine(kept_until + timedelta(days=1), time(), zone)
    basis = f"result_storage: {storage.max} {unit}, keeper {storage.keeper} ({citation})"
    return Keeping(kept_until, expires_at, basis, storage.then)
