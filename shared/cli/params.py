"""`qyzmet params set|list` and `qyzmet adoptions add|list`: administrator decisions, audited.

    qyzmet params set poverty_line --region akmola --from 2026-01-01 --value 12345 \
        --source "Akmola maslikhat decision No. ..." --actor admin@akmola
    qyzmet params list [--region R] [--on DATE] [--json]
    qyzmet adoptions add SERVICE EDITION --region R --from DATE --reason "..." --actor admin@x
    qyzmet adoptions list [--json]

Every change is written with its audit record in one transaction (schema `catalog`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from shared.cli import checked_database_url

if TYPE_CHECKING:  # the catalog, audit and database code loads when a command runs, not for `--help`
    import asyncpg

    from shared.catalog import AdoptionRecord
    from shared.catalog.store import CatalogStore

T = TypeVar("T")


PUBLISH_WAIT_S = 20.0
"""How long a catalog change waits for its audit record to reach the broker (else: next time)."""


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _with_store(
    work: Callable[[asyncpg.Connection, CatalogStore], Awaitable[T]], *, audited: bool = False
) -> T:
    import asyncio

    from shared.audit import AuditLog
    from shared.audit.keys import AuditKeyMissing, command_audit_key
    from shared.catalog import load_catalog
    from shared.catalog.store import CatalogStore
    from shared.cli.audit import publish_schemas
    from shared.db.pool import connect
    from shared.settings import PlatformSettings

    settings = PlatformSettings()
    database_url = checked_database_url(settings)
    if database_url is None:
        raise SystemExit(1)
    try:  # the running system's key, never a new one beside it
        key = command_audit_key() if audited else None
    except AuditKeyMissing as exc:
        print(f"qyzmet: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc

    async def run() -> T:
        conn = await connect(database_url)
        try:
            store = CatalogStore(load_catalog())
            store.audit = AuditLog(store.schema, key)  # reads (key None) make no key
            await store.migrate(conn)
            result = await work(conn, store)
        finally:
            await conn.close()
        if audited:  # the change's audit record on audit.v1, and the catalog chain's anchor
            try:
                published = publish_schemas(database_url, [store.schema])
                print(await asyncio.wait_for(published, PUBLISH_WAIT_S), file=sys.stderr)
            except Exception as exc:  # the change is stored and audited; it goes out next time
                print(f"qyzmet: audit record not published yet ({type(exc).__name__})", file=sys.stderr)
        return result

    return asyncio.run(run())


def _params_set(args: argparse.Namespace) -> int:
    from shared.catalog import CatalogError, ParameterRecord

    try:
        record = ParameterRecord(
            parameter=args.parameter,
            region=args.region,
            effective_from=date.fromisoformat(args.from_date),
            effective_to=date.fromisoformat(args.to_date) if args.to_date else None,
            value=_value(args.value),
            source=args.source,
            note=args.note,
        )
        stored = _with_store(
            lambda conn, store: store.set_parameter(conn, record, actor=args.actor, role="admin"),
            audited=True,
        )
    except (CatalogError, ValueError) as exc:
        print(f"qyzmet params: {exc}", file=sys.stderr)
        return 2
    print(f"{stored.parameter} [{stored.region}] from {stored.effective_from} = {stored.value!r} (audited)")
    return 0


def _params_list(args: argparse.Namespace) -> int:
    from shared.catalog import CatalogError

    async def work(conn: asyncpg.Connection, store: CatalogStore) -> list[dict[str, Any]]:
        book = await store.parameter_book(conn)
        on = date.fromisoformat(args.on) if args.on else date.today()
        rows = []
        for parameter in sorted(book.definitions):
            regions = [args.region] if args.region else ["national", *(r.id for r in store.catalog.regions)]
            for region in regions:
                try:
                    value = book.value(parameter, region, on)
                except CatalogError:
                    continue
                rows.append(
                    {"parameter": parameter, "region": region, "on": on.isoformat(), "value": str(value)}
                )
        return rows

    rows = _with_store(work)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(f"{row['parameter']:40} {row['region']:20} {row['value']}")
    return 0


def _adoptions_add(args: argparse.Namespace) -> int:
    from shared.catalog import AdoptionRecord, CatalogError

    try:
        record = AdoptionRecord(
            service=args.service,
            edition=args.edition,
            region=args.region,
            effective_from=date.fromisoformat(args.from_date),
            effective_to=date.fromisoformat(args.to_date) if args.to_date else None,
            adopted_by=args.actor,
            reason=args.reason,
        )
        _with_store(lambda conn, store: store.adopt(conn, record, role="admin"), audited=True)
    except (CatalogError, ValueError) as exc:
        print(f"qyzmet adoptions: {exc}", file=sys.stderr)
        return 2
    print(f"{record.service} [{record.region}] uses {record.edition} from {record.effective_from} (audited)")
    return 0


def _adoptions_list(args: argparse.Namespace) -> int:
    async def work(conn: asyncpg.Connection, store: CatalogStore) -> list[AdoptionRecord]:
        return await store.adoptions(conn, include_examples=not args.stored_only)

    records = _with_store(work)
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False, indent=2))
    else:
        for r in records:
            label = " (example)" if r.example else ""
            print(f"{r.service:45} {r.region:18} {r.edition:40} from {r.effective_from}{label}")
    return 0


def register(subparsers: Any) -> None:
    params = subparsers.add_parser("params", help="effective-dated parameter values (audited)")
    commands = params.add_subparsers(dest="params_command", required=True)
    set_cmd = commands.add_parser("set", help="record a parameter value for a region and period")
    set_cmd.add_argument("parameter")
    set_cmd.add_argument(
        "--region",
        required=True,
        help='region id, "national", or "<region>/<district>" for a district-scope parameter'
        " (e.g. housing_assistance_term --region karaganda/karaganda_city"
        """ --value '{"amount": 10, "unit": "working_days"}')""",
    )
    set_cmd.add_argument("--from", dest="from_date", required=True, help="effective from (YYYY-MM-DD)")
    set_cmd.add_argument("--to", dest="to_date", help="effective until, exclusive (YYYY-MM-DD)")
    set_cmd.add_argument("--value", required=True, help="number, or JSON for structured values")
    set_cmd.add_argument("--source", required=True, help="the act that set the value")
    set_cmd.add_argument("--note")
    set_cmd.add_argument("--actor", required=True, help="who records it (audited)")
    set_cmd.set_defaults(handler=_params_set)
    list_cmd = commands.add_parser("list", help="values in force on a date")
    list_cmd.add_argument("--region")
    list_cmd.add_argument("--on", help="date (default today)")
    list_cmd.add_argument("--json", action="store_true")
    list_cmd.set_defaults(handler=_params_list)

    adoptions = subparsers.add_parser("adoptions", help="which edition a region applies from when (audited)")
    acommands = adoptions.add_subparsers(dest="adoptions_command", required=True)
    add = acommands.add_parser("add", help="adopt an edition of a service for a region from a date")
    add.add_argument("service")
    add.add_argument("edition")
    add.add_argument("--region", required=True)
    add.add_argument("--from", dest="from_date", required=True)
    add.add_argument("--to", dest="to_date")
    add.add_argument("--reason", required=True)
    add.add_argument("--actor", required=True)
    add.set_defaults(handler=_adoptions_add)
    alist = acommands.add_parser("list", help="adoptions (examples and stored)")
    alist.add_argument("--stored-only", action="store_true")
    alist.add_argument("--json", action="store_true")
    alist.set_defaults(handler=_adoptions_list)
