"""One application's story, as the offices live it: the desk submits it (some arrive without a
document and are refused at intake), the head assigns a specialist, the commission inspects where
the edition says so, the specialist drafts, the head signs (now and then returns the draft first),
and some applicants complain; the routed reviewer answers, and an upheld complaint reopens the case,
which is then decided again.

Each step follows what the case says of itself (`GET /v1/cases/{id}`: status, whether an
inspection or a signature is needed), never a per-service script. A step the system refuses is
counted and the story ends there, as an officer would leave the case to a colleague.
"""

from __future__ import annotations

import asyncio
import random
import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.simulator.applicants import Family, application_body, household, make_family
from services.simulator.desks import Desks, problem_detail, subject_of
from services.simulator.metrics import APPLICATIONS
from services.simulator.offers import Offer
from shared.auth.roles import Role

YES_NO_FACT = re.compile(r"fact '([a-z_]+)' not recorded")
DONE = frozenset({"decided", "active", "suspended", "ended", "withdrawn"})
MAX_STEPS = 16


@dataclass(frozen=True)
class Behaviour:
    """How the simulated people behave (shares of applications; `think_s`: mean pause per step)."""

    leave_out_document: float = 0.12
    come_back_with_document: float = 0.6
    withdraw: float = 0.02
    complain: float = 0.08
    complain_of_refusal_at_intake: float = 0.2
    return_draft: float = 0.05
    schedule_conditional_inspection: float = 0.3
    approve_when_officer_decides: float = 0.75
    think_s: float = 1.0
    case_wait_s: float = 90.0


