"""Audit records of a period as JSON lines or CSV, streamed (a server-side cursor per schema:
memory stays bounded whatever the period holds). Filtered by office, actor, or one person
(`shared.audit.person.PersonMarks`): the records whose details hold one of the ИИН's pseudonyms
as a value (at any depth) or whose subject is one of them or one of the person's applications."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import asyncpg

from shared.audit.log import record_of
from shared.audit.person import PersonMarks
from shared.db.identifiers import checked_identifier

COLUMNS = (
    "schema", "chain", "seq", "recorded_at", "actor", "role", "office", "action", "subject", "outcome",
    "correlation_id", "details", "alg", "prev_hash", "hash",
)  # fmt: skip


@dataclass(frozen=True)
class ExportFilter:
    start: datetime
    end: datetime
    office: str | None = None
    actor: str | None = None
    person: PersonMarks | None = None
    """Only the records of this person."""


async def exported_rows(
    conn: asyncpg.Connection, schemas: Sequence[str], where: ExportFilter, *, prefetch: int = 1000
) -> AsyncIterator[dict[str, Any]]:
    """The records of `schemas` with start <= recorded_at < end, schema by schema in time order."""
    person = where.person
    for schema in schemas:
        schema = checked_identifier(schema)
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            cursor = conn.cursor(
                f"SELECT * FROM {schema}.audit_log WHERE recorded_at >= $1 AND recorded_at < $2"
                " AND ($3::text IS NULL OR office = $3) AND ($4::text IS NULL OR actor = $4)"
                " AND ($5::text[] IS NULL OR subject = ANY($5) OR subject = ANY($6) OR EXISTS"
                "      (SELECT 1 FROM unnest($5) AS p WHERE strpos(details::text, to_jsonb(p)::text) > 0))"
                " ORDER BY recorded_at, chain, seq",
                where.start, where.end, where.office, where.actor,
                None if person is None else sorted(person.pseudonyms),
                None if person is None else sorted(person.subjects),
                prefetch=prefetch,
            )  # fmt: skip
            async for row in cursor:
                yield {"schema": schema, **record_of(row).as_json()}


class Writer:
    def __init__(self, out: TextIO, form: str) -> None:
        self.out = out
        self.form = form
        self._csv: Any = None
        if form == "csv":
            self._csv = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
            self._csv.writeheader()

    def write(self, row: dict[str, Any]) -> None:
        if self._csv is not None:
            self._csv.writerow(
                {**row, "details": json.dumps(row["details"], ensure_ascii=False, sort_keys=True)}
            )
        else:
            self.out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
