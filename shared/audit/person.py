"""One person's audit records (`qyzmet audit export --iin`): what marks a record as theirs.

A record names the person in one of two ways. A read made by the ИИН (intake's lookup) or of a
record that holds it (a complaint's complainant) carries the ИИН's keyed pseudonym in its details
(`shared.audit.pseudonyms`). A read or action on one of their applications names the application
in its subject (`application/<id>`; the decision service writes `application:<id>`), and one on a
complaint about those applications names the complaint (`complaint/<id>`): the decision and
notification services keep no ИИН at all, so those applications are found where the ИИН is kept -
every audited schema's `applications` table with an `applicant_iin` column (intake's status view),
and, for what its projector has not reached yet, that schema's submissions since the view's
checkpoint - and the complaints in every `complaints` table with an `application_id`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg

from shared.audit.keys import AuditKey
from shared.audit.pseudonyms import iin_pseudonyms
from shared.contracts.application_progress import STATUS_VIEW_PROJECTION
from shared.contracts.applications import ApplicationRejectedAtIntake, ApplicationSubmitted
from shared.db.identifiers import checked_identifier

APPLICATION_SUBJECTS = ("application/{}", "application:{}")
"""The subject forms under which the services audit an action on an application."""


@dataclass(frozen=True)
class PersonMarks:
    pseudonyms: frozenset[str]
    """The ИИН's pseudonym under each audit key (a string value of a record's details)."""
    subjects: frozenset[str]
    """The subjects of actions on the person's applications and on complaints about them."""
    applicant_indexes: tuple[str, ...] = ()
    """The schemas the applications were looked up in (none: only the pseudonyms mark records)."""


async def _schemas_with(
    conn: asyncpg.Connection, schemas: Sequence[str], table: str, column: str
) -> list[str]:
    rows = await conn.fetch(
        "SELECT table_schema FROM information_schema.columns WHERE table_schema = ANY($1::text[])"
        " AND table_name = $2 AND column_name = $3 ORDER BY 1",
        list(schemas),
        table,
        column,
    )
    return [row["table_schema"] for row in rows]


async def applicant_index_schemas(conn: asyncpg.Connection, schemas: Sequence[str]) -> list[str]:
    """Those of `schemas` that keep applications by applicant ИИН (intake's status view)."""
    return await _schemas_with(conn, schemas, "applications", "applicant_iin")


_SUBMISSIONS = [ApplicationSubmitted.event_name, ApplicationRejectedAtIntake.event_name]
_UNREADABLE = (
    asyncpg.UndefinedTableError,
    asyncpg.InvalidSchemaNameError,
    asyncpg.InsufficientPrivilegeError,
)
"""Dropped since it was listed (a test's schema, a replay's target), or not this login's to read."""


async def applications_of(
    conn: asyncpg.Connection, schemas: Sequence[str], iin: str
) -> tuple[list[str], list[str]]:
    """The ids of the applications `iin` made, in every applicant index among `schemas` and in
    those schemas' submissions the status view has not reached yet; and the schemas searched."""
    found: set[str] = set()
    searched: list[str] = []
    for schema in await applicant_index_schemas(conn, schemas):
        name = checked_identifier(schema)
        try:
            # the checkpoint before the view: what the view lacks is then in the log after it
            since = await conn.fetchrow(
                f"SELECT txid::text AS txid, position FROM {name}.projection_checkpoints"
                " WHERE projection = $1",
                STATUS_VIEW_PROJECTION,
            )
            indexed = await conn.fetch(
                f"SELECT application_id::text AS id FROM {name}.applications WHERE applicant_iin = $1", iin
            )
            logged = await conn.fetch(
                f"SELECT e.data->>'application_id' AS id FROM {name}.events e"
                " WHERE (e.txid, e.position) > ($3::text::xid8, $4::bigint)"
                " AND e.event_type = ANY($2::text[])"
                " AND (e.data->'applicant'->>'iin' = $1 OR e.data->>'applicant_iin' = $1)",
                iin,
                _SUBMISSIONS,
                since["txid"] if since else "0",
                since["position"] if since else 0,
            )
        except _UNREADABLE:
            continue  # not searched: the export names only the schemas it read whole
        searched.append(schema)
        found.update(row["id"] for row in [*indexed, *logged] if row["id"])
    return sorted(found), searched


async def complaints_about(
    conn: asyncpg.Connection, schemas: Sequence[str], applications: Sequence[str]
) -> list[str]:
    """The ids of the complaints about `applications` in every complaints table among `schemas`."""
    found: set[str] = set()
    for schema in await _schemas_with(conn, schemas, "complaints", "application_id"):
        try:
            rows = await conn.fetch(
                f"SELECT complaint_id::text AS id FROM {checked_identifier(schema)}.complaints"
                " WHERE application_id = ANY($1::text[])",
                list(applications),
            )
        except _UNREADABLE:
            continue
        found.update(row["id"] for row in rows)
    return sorted(found)


def application_subjects(application_ids: Iterable[str]) -> frozenset[str]:
    return frozenset(form.format(app) for app in application_ids for form in APPLICATION_SUBJECTS)


async def person_marks(
    conn: asyncpg.Connection, schemas: Sequence[str], keys: Iterable[AuditKey], iin: str
) -> PersonMarks:
    """What marks a record of `schemas` as the person's (`iin`)."""
    applications, searched = await applications_of(conn, schemas, iin)
    complaints = await complaints_about(conn, schemas, applications) if applications else []
    subjects = application_subjects(applications) | {f"complaint/{c}" for c in complaints}
    return PersonMarks(iin_pseudonyms(keys, iin), frozenset(subjects), tuple(searched))
