"""`qyzmet replay decisions --verify`: decisions re-evaluated from their recorded inputs under the
rules in force when they were made. Honest decisions pass; a decision edited in the store is
found (its fields against its evaluation); a parameter value corrected afterwards for the
decision's date is found for every decision it changes, naming the parameter and the rule."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from services.decision.adapters.decision_audit import audit_decisions
from services.decision.domain import commands as c
from services.decision.service import DecisionService
from shared.contracts.decisions import InspectionAct
from shared.replay.spec import Selection
from tests.decision.helpers import (
    AKMOLA_Q4_2012,
    HEAD,
    INCOME_RULES,
    INSPECTOR,
    SPECIALIST,
    act_json,
    decision_catalog,
    record,
    submitted,
)

EVERYTHING = Selection()


async def _decide(service: DecisionService) -> str:
    sub = submitted()
    aid = sub.application_id
    await service.execute(aid, c.OpenCase(sub))
    await service.execute(aid, c.AssignExecutor(HEAD, "spec-1"))
    await service.execute(aid, c.ScheduleInspection(INSPECTOR, date(2012, 11, 17)))
    await service.execute(aid, c.RecordInspection(INSPECTOR, InspectionAct.model_validate(act_json())))
    await service.execute(aid, c.DraftDecision(SPECIALIST, amount="4000"))
    await service.execute(aid, c.SignDecision(HEAD))
    return aid


async def test_honest_decisions_pass_an_edited_one_and_a_corrected_parameter_are_found(
    service: DecisionService, pool: asyncpg.Pool, decision_schema: str
) -> None:
    honest, edited = await _decide(service), await _decide(service)
    as_decided = decision_catalog(*AKMOLA_Q4_2012)

    clean = await audit_decisions(pool, decision_schema, EVERYTHING, catalog=as_decided)
    assert (clean.checked, clean.findings) == (2, ())

    async with pool.acquire() as conn:
        tampered = await conn.execute(
            f"UPDATE {decision_schema}.events SET data = jsonb_set(data, '{{outcome}}', '\"refused\"')"
            " WHERE event_type = 'decision.made' AND stream_id = $1",
            f"case-{edited}",
        )
    assert tampered == "UPDATE 1"
    found = await audit_decisions(pool, decision_schema, EVERYTHING, catalog=as_decided)
    assert found.checked == 2 and [f.subject.split(",")[0] for f in found.findings] == [
        f"application {edited}"
    ]
    assert "outcome 'refused' recorded, its evaluation gives 'approved'" in found.findings[0].reasons
    assert honest not in " ".join(f.subject for f in found.findings)

    # The poverty line in force for the fourth quarter of 2012 was corrected afterwards (below the
    # household's 9,000 per head): both decisions would now be refusals.
    corrected = decision_catalog(
        record("poverty_line", "akmola", date(2012, 10, 1), "8000", date(2013, 1, 1)),
        *AKMOLA_Q4_2012[1:],
    )
    assert INCOME_RULES in AKMOLA_Q4_2012
    changed = await audit_decisions(pool, decision_schema, EVERYTHING, catalog=corrected)
    assert len(changed.findings) == 2
    reasons = {f.subject.split(",")[0]: f.reasons for f in changed.findings}
    why = reasons[f"application {honest}"]
    assert any(
        r.startswith("parameter poverty_line (akmola,") and "9500 used, 8000 in force" in r for r in why
    ), why
    assert any(r.startswith("condition ") and "held True, now False" in r for r in why), why
    assert "outcome 'approved' recorded, the rules now give 'refused'" in why

    decided_later = Selection(since=max(f.at for f in changed.findings) + timedelta(days=1))
    assert (await audit_decisions(pool, decision_schema, decided_later, catalog=corrected)).checked == 0
