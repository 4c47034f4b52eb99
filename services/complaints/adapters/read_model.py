"""What the complaints service knows of applications, from `applications.v1` and `decisions.v1`:
per application its service, edition, office, region and state (submitted, refused at intake,
withdrawn, decided, reopened); every decision made (for "applicants served"); and the offices
seen with their region and whether they are a ЦОН (an office that received an application
through a ЦОН channel), which routing needs for complaints about an official's conduct.

It is a projection of other services' events, written inside the consumer's inbox transaction.
The decision in force is the latest `DecisionMade` (an older one delivered late changes nothing);
`ApplicationReopened` takes it out of force until the next one. The applicant is kept only as a
keyed hash of the ИИН (`applicant_key`, HMAC-SHA256), to count distinct applicants served.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.complaints.settings import applicant_key
from shared.contracts.applications import (
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    ApplicationWithdrawn,
)
from shared.contracts.decisions import ApplicationReopened, DecisionMade
from shared.contracts.event import DomainEvent
from shared.db.identifiers import checked_identifier
from shared.messaging.consumer import Handler
from shared.messaging.envelope import Envelope

TSON_CHANNELS = frozenset({"tson", "mobile_tson"})
"""Channels of the catalog (channels.yaml) through which only a ЦОН receives applications."""


@dataclass(frozen=True)
class KnownApplication:
    application_id: str
    service_id: str
    edition_id: str | None
    office_id: str
    region: str | None
    channel: str | None
    state: str
    outcome: str | None
    decided_at: datetime | None


@dataclass(frozen=True)
class KnownOffice:
    office_id: str
    region: str
    tson: bool


def applicant_hash(key: bytes, iin: str) -> str:
    """The keyed hash of an ИИН (never the ИИН itself) kept to count distinct applicants."""
    return hmac.new(key, iin.strip().encode("utf-8"), hashlib.sha256).hexdigest()


class ApplicationFacts:
    def __init__(self, schema: str, key: bytes | None = None) -> None:
        name = checked_identifier(schema)
        self.applications = f"{name}.known_applications"
        self.decisions = f"{name}.known_decisions"
        self.offices = f"{name}.known_offices"
        self._key = key

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = applicant_key()
        return self._key

    async def application(self, conn: asyncpg.Connection, application_id: str) -> KnownApplication | None:
        row = await conn.fetchrow(
            f"SELECT application_id, service_id, edition_id, office_id, region, channel, state, outcome,"
            f" decided_at FROM {self.applications} WHERE application_id = $1",
            application_id,
        )
        return None if row is None else KnownApplication(**dict(row))

    async def office(self, conn: asyncpg.Connection, office_id: str) -> KnownOffice | None:
        row = await conn.fetchrow(
            f"SELECT office_id, region, tson FROM {self.offices} WHERE office_id = $1", office_id
        )
        return None if row is None else KnownOffice(**dict(row))

    async def record(self, conn: asyncpg.Connection, event: DomainEvent) -> None:
        """Apply one event of applications.v1 / decisions.v1 (`FACT_EVENTS`; others are ignored)."""
        if isinstance(event, ApplicationSubmitted | DecisionMade):
            await self.record_many(conn, [event])
        elif isinstance(event, ApplicationRejectedAtIntake):
            await conn.execute(
                f"INSERT INTO {self.applications} (application_id, service_id, edition_id, office_id,"
                " region, channel, state) VALUES ($1, $2, $3, $4, $5, $6, 'refused_at_intake')"
                " ON CONFLICT (application_id) DO NOTHING",
                event.application_id, event.service_id, event.edition_id, event.office_id,
                event.region, event.channel,
            )  # fmt: skip
        elif isinstance(event, ApplicationWithdrawn):
            await conn.execute(
                f"UPDATE {self.applications} SET state = 'withdrawn', updated_at = now()"
                " WHERE application_id = $1 AND state = 'submitted'",
                event.application_id,
            )
        elif isinstance(event, ApplicationReopened):
            await conn.execute(
                f"UPDATE {self.applications} SET state = 'reopened', updated_at = now()"
                " WHERE application_id = $1 AND (decided_at IS NULL OR decided_at <= $2)",
                event.application_id,
                event.reopened_at,
            )

    async def record_many(
        self, conn: asyncpg.Connection, events: Sequence[ApplicationSubmitted | DecisionMade]
    ) -> None:
        """Submissions and decisions, at most one event per application, in one statement: their
        offices (an office's row is written only when it changes: a new region, or first seen as
        a ЦОН), the applications, and the decisions made. In order, as one by one: an office's
        region is its last event's; a later submission of an application updates its edition,
        channel and applicant; an older decision delivered late changes nothing."""
        offices: dict[str, tuple[str, bool]] = {}
        for e in events:
            seen = offices.get(e.office_id)
            offices[e.office_id] = (e.region, e.channel in TSON_CHANNELS or (seen is not None and seen[1]))
        submitted = [e for e in events if isinstance(e, ApplicationSubmitted)]
        decided = [e for e in events if isinstance(e, DecisionMade)]
        await conn.execute(
            f"WITH offices AS (INSERT INTO {self.offices} AS o (office_id, region, tson)"
            "  SELECT * FROM unnest($1::text[], $2::text[], $3::bool[])"
            "  ON CONFLICT (office_id) DO UPDATE SET region = excluded.region, tson = o.tson OR excluded.tson"
            "  WHERE o.region IS DISTINCT FROM excluded.region OR (excluded.tson AND NOT o.tson)),"
            f" submitted AS (INSERT INTO {self.applications} (application_id, service_id, edition_id,"
            "  office_id, region, channel, state, applicant_key)"
            "  SELECT u.a, u.s, u.e, u.o, u.r, u.c, 'submitted', u.k FROM unnest($4::text[], $5::text[],"
            "  $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) AS u(a, s, e, o, r, c, k)"
            "  ON CONFLICT (application_id) DO UPDATE SET edition_id = excluded.edition_id,"
            "  channel = excluded.channel, applicant_key = excluded.applicant_key, updated_at = now()),"
            f" decided AS (INSERT INTO {self.applications} AS a (application_id, service_id, edition_id,"
            "  office_id, region, channel, state, outcome, decided_at)"
            "  SELECT u.a, u.s, u.e, u.o, u.r, u.c, 'decided', u.outcome, u.at FROM unnest($11::text[],"
            "  $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[],"
            "  $18::timestamptz[]) AS u(a, s, e, o, r, c, outcome, at)"
            "  ON CONFLICT (application_id) DO UPDATE SET state = 'decided', outcome = excluded.outcome,"
            "  decided_at = excluded.decided_at, edition_id = excluded.edition_id, updated_at = now()"
            "  WHERE a.decided_at IS NULL OR a.decided_at < excluded.decided_at)"
            f" INSERT INTO {self.decisions} (application_id, decided_at, service_id, office_id, region)"
            " SELECT * FROM unnest($11::text[], $18::timestamptz[], $12::text[], $14::text[], $15::text[])"
            " ON CONFLICT DO NOTHING",
            list(offices), [o[0] for o in offices.values()], [o[1] for o in offices.values()],
            [e.application_id for e in submitted], [e.service_id for e in submitted],
            [e.edition_id for e in submitted], [e.office_id for e in submitted],
            [e.region for e in submitted], [e.channel for e in submitted],
            [applicant_hash(self.key, e.applicant.iin) for e in submitted],
            [e.application_id for e in decided], [e.service_id for e in decided],
            [e.edition_id for e in decided], [e.office_id for e in decided], [e.region for e in decided],
            [e.channel for e in decided], [e.outcome for e in decided], [e.decided_at for e in decided],
        )  # fmt: skip


FACT_EVENTS: tuple[type[DomainEvent], ...] = (
    ApplicationSubmitted,
    ApplicationRejectedAtIntake,
    ApplicationWithdrawn,
    DecisionMade,
    ApplicationReopened,
)
"""The events `ApplicationFacts.record` applies (the facts consumer ignores the topics' others)."""


def facts_handler(facts: ApplicationFacts) -> Handler:
    """The consumer's handler: every event of the two topics updates the read model."""

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        await facts.record(conn, event)

    return handle
