"""`qyzmet report quality --from --to [--office] [--service] [--per] --format csv|json|html`: the
services' quality indicators from their event logs, beside the catalog's targets."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from typing import Any

from shared.cli import checked_database_url


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _quality(args: argparse.Namespace) -> int:
    # Imported here: `qyzmet --help` must not load the catalog, asyncpg or pydantic models.
    import asyncio

    from shared.catalog.loader import load_catalog
    from shared.db.pool import connect
    from shared.quality.build import ReportRequest, build_report
    from shared.quality.html import to_html
    from shared.quality.periods import Split
    from shared.quality.pg_reader import EventSchemas
    from shared.quality.render import to_csv, to_json
    from shared.settings import PlatformSettings

    if args.to < args.start:
        print("qyzmet report quality: --to: must not be before --from", file=sys.stderr)
        return 2
    database_url = checked_database_url(PlatformSettings())
    if database_url is None:
        return 2
    request = ReportRequest(
        start=args.start,
        end=args.to,
        split=Split(args.per),
        office=args.office,
        service=args.service,
        schemas=EventSchemas(args.intake_schema, args.decision_schema, args.complaints_schema),
        catalog_schema=args.catalog_schema,
    )

    async def run() -> Any:
        conn = await connect(database_url)
        try:
            return await build_report(conn, load_catalog(), request)
        finally:
            await conn.close()

    report = asyncio.run(run())
    render = {"csv": to_csv, "json": to_json, "html": to_html}[args.format]
    text = render(report)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("report", help="reports from the event logs")
    reports = parser.add_subparsers(dest="report_command", required=True)
    quality = reports.add_parser(
        "quality",
        help="quality indicators per service, office and period, beside the catalog's targets",
        description="Quality indicators from the services' event logs (share served within term,"
        " first-time-right submissions, justified complaints, complaints answered within term) per"
        " service, office and period, beside the catalog's target values. Periods are whole local days.",
    )
    quality.add_argument("--from", dest="start", type=_day, required=True, help="first day, YYYY-MM-DD")
    quality.add_argument("--to", type=_day, required=True, help="last day (inclusive), YYYY-MM-DD")
    quality.add_argument(
        "--office", help="only this office (that received, decided, or was complained about)"
    )
    quality.add_argument("--service", help="only this catalog service id")
    quality.add_argument(
        "--per", choices=["range", "month", "quarter", "year"], default="range",
        help="split the range into periods (default: one period)",
    )  # fmt: skip
    quality.add_argument("--format", choices=["csv", "json", "html"], default="csv")
    quality.add_argument("--output", "-o", help="write to this file instead of standard output")
    quality.add_argument("--intake-schema", default=os.environ.get("INTAKE_SCHEMA") or "intake")
    quality.add_argument("--decision-schema", default=os.environ.get("DECISION_SCHEMA") or "decision")
    quality.add_argument("--complaints-schema", default=os.environ.get("COMPLAINTS_SCHEMA") or "complaints")
    quality.add_argument("--catalog-schema", default="catalog", help="where recorded parameter values are")
    quality.set_defaults(handler=_quality)