class Story:
    def __init__(self, desks: Desks, offer: Offer, rng: random.Random, behaviour: Behaviour) -> None:
        self.desks = desks
        self.offer = offer
        self.rng = rng
        self.b = behaviour
        self.tally = desks.tally
        self.family: Family = make_family(rng, date.today())
        self.office = offer.office_id
        self.desk_role = Role.TSON if offer.office_kind == "tson" else Role.CLERK
        self.last_detail = ""

    async def pause(self) -> None:
        await asyncio.sleep(self.rng.expovariate(1 / self.b.think_s) if self.b.think_s > 0 else 0)

    async def run(self) -> None:
        leave_out = self.rng.random() < self.b.leave_out_document
        application_id = await self.submit(leave_out=leave_out)
        if application_id is None and leave_out and self.rng.random() < self.b.come_back_with_document:
            await self.pause()  # the applicant comes back with the document
            self.tally.note("resubmitted")
            application_id = await self.submit(leave_out=False)
        if application_id is None:
            return
        if self.rng.random() < self.b.withdraw:
            await self.pause()
            url = f"{self.desks.urls.intake}/v1/applications/{application_id}/withdrawal"
            body = {"reason": "заявитель отозвал заявление"}
            answer = await self.desks.call("withdraw", "POST", url, self.desk_role, self.office, body)
            self.tally.note("withdrawn", answer is not None and answer.status_code == 200)
            return
        if not await self.work_case(application_id):
            return
        if self.rng.random() < self.b.complain:
            await self.pause()
            if await self.complain(application_id, "decision") == "upheld":
                await self.work_case(application_id)

    async def submit(self, *, leave_out: bool) -> str | None:
        """The desk submits; the application's id once a talon is issued (None otherwise)."""
        body = application_body(self.offer, self.family, self.rng, leave_out=leave_out)
        url = f"{self.desks.urls.intake}/v1/applications"
        self.tally.note("submitted")
        self.counted("submitted")
        answer = await self.desks.call("submit", "POST", url, self.desk_role, self.office, body)
        if answer is None:
            return None
        if answer.status_code == 422:
            self.tally.note("refused_at_intake")
            self.counted("refused")
            refused_id = answer.json().get("application_id")
            if refused_id and self.rng.random() < self.b.complain_of_refusal_at_intake:
                await self.pause()
                await self.complain(refused_id, "intake_refusal")
            return None
        if answer.status_code not in (200, 201):
            return None
        self.tally.note("accepted")
        self.counted("accepted")
        return str(answer.json()["application_id"])

    def counted(self, outcome: str) -> None:
        APPLICATIONS.labels(self.offer.service_id, self.office, outcome).inc()

    # ------------------------------------------------------------------ the case

    def case_url(self, application_id: str, path: str = "") -> str:
        return f"{self.desks.urls.decision}/v1/cases/{application_id}{path}"

    async def read_case(self, application_id: str) -> dict[str, Any] | None:
        """The case once the decision service opened it (it follows the talon over Kafka)."""
        waited = 0.0
        while waited <= self.b.case_wait_s:
            answer = await self.desks.call(
                "case", "GET", self.case_url(application_id), Role.HEAD, self.office
            )
            if answer is not None and answer.status_code == 200:
                return answer.json()  # type: ignore[no-any-return]
            if answer is not None and answer.status_code != 404:
                return None
            await asyncio.sleep(1.0)
            waited += 1.0
        self.tally.note("case_not_opened")
        return None

    async def work_case(self, application_id: str) -> bool:
        """Take the case to a decision; True once it is decided."""
        for _ in range(MAX_STEPS):
            case = await self.read_case(application_id)
            if case is None:
                return False
            status = case["status"]
            if status in DONE:
                self.tally.note("decided")
                return True
            await self.pause()
            if not await self.step(application_id, case):
                self.tally.note("left_to_officers")
                return False
        return False

    async def command(self, step: str, application_id: str, path: str, role: Role, body: Any = None) -> bool:
        answer = await self.desks.call(
            step, "POST", self.case_url(application_id, path), role, self.office, body
        )
        self.last_detail = problem_detail(answer) if answer is not None and answer.status_code >= 400 else ""
        return answer is not None and answer.status_code == 200

    async def step(self, application_id: str, case: dict[str, Any]) -> bool:
        status = case["status"]
        if status == "registered":
            ok = await self.command(
                "assign",
                application_id,
                "/assign",
                Role.HEAD,
                {"executor": subject_of(Role.SPECIALIST, self.office)},
            )
            self.tally.note("assigned", ok)
            return ok
        if status == "awaiting_inspection":
            return await self.inspect(application_id)
        if status == "awaiting_signature":
            if self.rng.random() < self.b.return_draft:
                ok = await self.command(
                    "return", application_id, "/return", Role.HEAD, {"reason": "пересчитать доход семьи"}
                )
                self.tally.note("returned", ok)
                return ok
            ok = await self.command("sign", application_id, "/sign", Role.HEAD)
            self.tally.note("signed", ok)
            return ok
        if status == "under_review":
            if case["inspection_date"] is not None and not case["inspection_completed"]:
                return await self.inspect(application_id)
            mode = case["inspection_required"]
            wants = mode == "required" or (
                mode == "conditional" and self.rng.random() < self.b.schedule_conditional_inspection
            )
            if wants and not case["inspection_completed"]:
                body = {"inspection_date": date.today().isoformat(), "communicated_to_applicant": True}
                return await self.command(
                    "schedule", application_id, "/inspection/schedule", Role.INSPECTOR, body
                )
            return await self.draft(application_id)
        return False  # "new": the case is being opened; nothing an officer can do yet

    async def inspect(self, application_id: str) -> bool:
        act = {
            "act_number": f"SIM-{uuid.uuid4().hex[:8]}",
            "inspected_on": date.today().isoformat(),
            "living_conditions": "условия проживания удовлетворительные",
            "household": household(self.family),
            "conclusion": self.rng.choice(("need", "need", "no_need", "not_stated")),
        }
        ok = await self.command(
            "inspect", application_id, "/inspection/complete", Role.INSPECTOR, {"act": act}
        )
        self.tally.note("inspections", ok)
        return ok

    async def draft(self, application_id: str) -> bool:
        """Inputs first (the rules decide where the catalog has them); the officer's own outcome
        only where the service has no computable rule, a refusal always on a catalog ground."""
        unemployed = self.family.applicant.employment == "unemployed"
        body: dict[str, Any] = {"household": household(self.family), "registered_unemployed": unemployed}
        learned = self.desks.learned.setdefault(self.offer.service_id, set())
        for attempt in range(2):
            if "housing_costs" in learned:
                body["housing_costs"] = str(self.rng.randrange(10, 120) * 500)
            if "outcome" in learned:
                grounds = self.offer.refusal_grounds
                if self.rng.random() < self.b.approve_when_officer_decides or not grounds:
                    body["outcome"] = "approved"
                else:
                    body.update(outcome="refused", grounds=[self.rng.choice(grounds)])
            facts = sorted(x.removeprefix("fact:") for x in learned if x.startswith("fact:"))
            if facts:
                body["facts"] = {fact: "yes" if self.rng.random() < 0.8 else "no" for fact in facts}
            if await self.command("draft", application_id, "/draft", Role.SPECIALIST, body):
                self.tally.note("drafted")
                return True
            lessons = _lessons(self.last_detail) - learned
            if attempt or not lessons:
                return False  # e.g. an amount only an officer sets, a category, a parameter with no value
            learned.update(lessons)
        return False

    # ------------------------------------------------------------------ complaints

    async def complain(self, application_id: str, subject: str) -> str | None:
        """The applicant complains at the office; the routed reviewer answers. The outcome, if any."""
        applicant = self.family.applicant
        body = {
            "idempotency_key": str(uuid.uuid4()),
            "subject": subject,
            "application_id": application_id,
            "office_id": self.office,
            "channel": "in_person",
            "complainant": {"full_name": applicant.full_name, "preferred_language": self.family.language},
            "text": "Прошу пересмотреть решение: документы были представлены полностью.",
        }
        url = f"{self.desks.urls.complaints}/v1/complaints"
        answer = await self.desks.call("complain", "POST", url, self.desk_role, self.office, body)
        if answer is None or answer.status_code not in (200, 201):
            return None
        self.tally.note("complaints")
        talon = answer.json()
        await self.pause()
        outcome = self.rng.choices(("rejected", "partly_upheld", "upheld"), (6, 2, 2))[0]
        resolution = {"outcome": outcome, "reasoning": "рассмотрено по существу"}
        answered = await self.desks.call(
            "resolve", "POST", f"{url}/{talon['complaint_id']}/resolution", Role.REVIEWER,
            talon["reviewing_office"], resolution,
        )  # fmt: skip
        if answered is None or answered.status_code != 200:
            return None
        self.tally.note("complaints_resolved")
        return outcome


def _lessons(detail: str) -> set[str]:
    """What a refused draft says the service needs that the simulator can give: housing costs, the
    officer's own outcome, or yes/no facts the officer establishes (never a category or an amount,
    which the catalog or a maslikhat sets)."""
    found = {f"fact:{name}" for name in YES_NO_FACT.findall(detail) if name != "category"}
    if "housing costs" in detail or "housing_costs" in detail:
        found.add("housing_costs")
    if "record the outcome" in detail:
        found.add("outcome")
    return found
