"""`qyzmet audit verify --schema SCHEMA`: check a service's hash-chained audit log."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from shared.audit import AuditLog
from shared.db.pool import connect
from shared.settings import PlatformSettings


async def _verify(database_url: str, schema: str) -> dict[str, Any]:
    conn = await connect(database_url)
    try:
        result = await AuditLog(schema).verify(conn)
    finally:
        await conn.close()
    return {
        "schema": schema,
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_seq": result.first_bad_seq,
        "reason": result.reason,
    }


def _audit_verify(args: argparse.Namespace) -> int:
    settings = PlatformSettings()
    if not settings.database_url:
        print('qyzmet: DATABASE_URL is not set (run `eval "$(qyzmet infra up)"`)', file=sys.stderr)
        return 2
    report = asyncio.run(_verify(settings.database_url, args.schema))
    if args.json:
        print(json.dumps(report))
    elif report["ok"]:
        print(f"{args.schema}: audit chain intact ({report['checked']} records)")
    else:
        print(f"{args.schema}: audit chain BROKEN at record {report['first_bad_seq']}: {report['reason']}")
    return 0 if report["ok"] else 1


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="audit-log tools")
    commands = parser.add_subparsers(dest="audit_command", required=True)
    verify = commands.add_parser("verify", help="verify a service's audit hash chain")
    verify.add_argument("--schema", required=True, help="service schema: intake, decision, ...")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=_audit_verify)
