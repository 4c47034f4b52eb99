"""Reads the facts of the quality indicators from the services' event stores.

One caller-owned transaction (read-only, repeatable read: every store seen at one instant);
server-side cursors, so memory does not grow with the log. Only the fields the indicators need
leave PostgreSQL: the applicant's ИИН is replaced inside the database by a salted MD5 made for
this run (a pseudonym to count distinct applicants and match refusals; never printed or kept).
Intake's facts come first, then the decision service's, then the complaints service's, each in
log order (transaction id, position). The notification log holds no fact any indicator needs.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg

from shared.contracts.applications import (
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    DocumentsSupplemented,
)
from shared.contracts.complaints import ComplaintRegistered, ComplaintResolved, ComplaintReviewExtended
from shared.contracts.decisions import DecisionMade, DecisionReturnedForRework, DocumentsChecked
from shared.contracts.event import DomainEvent
from shared.db.identifiers import checked_identifier
from shared.quality.facts import (
    ComplaintAnswer,
    ComplaintFiled,
    ComplaintTermExtended,
    Decision,
    Fact,
    IntakeRefusal,
    Rework,
    Submission,
)

INTAKE_STREAM_PREFIX = "application-"
"""Intake keeps an application's events on stream `application-<id>` (a test checks the naming)."""

_PREFETCH = 2000


class UnsupportedEventVersion(RuntimeError):
    def __init__(self, event: type[DomainEvent], version: int) -> None:
        super().__init__(
            f"{event.event_name} v{version} in the log; the quality report reads v{event.event_version}"
            " (teach shared.quality.pg_reader the new version)"
        )


@dataclass(frozen=True)
class EventSchemas:
    intake: str = "intake"
    decision: str = "decision"
    complaints: str = "complaints"


def _version(event: type[DomainEvent], row: asyncpg.Record) -> None:
    if row["schema_version"] != event.event_version:
        raise UnsupportedEventVersion(event, row["schema_version"])


