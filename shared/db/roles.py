"""The PostgreSQL roles Qyzmet runs as (least privilege).

- `qyzmet_owner` (NOLOGIN) owns every service schema and its objects; migrations run as it
  (`SET ROLE`), from an administrator's connection (`DATABASE_URL`: a superuser, or a role with
  CREATEROLE that may become the owner).
- `qyzmet_<service>` (LOGIN) is what a service's processes connect as: never a superuser, no
  CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS, not a member of the owner; the grants on its
  own schema are made by `shared.db.grants`.
- `qyzmet_catalog_reader` (NOLOGIN): SELECT on the catalog's administrator records; the services
  that read parameter values are members.

Roles are cluster-wide, so creating them must survive other sessions creating the same roles at
the same moment (also from other databases, where an advisory lock does not reach): every step is
idempotent and a lost race (`duplicate_object`, `unique_violation`, "tuple concurrently updated")
is run again.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import asyncpg

from shared.db.identifiers import checked_identifier
from shared.secret_files import local_secret_file

OWNER_ROLE = "qyzmet_owner"
CATALOG_READER_ROLE = "qyzmet_catalog_reader"
ROLE_PREFIX = "qyzmet_"
ROLE_SECRET_FILE = "db_role_secret"  # noqa: S105 (a file name)
_LOCK_KEY = int.from_bytes(hashlib.sha256(b"qyzmet-roles").digest()[:8], "big", signed=True)
_ATTEMPTS = 20

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceLogin:
    """A service's login role and the password it connects with (None: leave it as it is)."""

    role: str
    password: str | None = None

    def __post_init__(self) -> None:
        checked_identifier(self.role)
        if self.role in (OWNER_ROLE, CATALOG_READER_ROLE):
            raise ValueError(f"{self.role} is not a service's login role")

    def __repr__(self) -> str:  # never show the password
        return f"ServiceLogin(role={self.role!r})"


def service_role(service: str) -> str:
    """The login role of `service`: `qyzmet_<service>`."""
    return checked_identifier(ROLE_PREFIX + service)


def local_role_secret(data_dir: Path) -> str:
    """The secret local role passwords derive from (`<data dir>/db_role_secret`, made on first use,
    readable by its owner only)."""
    return local_secret_file(data_dir, ROLE_SECRET_FILE)


def derived_password(secret: str, role: str) -> str:
    """A role's password for local runs: HMAC-SHA256(secret, role), so every process of a run
    connects with the same password without passing it around."""
    return hmac.new(secret.encode(), role.encode(), hashlib.sha256).hexdigest()


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677), made here so
    the password itself never reaches the server's statement text or logs. ASCII passwords only
    (SASLprep leaves those as they are)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    salt_b64, stored_b64, server_b64 = (base64.b64encode(v).decode() for v in (salt, stored_key, server_key))
    return f"SCRAM-SHA-256${iterations}:{salt_b64}${stored_b64}:{server_b64}"


def _lost_race(exc: BaseException) -> bool:
    if isinstance(
        exc,
        asyncpg.UniqueViolationError
        | asyncpg.DuplicateObjectError
        | asyncpg.SerializationError
        | asyncpg.DeadlockDetectedError,
    ):
        return True
    return isinstance(exc, asyncpg.PostgresError) and "concurrently" in str(exc)


async def run_racing(conn: asyncpg.Connection, step: Callable[[], Awaitable[T]]) -> T:
    """Run `step` in a transaction (a savepoint inside one), again after a lost race with another
    session doing the same to the same cluster-wide role."""
    for attempt in range(_ATTEMPTS):
        try:
            async with conn.transaction():
                return await step()
        except asyncpg.PostgresError as exc:
            if not _lost_race(exc) or attempt == _ATTEMPTS - 1:
                raise
            await asyncio.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


async def _role(conn: asyncpg.Connection, role: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
        " FROM pg_roles WHERE rolname = $1",
        role,
    )
    return row


