"""A service schema as least privilege wants it: owned by `qyzmet_owner`, migrated as it, and
granted to the service's login role table by table.

The login role gets USAGE on its own schema only; SELECT and INSERT on the append-only tables
(`shared.db.append_only.APPEND_ONLY_TABLES`: events), SELECT only on the audit log (appended by
the owner's SECURITY DEFINER `audit_append`), `audit_settings` and `schema_migrations`, nothing on the owner's
`audit_chains`, and SELECT, INSERT, UPDATE, DELETE on the rest (projections, inbox,
checkpoints, timers). Never TRUNCATE, TRIGGER or REFERENCES, and it owns nothing, so it cannot
alter, drop or disable a trigger. The grants are made again after every migration, so a table a
migration adds gets its grants in the same transaction.
"""

from __future__ import annotations

import asyncpg

from shared.db.append_only import APPEND_ONLY_TABLES, OWNER_ONLY_TABLES, WRITTEN_BY_FUNCTION_TABLES
from shared.db.identifiers import checked_identifier
from shared.db.roles import CATALOG_READER_ROLE, OWNER_ROLE
from shared.eventstore.migrations import apply_migrations, migration_lock_key

READ_ONLY_TABLES: frozenset[str] = frozenset({"schema_migrations", "audit_legacy_boundary", "audit_settings"})
"""Tables a service reads and never writes (the migrations applied to its schema; how far
unkeyed audit records are legacy; the audit clock tolerance `audit_append` enforces)."""

CATALOG_READ_TABLES: tuple[str, ...] = ("parameter_values", "edition_adoptions")
"""What catalog readers may SELECT in a catalog schema (not its audit log)."""


def table_privileges(table: str, append_only: frozenset[str] = APPEND_ONLY_TABLES) -> str | None:
    """The privileges a service's login role gets on `table` of its own schema (None: none)."""
    if table in OWNER_ONLY_TABLES:
        return None
    if table in READ_ONLY_TABLES or table in WRITTEN_BY_FUNCTION_TABLES:
        return "SELECT"
    if table in append_only:
        return "SELECT, INSERT"
    return "SELECT, INSERT, UPDATE, DELETE"


async def take_ownership(conn: asyncpg.Connection, schema: str) -> None:
    """The schema (created now if missing) and everything in it belong to `qyzmet_owner`; objects
    an administrator made before the roles existed are handed over."""
    schema = checked_identifier(schema)
    owner = await conn.fetchval(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1", schema
    )
    if owner is None:
        await conn.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {OWNER_ROLE}")
        return
    if owner != OWNER_ROLE:
        await conn.execute(f"ALTER SCHEMA {schema} OWNER TO {OWNER_ROLE}")
    foreign = "pg_get_userbyid({}) <> $2"
    # Tables first: their identity and serial sequences, indexes and row types follow them.
    for kind in ("rvmpf", "S"):
        rows = await conn.fetch(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            f" WHERE n.nspname = $1 AND {foreign.format('c.relowner')} AND c.relkind = ANY($3::char[])",
            schema,
            OWNER_ROLE,
            list(kind),
        )
        for row in rows:
            what = {"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE"}
            keyword = what.get(row["relkind"], "TABLE")
            name = await conn.fetchval("SELECT quote_ident($1)", row["relname"])
            await conn.execute(f"ALTER {keyword} {schema}.{name} OWNER TO {OWNER_ROLE}")
    routines = await conn.fetch(
        "SELECT p.oid::regprocedure::text AS signature FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace"
        f" WHERE n.nspname = $1 AND {foreign.format('p.proowner')}",
        schema,
        OWNER_ROLE,
    )
    for row in routines:
        await conn.execute(f"ALTER ROUTINE {row['signature']} OWNER TO {OWNER_ROLE}")
    types = await conn.fetch(
        "SELECT t.oid::regtype::text AS name FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
        f" WHERE n.nspname = $1 AND {foreign.format('t.typowner')} AND t.typtype IN ('e', 'd', 'r', 'm')",
        schema,
        OWNER_ROLE,
    )
    for row in types:
        await conn.execute(f"ALTER TYPE {row['name']} OWNER TO {OWNER_ROLE}")


async def grant_service(conn: asyncpg.Connection, schema: str, role: str) -> None:
    """`role`'s privileges on `schema`, made again from the table list (in the caller's
    transaction)."""
    schema, role = checked_identifier(schema), checked_identifier(role)
    await conn.execute(f"REVOKE ALL ON SCHEMA {schema} FROM PUBLIC")
    await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    await conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM PUBLIC, {role}")
    tables = await conn.fetch(
        "SELECT c.relname, quote_ident(c.relname) AS quoted FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')",
        schema,
    )
    for table in tables:
        privileges = table_privileges(table["relname"])
        if privileges is None:
            continue
        await conn.execute(f"GRANT {privileges} ON {schema}.{table['quoted']} TO {role}")
    await conn.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM PUBLIC, {role}")
    await conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
    await conn.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {role}")


async def prepare_service_schema(
    conn: asyncpg.Connection, schema: str, packages: tuple[str, ...], role: str
) -> list[str]:
    """In one transaction under the schema's migration lock: hand the schema to the owner, apply
    the migrations as the owner, grant `role` its privileges. Returns the versions applied now.
    `conn` is an administrator's (superuser, or a member of the owner); `ensure_owner` first."""
    return await _migrate_as_owner(conn, schema, packages, grant_to=role)


async def migrate_as_owner(conn: asyncpg.Connection, schema: str, *packages: str) -> list[str]:
    """Hand `schema` to the owner and apply its migrations as the owner (no login role's grants:
    the catalog's schema, say)."""
    return await _migrate_as_owner(conn, schema, packages, grant_to=None)


async def _migrate_as_owner(
    conn: asyncpg.Connection, schema: str, packages: tuple[str, ...], grant_to: str | None
) -> list[str]:
    schema = checked_identifier(schema)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", migration_lock_key(schema))
        await take_ownership(conn, schema)
        await conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
        applied = await apply_migrations(conn, schema, *packages)
        if grant_to is not None:
            await grant_service(conn, schema, grant_to)
        await conn.execute("RESET ROLE")
    return applied


async def grant_catalog_readers(conn: asyncpg.Connection, schema: str) -> None:
    """Catalog readers may SELECT the administrator records of the catalog schema `schema`, if it
    exists (it is handed to the owner first)."""
    schema = checked_identifier(schema)
    if await conn.fetchval("SELECT to_regnamespace($1)", schema) is None:
        return
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", migration_lock_key(schema))
        await take_ownership(conn, schema)
        await conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
        await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {CATALOG_READER_ROLE}")
        for table in CATALOG_READ_TABLES:
            if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.{table}") is not None:
                await conn.execute(f"GRANT SELECT ON {schema}.{table} TO {CATALOG_READER_ROLE}")
        await conn.execute("RESET ROLE")
