"""`qyzmet status APPLICATION --as-of`: one application at three moments of its life shows three
states, folded from its events (intake's own and the steps other services recorded) up to each
moment; before its submission there is nothing; the applicant's ИИН is never printed."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.intake.adapters.as_of import status_as_of
from services.intake.domain.commands import RecordCaseProgress
from shared.cli.main import main
from shared.contracts.application_progress import CaseProgressRecorded, CaseStep, GroundRef
from shared.domain.actor import Actor
from shared.service_layer import Meta
from tests.intake.conftest import APPLICANT_IIN, auth, unemployed_registration

WORKER = Meta(Actor("system:intake", "system", "*"), correlation_id="corr-as-of")


def _step(aid: str, step: CaseStep, at: datetime, source: str, **facts: object) -> RecordCaseProgress:
    return RecordCaseProgress(
        CaseProgressRecorded(
            application_id=aid, step=step, source_event_id=str(uuid.uuid4()), source_event_type=source,
            occurred_at=at, recorded_by="officer-1", **facts,
        )
    )  # fmt: skip


async def test_three_moments_of_one_case_show_three_states(
    client: httpx.AsyncClient,
    app: FastAPI,
    pool: asyncpg.Pool,
    intake_schema: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before_submission = datetime.now(UTC) - timedelta(seconds=1)
    answer = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
    assert answer.status_code == 201, answer.text
    aid = answer.json()["application_id"]
    submitted = datetime.now(UTC)
    assigned, decided = submitted + timedelta(hours=1), submitted + timedelta(hours=2)
    service = app.state.intake.deps.service
    await service.handle(
        _step(aid, "executor_assigned", assigned, "decision.executor_assigned", executor="spec-1"), WORKER
    )
    grounds = (GroundRef(id="g1", text="ground"),)
    made = _step(
        aid, "decision_made", decided, "decision.made", outcome="refused", decided_at=decided, grounds=grounds
    )
    await service.handle(made, WORKER)

    moments = (
        submitted + timedelta(minutes=30),
        assigned + timedelta(minutes=30),
        decided + timedelta(minutes=30),
    )
    views = [await status_as_of(pool, intake_schema, aid, m) for m in moments]
    assert [v["status"] for v in views if v] == ["submitted", "under_review", "decided"]
    assert [len(v["history"]) for v in views if v] == [1, 2, 3]
    assert views[0] and views[0]["executor"] is None and views[0]["is_open"]
    assert views[1] and views[1]["executor"] == "spec-1" and views[1]["decision_outcome"] is None
    assert views[2] and views[2]["decision_outcome"] == "refused" and not views[2]["is_open"]
    assert await status_as_of(pool, intake_schema, aid, before_submission) is None

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INTAKE_SCHEMA", intake_schema)
    shown = []
    for moment in moments:
        code = await asyncio.to_thread(main, ["status", aid, "--as-of", moment.isoformat()])
        assert code == 0
        shown.append(capsys.readouterr().out)
    assert [
        "status: submitted" in shown[0],
        "status: under_review" in shown[1],
        "status: decided" in shown[2],
    ] == [
        True,
        True,
        True,
    ], shown
    assert "decision: refused" in shown[2] and "decision:" not in shown[1]
    code = await asyncio.to_thread(main, ["status", aid, "--as-of", moments[2].isoformat(), "--json"])
    as_json = capsys.readouterr().out
    assert code == 0 and json.loads(as_json)["status"] == "decided"
    assert all(APPLICANT_IIN not in text for text in [*shown, as_json])  # the view holds it; never shown
    code = await asyncio.to_thread(main, ["status", aid, "--as-of", before_submission.isoformat()])
    assert code == 1 and "had not been submitted" in capsys.readouterr().out
