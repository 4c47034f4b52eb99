"""`qyzmet replay decisions --verify`: decisions re-evaluated from their recorded inputs under the
rules in force when they were made. Honest decisions pass; a decision edited in the store is
found (its fields against its evaluation); a parameter value corrected afterwards for the
decision's date is found for every decision it changes, naming the parameter and the rule; a
decision recorded under another edition than the one the catalog has in force on its date (an
administrator's adoption, else the editions' effective dates) is found, naming both."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from services.decision.adapters.decision_audit import audit_decisions, in_force_per_catalog
from services.decision.domain import commands as c
from services.decision.domain.decision_audit import check_decision
from services.decision.service import DecisionService
from shared.catalog.editions import AdoptionRecord
from shared.catalog.store import CatalogStore
from shared.contracts.decisions import DecisionMade, InspectionAct
from shared.replay.spec import Selection
from tests.decision.helpers import (
    AKMOLA_Q4_2012,
    HEAD,
    INCOME_RULES,
    INSPECTOR,
    KRG,
    SPECIALIST,
    TSA,
    TSA_AKMOLA,
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


async def _unemployed_registration(service: DecisionService) -> str:
    """A Karaganda unemployed registration decided under krg_2008_standard (repealed 2009-07-07
    per seed 000) on a 2012 application: in force then only by the shipped example adoption."""
    office = "karaganda-dept-01"
    sub = submitted(
        service_id="unemployed_registration", edition_id=KRG, region="karaganda", office_id=office,
        channel="department", categories=["registered_unemployed"],
    )  # fmt: skip
    await service.execute(sub.application_id, c.OpenCase(sub))
    specialist = c.Actor("spec-krg", "specialist", office)
    await service.execute(sub.application_id, c.DraftDecision(specialist, outcome="approved"))
    return sub.application_id


async def test_a_decision_under_another_edition_than_the_one_in_force_is_found_with_why(
    service: DecisionService, pool: asyncpg.Pool, decision_schema: str
) -> None:
    tsa, krg = await _decide(service), await _unemployed_registration(service)
    as_decided = decision_catalog(*AKMOLA_Q4_2012)
    settings = service.settings

    # The catalog as shipped: the example adoptions put both editions in force on the 2012 dates
    # (krg_2008_standard's own effective dates end in 2009: it is in force by adoption only).
    clean = await audit_decisions(pool, decision_schema, EVERYTHING, catalog=as_decided, settings=settings)
    assert (clean.checked, clean.findings) == (2, ())

    # An administrator adopted Almaty's regulation for targeted social assistance in Akmola from
    # 1 November 2012: the Akmola decision was recorded under another edition than the one in force.
    store = CatalogStore(as_decided.catalog, settings.catalog_schema)
    async with pool.acquire() as conn:
        await store.migrate(conn)
        await store.adopt(
            conn,
            AdoptionRecord(
                service=TSA, edition="almaty_2012_regulation", region="akmola",
                effective_from=date(2012, 11, 1), adopted_by="admin-1", reason="test: regional adoption",
            ),
            role="admin",
        )  # fmt: skip
    found = await audit_decisions(pool, decision_schema, EVERYTHING, catalog=as_decided, settings=settings)
    assert found.checked == 2 and [f.subject.split(",")[0] for f in found.findings] == [f"application {tsa}"]
    why = found.findings[0].reasons
    assert why[0] == (
        f"edition {TSA_AKMOLA} recorded, but the catalog has edition almaty_2012_regulation in force on"
        " 2012-11-15 in akmola (adoption by admin-1 from 2012-11-01)"
    ), why
    assert any(r.startswith("rules ") and "the edition now names" in r for r in why), why
    assert krg not in " ".join(f.subject for f in found.findings)


async def test_a_decision_with_no_edition_in_force_on_its_date_is_found_not_judged_by_its_own(
    service: DecisionService, pool: asyncpg.Pool, decision_schema: str
) -> None:
    krg = await _unemployed_registration(service)
    catalog = decision_catalog(*AKMOLA_Q4_2012)
    async with pool.acquire() as conn:
        data = await conn.fetchval(
            f"SELECT data FROM {decision_schema}.events"
            " WHERE stream_id = $1 AND event_type = 'decision.made'",
            f"case-{krg}",
        )
    made = DecisionMade.model_validate(data)
    # Without the example adoption nothing is in force on 2012-11-15 for Karaganda but the national
    # amendment-only edition; before that edition (7 April 2011) nothing at all.
    earlier = made.evaluation.model_copy(
        update={"inputs": made.evaluation.inputs.model_copy(update={"application_date": date(2010, 1, 5)})}
    )
    check = check_decision(
        made.model_copy(update={"evaluation": earlier}),
        in_force_per_catalog(catalog.catalog, ()),
        catalog.lookup,
    )
    assert check.reasons == (
        "no edition in force on 2010-01-05 per catalog for unemployed_registration in karaganda (no"
        " adoption record covers that date and no edition's effective dates contain it); the decision"
        f" names edition {KRG}",
    )
