"""Wiring by hand: catalog, offices, the bus with its handlers, views and the projector for one
schema."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.intake.adapters.catalog import CatalogAdapter, default_catalog
from services.intake.adapters.offices import OfficeBook, load_offices
from services.intake.adapters.projection import ApplicationProjector
from services.intake.service import Clock, IntakeService, utc_now
from services.intake.service_layer.parameters import StoredParameterRefresh
from services.intake.settings import IntakeSettings
from shared.audit.keys import default_audit_key
from shared.audit.pseudonyms import iin_pseudonym_key
from shared.contracts.routes import Route, route_for
from shared.eventstore import apply_migrations
from shared.runtime.database import migrations_missing

SERVICE = "intake"
SCHEMA = "intake"
MIGRATIONS: tuple[str, ...] = ("services.intake.adapters.sql",)
SOURCE = "/qyzmet/intake"
APPLICATIONS_TOPIC = "applications.v1"
SUBMISSIONS_TOPIC = "intake.submissions.v1"


def schema_from_env() -> str:
    """The intake schema: `$INTAKE_SCHEMA` (tests, side-by-side installs) or "intake"."""
    import os

    return os.environ.get("INTAKE_SCHEMA") or SCHEMA


@dataclass
class IntakeDeps:
    pool: asyncpg.Pool
    schema: str
    service: IntakeService
    projector: ApplicationProjector
    catalog: CatalogAdapter
    offices: OfficeBook


async def migrate(pool: asyncpg.Pool, schema: str = SCHEMA) -> None:
    """Apply what `schema` lacks of the intake migrations with `pool` (an administrator's). A pool of
    the service's login role, on a schema `qyzmet db setup` migrated as the owner, finds nothing to
    do: the role may not migrate (not even `CREATE SCHEMA IF NOT EXISTS`)."""
    if await migrations_missing(pool, schema, MIGRATIONS):
        async with pool.acquire() as conn:
            await apply_migrations(conn, schema, *MIGRATIONS)


def build(
    pool: asyncpg.Pool,
    schema: str = SCHEMA,
    *,
    catalog: CatalogAdapter | None = None,
    offices: OfficeBook | None = None,
    clock: Clock = utc_now,
    pseudonym_key: str | None = None,
) -> IntakeDeps:
    """`pseudonym_key` keys the pseudonyms of audited ИИН lookups (default: derived from the audit
    key, `shared.audit.pseudonyms`; never the token secret).
    Administrator-set parameter values (`qyzmet params set`) are re-read into the catalog."""
    intake_settings = IntakeSettings()
    catalog = catalog or default_catalog(include_examples=intake_settings.use_example_parameters)
    parameters = StoredParameterRefresh(
        pool, catalog, intake_settings.catalog_schema, intake_settings.parameter_refresh_s
    )
    offices = offices or load_offices()
    if pseudonym_key is None:
        pseudonym_key = iin_pseudonym_key(default_audit_key())
    return IntakeDeps(
        pool=pool,
        schema=schema,
        service=IntakeService(
            pool, schema, catalog, offices, clock, pseudonym_key=pseudonym_key, parameters=parameters
        ),
        projector=ApplicationProjector(pool, schema),
        catalog=catalog,
        offices=offices,
    )


def application_route(topic: str) -> Route:
    """The relay route of intake (from the contract table); `topic` is applications.v1 with the
    run's topic prefix, which the route puts before every topic it names."""
    if not topic.endswith(APPLICATIONS_TOPIC):
        raise ValueError(f"{topic!r} is not {APPLICATIONS_TOPIC!r} with a prefix")
    return route_for(SERVICE, prefix=topic.removesuffix(APPLICATIONS_TOPIC))
