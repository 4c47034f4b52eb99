"""`qyzmet replay decisions --verify`: every recorded decision re-evaluated with its recorded
inputs under the rules in force when it was made (the catalog as it is now: the edition in force
on the application's date, by adoption or effective dates, and effective-dated parameter values);
lists each that would now differ, with why. Exit 1 if any.
The filters of `qyzmet replay` apply (`--office`, `--service`, `--from`/`--to`: decided then)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.cli import checked_database_url
from shared.db.pool import create_pool
from shared.replay.spec import AuditResult, ProjectionSpec, Selection
from shared.runtime.registry import registered_services
from shared.settings import PlatformSettings


def _auditing() -> ProjectionSpec | None:
    specs = (spec for plugin in registered_services() for spec in plugin.load_projections().values())
    return next((spec for spec in specs if spec.audit is not None), None)


async def _run(spec: ProjectionSpec, database_url: str, selection: Selection) -> AuditResult:
    assert spec.audit is not None
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        return await spec.audit(pool, selection)
    finally:
        await pool.close()


def audit_decisions(args: argparse.Namespace) -> int:
    if not args.verify:
        print("qyzmet replay decisions: nothing to rebuild; add --verify to re-check every decision")
        return 2
    spec = _auditing()
    if spec is None:
        print("qyzmet replay decisions: no installed service records decisions", file=sys.stderr)
        return 2
    database_url = checked_database_url(PlatformSettings())
    if database_url is None:
        return 2
    selection = Selection(office=args.office, service=args.service, since=args.since, until=args.until)
    result = asyncio.run(_run(spec, database_url, selection))
    for finding in result.findings:
        print(f"{finding.subject} (decided {finding.at.isoformat()}) would now differ:")
        for reason in finding.reasons:
            print(f"  - {reason}")
    print(f"decisions: {result.checked} re-evaluated, {len(result.findings)} would now differ")
    return 1 if result.findings else 0
