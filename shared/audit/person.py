"""One person's audit records (`qyzmet audit export --iin`): what marks a record as theirs.

A record names the person in one of two ways. A read made by the ИИН (intake's lookup) or of a
record that holds it (a complaint's complainant) carries the ИИН's keyed pseudonym in its details
(`shared.audit.pseudonyms`). A read or action on one of their applications names the application
in its subject (`application/<id>`; the decision service writes `application:<id>`): the
decision and notification services keep no ИИН at all, so those applications are found where
the ИИН is kept - every audited schema's `applications` table with an `applicant_iin` column
(intake's status view) - when the export runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg

from shared.audit.keys import AuditKey
from shared.audit.pseudonyms import iin_pseudonyms
from shared.db.identifiers import checked_identifier

APPLICATION_SUBJECTS = ("application/{}", "application:{}")
"""The subject forms under which the services audit an action on an application."""


@dataclass(frozen=True)
class PersonMarks:
    pseudonyms: frozenset[str]
    """The ИИН's pseudonym under each audit key (a string value of a record's details)."""
    subjects: frozenset[str]
    """The subjects of actions on the person's applications."""


async def applicant_index_schemas(conn: asyncpg.Connection, schemas: Sequence[str]) -> list[str]:
    """Those of `schemas` that keep applications by applicant ИИН (intake's status view)."""
    rows = await conn.fetch(
        "SELECT table_schema FROM information_schema.columns WHERE table_schema = ANY($1::text[])"
        " AND table_name = 'applications' AND column_name = 'applicant_iin' ORDER BY 1",
        list(schemas),
    )
    return [row["table_schema"] for row in rows]


async def applications_of(conn: asyncpg.Connection, schemas: Sequence[str], iin: str) -> list[str]:
    """The ids of the applications `iin` made, in every applicant index among `schemas`."""
    found: set[str] = set()
    for schema in await applicant_index_schemas(conn, schemas):
        rows = await conn.fetch(
            f"SELECT application_id::text AS id FROM {checked_identifier(schema)}.applications"
            " WHERE applicant_iin = $1",
            iin,
        )
        found.update(row["id"] for row in rows)
    return sorted(found)


def application_subjects(application_ids: Iterable[str]) -> frozenset[str]:
    return frozenset(form.format(app) for app in application_ids for form in APPLICATION_SUBJECTS)


async def person_marks(
    conn: asyncpg.Connection, schemas: Sequence[str], keys: Iterable[AuditKey], iin: str
) -> PersonMarks:
    """What marks a record of `schemas` as the person's (`iin`)."""
    return PersonMarks(
        iin_pseudonyms(keys, iin), application_subjects(await applications_of(conn, schemas, iin))
    )