class QualityLogReader:
    def __init__(self, schemas: EventSchemas) -> None:
        self.schemas = schemas
        self._salt = secrets.token_hex(16)
        self.sources: list[str] = []
        """What was read, and which stores were missing (filled while reading)."""

    async def _present(self, conn: asyncpg.Connection, service: str, schema: str) -> bool:
        found = await conn.fetchval("SELECT to_regclass($1)", f"{checked_identifier(schema)}.events")
        self.sources.append(f"{service} ({schema})" if found else f"{service}: no event store in {schema!r}")
        return found is not None

    async def facts(self, conn: asyncpg.Connection) -> AsyncIterator[Fact]:
        """Every fact, intake's first; call inside a transaction (the cursors need one)."""
        self.sources = []
        intake = await self._present(conn, "intake", self.schemas.intake)
        if intake:
            async for fact in self._intake(conn):
                yield fact
        if await self._present(conn, "decision", self.schemas.decision):
            async for fact in self._decision(conn, intake):
                yield fact
        if await self._present(conn, "complaints", self.schemas.complaints):
            async for fact in self._complaints(conn):
                yield fact

    async def _rows(self, conn: asyncpg.Connection, sql: str, *args: Any) -> AsyncIterator[asyncpg.Record]:
        async for row in conn.cursor(sql, *args, prefetch=_PREFETCH):
            yield row

    async def _intake(self, conn: asyncpg.Connection) -> AsyncIterator[Fact]:
        table = f"{checked_identifier(self.schemas.intake)}.events"
        sql = (
            "SELECT e.event_type, e.schema_version, e.data->>'application_id' AS application_id,"
            " e.data->>'service_id' AS service_id, e.data->>'office_id' AS office_id,"
            " e.data->>'region' AS region, e.data->>'edition_id' AS edition_id,"
            " coalesce(e.data->>'received_at', e.data->>'rejected_at')::timestamptz AS at,"
            " md5($1 || coalesce(e.data->'applicant'->>'iin', e.data->>'applicant_iin')) AS applicant_key"
            f" FROM {table} e WHERE e.event_type = ANY($2::text[]) ORDER BY e.txid, e.position"
        )
        types = [ApplicationSubmitted.event_name, ApplicationRejectedAtIntake.event_name]
        types.append(DocumentsSupplemented.event_name)
        async for row in self._rows(conn, sql, self._salt, types):
            kind = row["event_type"]
            if kind == ApplicationSubmitted.event_name:
                _version(ApplicationSubmitted, row)
                yield Submission(
                    row["application_id"], row["service_id"], row["office_id"], row["region"],
                    row["edition_id"], row["at"], row["applicant_key"],
                )  # fmt: skip
            elif kind == ApplicationRejectedAtIntake.event_name:
                _version(ApplicationRejectedAtIntake, row)
                yield IntakeRefusal(row["service_id"], row["office_id"], row["at"], row["applicant_key"])
            else:
                _version(DocumentsSupplemented, row)
                yield Rework(row["application_id"], "documents_supplemented")

    async def _decision(self, conn: asyncpg.Connection, intake: bool) -> AsyncIterator[Fact]:
        table = f"{checked_identifier(self.schemas.decision)}.events"
        made, checked, returned = (
            DecisionMade.event_name,
            DocumentsChecked.event_name,
            DecisionReturnedForRework.event_name,
        )
        applicant = "NULL::text"
        if intake:
            submissions = f"{checked_identifier(self.schemas.intake)}.events"
            applicant = (
                f"CASE WHEN e.event_type = '{made}' THEN (SELECT md5($2 || (i.data->'applicant'->>'iin'))"
                f" FROM {submissions} i"
                f" WHERE i.stream_id = '{INTAKE_STREAM_PREFIX}' || (e.data->>'application_id')"
                f" AND i.event_type = '{ApplicationSubmitted.event_name}' LIMIT 1) END"
            )
        sql = (
            "SELECT e.event_type, e.schema_version, e.data->>'application_id' AS application_id,"
            " e.data->>'service_id' AS service_id, e.data->>'office_id' AS office_id,"
            " e.data->>'region' AS region, e.data->>'edition_id' AS edition_id,"
            " (e.data->>'decided_at')::timestamptz AS decided_at, (e.data->>'due_at')::timestamptz AS due_at,"
            f" {applicant} AS applicant_key FROM {table} e WHERE e.event_type = ANY($1::text[])"
            f" AND NOT (e.event_type = '{checked}' AND coalesce((e.data->>'complete')::boolean, false))"
            " ORDER BY e.txid, e.position"
        )
        args: list[Any] = [[made, checked, returned], *([self._salt] if intake else [])]
        async for row in self._rows(conn, sql, *args):
            kind = row["event_type"]
            if kind == made:
                _version(DecisionMade, row)
                yield Decision(
                    row["application_id"], row["service_id"], row["office_id"], row["region"],
                    row["edition_id"], row["decided_at"], row["due_at"], row["applicant_key"],
                )  # fmt: skip
            elif kind == checked:
                _version(DocumentsChecked, row)
                yield Rework(row["application_id"], "documents_incomplete")
            else:
                _version(DecisionReturnedForRework, row)
                yield Rework(row["application_id"], "returned_for_rework")

    async def _complaints(self, conn: asyncpg.Connection) -> AsyncIterator[Fact]:
        table = f"{checked_identifier(self.schemas.complaints)}.events"
        registered, extended = ComplaintRegistered.event_name, ComplaintReviewExtended.event_name
        resolved = ComplaintResolved.event_name
        sql = (
            "SELECT e.event_type, e.schema_version, e.data->>'complaint_id' AS complaint_id,"
            " e.data->>'service_id' AS service_id, e.data->>'office_id' AS office_id,"
            " (e.data->>'review_due_on')::date AS review_due_on, e.data->>'outcome' AS outcome,"
            " (e.data->>'resolved_at')::timestamptz AS resolved_at, (e.data->>'on_time')::boolean AS on_time,"
            f" CASE WHEN e.event_type = '{resolved}' THEN (SELECT r.data->>'region' FROM {table} r"
            f" WHERE r.stream_id = e.stream_id AND r.event_type = '{registered}' LIMIT 1)"
            " ELSE e.data->>'region' END AS region"
            f" FROM {table} e WHERE e.event_type = ANY($1::text[]) ORDER BY e.txid, e.position"
        )
        async for row in self._rows(conn, sql, [registered, extended, resolved]):
            kind = row["event_type"]
            if kind == registered:
                _version(ComplaintRegistered, row)
                yield ComplaintFiled(
                    row["complaint_id"],
                    row["service_id"],
                    row["office_id"],
                    row["region"],
                    row["review_due_on"],
                )
            elif kind == extended:
                _version(ComplaintReviewExtended, row)
                yield ComplaintTermExtended(row["complaint_id"], row["review_due_on"])
            else:
                _version(ComplaintResolved, row)
                yield ComplaintAnswer(
                    row["complaint_id"], row["service_id"], row["office_id"], row["region"], row["outcome"],
                    row["resolved_at"], bool(row["on_time"]),
                )  # fmt: skip
