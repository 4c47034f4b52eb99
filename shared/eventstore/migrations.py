"""Versioned SQL migrations applied per service schema at start-up.

Every service schema gets the platform's base migrations (event store, inbox, relay
checkpoints, audit log) followed by the service's own. A migration is a `.sql` file whose
name starts with a four-digit number; `{schema}` in its text is replaced by the (validated)
schema name. Applied versions are recorded in `<schema>.schema_migrations`; concurrent
start-ups are serialised with a transaction-level advisory lock.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

import asyncpg

from shared.db.identifiers import checked_identifier

BASE_MIGRATIONS = "shared.eventstore.sql"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    source: str
    name: str
    sql: str

    @property
    def version(self) -> str:
        return f"{self.source}:{self.name}"


def discover(package: str) -> list[Migration]:
    """The migrations in a package folder, ordered by their number."""
    folder: Traversable = resources.files(package)
    found = [
        Migration(source=package, name=entry.name, sql=entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if _NAME.match(entry.name)
    ]
    return sorted(found, key=lambda m: m.name)


def migration_lock_key(schema: str) -> int:
    """The advisory lock that serialises migrations (and grants) of one schema."""
    digest = hashlib.sha256(f"qyzmet-migrate:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def apply_migrations(conn: asyncpg.Connection, schema: str, *packages: str) -> list[str]:
    """Apply base migrations and those of `packages` to `schema`; return the versions applied now."""
    schema = checked_identifier(schema)
    migrations = discover(BASE_MIGRATIONS)
    for package in packages:
        migrations.extend(discover(package))
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", migration_lock_key(schema))
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = await conn.fetch(f"SELECT version FROM {schema}.schema_migrations")
        done = {row["version"] for row in rows}
        for migration in migrations:
            if migration.version in done:
                continue
            await conn.execute(migration.sql.replace("{schema}", schema))
            await conn.execute(
                f"INSERT INTO {schema}.schema_migrations (version) VALUES ($1)", migration.version
            )
            applied_now.append(migration.version)
    return applied_now
