"""Gap-free yearly counters per office (talon and complaint registration numbers).

One row per (office, year) in the service's `registration_counters` table; taking a number
locks that row until the transaction ends, so numbers are gap-free and never reused (a rolled
back transaction gives its number back). Callers take it as late as they can in their
transaction, to hold the row briefly.
"""

from __future__ import annotations

import asyncpg

from shared.db.identifiers import checked_identifier


class RegistrationCounters:
    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        self.table = f"{checked_identifier(schema)}.registration_counters"
        self.conn = conn

    async def take(self, office_id: str, year: int) -> int:
        """The next number of `office_id` in `year` (1, 2, ...)."""
        number: int = await self.conn.fetchval(
            f"INSERT INTO {self.table} (office_id, year, last_number) VALUES ($1, $2, 1)"
            " ON CONFLICT (office_id, year)"
            " DO UPDATE SET last_number = registration_counters.last_number + 1 RETURNING last_number",
            office_id,
            year,
        )
        return number