async def _is_member(conn: asyncpg.Connection, member: str, group: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_auth_members m"
            " JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member"
            " WHERE g.rolname = $1 AND u.rolname = $2)",
            group,
            member,
        )
    )


_PLAIN = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


async def _ensure_plain_role(conn: asyncpg.Connection, role: str, *, login: bool) -> None:
    """`role` exists with no special attribute (and LOGIN as asked); an existing role that has
    more (a superuser of the same name, say) is brought down to it."""
    can_login = "LOGIN" if login else "NOLOGIN"
    row = await _role(conn, role)
    if row is None:
        await conn.execute(f"CREATE ROLE {role} {can_login} INHERIT {_PLAIN}")
        return
    special = any(
        row[k] for k in ("rolsuper", "rolcreatedb", "rolcreaterole", "rolreplication", "rolbypassrls")
    )
    if special or row["rolcanlogin"] != login:
        await conn.execute(f"ALTER ROLE {role} {can_login} {_PLAIN}")


async def _grant_membership(conn: asyncpg.Connection, group: str, member: str) -> None:
    if not await _is_member(conn, member, group):
        await conn.execute(f"GRANT {group} TO {member}")


async def _become_able_to_be_owner(conn: asyncpg.Connection) -> None:
    """This connection's (non-superuser) user may SET ROLE to the owner and uses its privileges.
    On PostgreSQL 16+ a CREATEROLE role that created the owner holds a membership with ADMIN only
    (no SET, no INHERIT): a membership row is not enough, and the grant names its options (15 has
    no `WITH SET`: there a plain grant gives both)."""
    options = int(await conn.fetchval("SHOW server_version_num")) >= 160000
    become = "SET" if options else "MEMBER"  # before 16 every member may SET ROLE
    able = await conn.fetchval(
        f"SELECT pg_has_role(current_user, $1, '{become}') AND pg_has_role(current_user, $1, 'USAGE')",
        OWNER_ROLE,
    )
    if able:
        return
    user = await conn.fetchval("SELECT quote_ident(current_user)")
    with_options = " WITH INHERIT TRUE, SET TRUE" if options else ""
    await conn.execute(f"GRANT {OWNER_ROLE} TO {user}{with_options}")


async def ensure_owner(conn: asyncpg.Connection) -> None:
    """The owner and catalog-reader roles exist; the owner may create schemas in this database and
    the administrator (this connection's user) may become it."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await run_racing(conn, lambda: _ensure_plain_role(conn, OWNER_ROLE, login=False))
        await run_racing(conn, lambda: _ensure_plain_role(conn, CATALOG_READER_ROLE, login=False))
        if not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            await run_racing(conn, lambda: _become_able_to_be_owner(conn))
        if not await conn.fetchval(
            "SELECT has_database_privilege($1, current_database(), 'CREATE')", OWNER_ROLE
        ):
            database = await conn.fetchval("SELECT quote_ident(current_database())")
            await run_racing(
                conn, lambda: conn.execute(f"GRANT CREATE ON DATABASE {database} TO {OWNER_ROLE}")
            )
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def ensure_login(conn: asyncpg.Connection, login: ServiceLogin, *, reads_catalog: bool) -> None:
    """`login.role` exists as a plain login role with `login.password`, is no member of the owner,
    and a member of the catalog readers when the service reads the catalog."""
    role = login.role

    async def step() -> None:
        await _ensure_plain_role(conn, role, login=True)
        if login.password is not None:
            secret = scram_verifier(login.password) if login.password.isascii() else login.password
            statement = await conn.fetchval(
                "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)", role, secret
            )
            await conn.execute(statement)
        if await _is_member(conn, role, OWNER_ROLE):
            await conn.execute(f"REVOKE {OWNER_ROLE} FROM {role}")
        if reads_catalog:
            await _grant_membership(conn, CATALOG_READER_ROLE, role)
        elif await _is_member(conn, role, CATALOG_READER_ROLE):
            await conn.execute(f"REVOKE {CATALOG_READER_ROLE} FROM {role}")

    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await run_racing(conn, step)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
