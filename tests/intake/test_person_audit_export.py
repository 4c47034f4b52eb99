"""`qyzmet audit export --iin` across services: besides the reads made by the ИИН (its pseudonym
in the record), every record of an action on the person's applications - the decision service's
reads of the case (`application:<id>`), intake's own commands (`application/<id>`) - found through
intake's status view (and its log, for what the projector has not reached), although the decision
service keeps no ИИН - and the records of complaints about those applications."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.adapters.projection import ApplicationProjector
from services.intake.bootstrap import build
from services.intake.domain.identity import make_iin
from shared.audit import AuditEntry, AuditKey, AuditLog
from shared.auth.roles import Role
from shared.cli.main import main
from shared.contracts.applications import SubmitApplication
from shared.domain.actor import Actor
from shared.eventstore import apply_migrations
from shared.service_layer import Meta
from tests.intake.conftest import APPLICANT_IIN, DEPT, unemployed_registration

KEY = AuditKey(b"the installation's audit key, for the pseudonyms")
OTHER_IIN = make_iin(date(1979, 11, 3), 42)


def case_read(application_id: str, reader: str) -> AuditEntry:
    """A read of a case as the decision service records it (no ИИН: it keeps none)."""
    return AuditEntry(
        actor=reader, role="specialist", office=DEPT, action="personal_data.read",
        subject=f"application:{application_id}", details={"what": "case history"},
    )  # fmt: skip


async def test_export_by_iin_finds_the_reads_of_the_persons_cases_in_another_service(
    pool: asyncpg.Pool,
    admin_pool: asyncpg.Pool,
    intake_schema: str,
    catalog: CatalogAdapter,
    offices: OfficeBook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("QYZMET_AUDIT_KEY", KEY.secret.decode())
    monkeypatch.setenv("QYZMET_DATA_DIR", str(tmp_path))
    start = datetime.now(UTC) - timedelta(seconds=1)
    service = build(pool, intake_schema, catalog=catalog, offices=offices, pseudonym_key="k" * 32).service
    clerk = Meta(Actor(subject="clerk-1", role=Role.CLERK.value, office=DEPT))
    mine = await service.handle(SubmitApplication.model_validate(unemployed_registration()), clerk)
    other_body = unemployed_registration(applicant={"iin": OTHER_IIN, "full_name": "Басқа Адам"})
    others = await service.handle(SubmitApplication.model_validate(other_body), clerk)
    while await ApplicationProjector(pool, intake_schema).run_once():  # intake's status view
        pass
    # submitted after the projector's last batch: not in the status view yet, found in the log
    late = await service.handle(SubmitApplication.model_validate(unemployed_registration()), clerk)
    decision = "td_person_export"  # another service's schema: reads of the cases, no ИИН
    async with admin_pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {decision} CASCADE")
        await apply_migrations(conn, decision)
        log = AuditLog(decision, KEY)
        await log.append(conn, case_read(mine.event.application_id, "reader-of-mine"))
        await log.append(conn, case_read(late.event.application_id, "reader-of-late"))
        await log.append(conn, case_read(others.event.application_id, "reader-of-others"))
        # a complaint about the person's application, as the complaints service keeps it
        await conn.execute(f"CREATE TABLE {decision}.complaints (complaint_id text, application_id text)")
        await conn.execute(
            f"INSERT INTO {decision}.complaints VALUES ('c-mine', $1), ('c-other', $2)",
            mine.event.application_id,
            others.event.application_id,
        )
        for complaint in ("c-mine", "c-other"):
            await log.append(conn, AuditEntry(
                actor="reviewer-1", role="reviewer", office=DEPT, action="complaint.resolve",
                subject=f"complaint/{complaint}",
            ))  # fmt: skip
    end = datetime.now(UTC) + timedelta(seconds=1)
    try:
        argv = ["audit", "export", "--from", start.isoformat(), "--to", end.isoformat()]
        argv += ["--schema", intake_schema, "--schema", decision, "--iin", APPLICANT_IIN]
        capsys.readouterr()  # the service's log lines so far
        assert await asyncio.to_thread(main, argv) == 0
    finally:
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {decision} CASCADE")
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    found = {(r["schema"], r["action"], r["subject"]) for r in rows}
    assert found == {
        (intake_schema, "application.submit", f"application/{mine.event.application_id}"),
        (intake_schema, "application.submit", f"application/{late.event.application_id}"),
        (decision, "personal_data.read", f"application:{mine.event.application_id}"),
        (decision, "personal_data.read", f"application:{late.event.application_id}"),
        (decision, "complaint.resolve", "complaint/c-mine"),
    }
    assert APPLICANT_IIN not in out + err
