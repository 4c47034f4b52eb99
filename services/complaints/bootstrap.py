"""Wiring by hand: catalog (with the administrator-set parameters), the service, the relay route."""

from __future__ import annotations

import os

import asyncpg

from services.complaints.adapters.catalog import ComplaintsCatalog, StoredParameters
from services.complaints.service import Clock, ComplaintsService, utc_now
from services.complaints.settings import ComplaintsSettings
from shared.contracts.routes import Route, route_for
from shared.eventstore import apply_migrations
from shared.runtime.database import migrations_missing

SERVICE = "complaints"
SCHEMA = "complaints"
MIGRATIONS: tuple[str, ...] = ("services.complaints.adapters.sql",)
SOURCE = "/qyzmet/complaints"
COMPLAINTS_TOPIC = "complaints.v1"
SUBMISSIONS_TOPIC = "complaints.submissions.v1"
FACT_TOPICS: tuple[str, ...] = ("applications.v1", "decisions.v1")


def schema_from_env() -> str:
    """The complaints schema: `$COMPLAINTS_SCHEMA` (tests, side-by-side installs) or "complaints"."""
    return os.environ.get("COMPLAINTS_SCHEMA") or SCHEMA


async def migrate(pool: asyncpg.Pool, schema: str = SCHEMA) -> None:
    """Apply what `schema` lacks of the complaints migrations with `pool` (an administrator's). A pool of
    the service's login role, on a schema `qyzmet db setup` migrated as the owner, finds nothing to
    do: the role may not migrate (not even `CREATE SCHEMA IF NOT EXISTS`)."""
    if await migrations_missing(pool, schema, MIGRATIONS):
        async with pool.acquire() as conn:
            await apply_migrations(conn, schema, *MIGRATIONS)


def build(
    pool: asyncpg.Pool,
    schema: str = SCHEMA,
    *,
    settings: ComplaintsSettings | None = None,
    catalog: ComplaintsCatalog | None = None,
    clock: Clock = utc_now,
) -> ComplaintsService:
    settings = settings or ComplaintsSettings()
    catalog = catalog or ComplaintsCatalog.load(include_examples=settings.use_example_parameters)
    catalogs = StoredParameters(pool, catalog, settings.catalog_schema, settings.parameter_refresh_s)
    return ComplaintsService(pool, schema, catalogs, settings, clock)


def route(prefix: str = "") -> Route:
    """The relay route of the complaints service (from the contract table)."""
    return route_for(SERVICE, prefix=prefix)
