"""The simulator's parts without a running system: what it submits is what intake's contract
accepts, with valid ИИН and only catalog data; its addresses resolve as documented; and a system
that refuses everything (4xx) or fails (5xx) never ends a run, only shows in the counts."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from prometheus_client import REGISTRY

from services.intake.adapters.offices import load_offices
from services.simulator.applicants import application_body, household, make_family
from services.simulator.desks import Urls
from services.simulator.offers import Offer, default_offers
from services.simulator.plugin import resolve_urls
from services.simulator.simulation import SimulationConfig, simulate
from services.simulator.stories import Behaviour, _lessons
from shared.catalog.loader import load_catalog
from shared.contracts.applications import SubmitApplication
from shared.contracts.decisions import HouseholdMember
from shared.identity import parse_iin

TODAY = date.today()


@pytest.fixture(scope="module")
def offers() -> list[Offer]:
    return default_offers(TODAY)


def test_offers_are_what_the_catalog_and_the_office_register_allow(offers: list[Offer]) -> None:
    catalog = load_catalog()
    offices = {o.id: o for o in load_offices().all()}
    for offer in offers:
        edition = catalog.service(offer.service_id).edition(offer.edition_id)
        assert offer.channel in offices[offer.office_id].channels
        assert offer.channel in edition.channels
        assert set(offer.documents) == {d.id for d in edition.documents}
        assert set(offer.refusal_grounds) <= {g.id for g in edition.refusal_grounds}
    assert len({o.region for o in offers}) >= 5, "several oblasts and cities"
    assert {"tson", "department"} <= {o.office_kind for o in offers}, "ЦОН desks and departments"
    assert len({o.service_id for o in offers}) >= 20, "across the catalog's services"
    known_only_from_amendments = {"wheelchair_docs", "sanatorium_treatment_docs"}
    assert not known_only_from_amendments & {o.service_id for o in offers}


def test_families_have_valid_iins_and_bodies_fit_the_intake_contract(offers: list[Offer]) -> None:
    rng = random.Random(7)
    for _ in range(300):
        offer = rng.choice(offers)
        family = make_family(rng, TODAY)
        for member in family.members:
            parsed = parse_iin(member.iin, today=TODAY)
            assert parsed.birth_date == member.birth_date
        body = application_body(offer, family, rng, leave_out=False)
        command = SubmitApplication.model_validate(body)
        assert command.family_members and command.family_members[0].relation == "self"
        assert [d.document_id for d in command.documents] == list(offer.documents)
        for member in household(family):
            HouseholdMember.model_validate(member)


def test_leaving_out_a_document_drops_exactly_one_everyone_must_bring(offers: list[Offer]) -> None:
    rng = random.Random(3)
    offer = next(o for o in offers if o.droppable)
    body = application_body(offer, make_family(rng, TODAY), rng, leave_out=True)
    presented = {d["document_id"] for d in body["documents"]}
    missing = set(offer.documents) - presented
    assert len(missing) == 1 and missing <= set(offer.droppable)


def test_addresses_come_from_the_option_then_the_running_system_then_the_ports() -> None:
    recorded = {"intake": "http://10.0.0.1:9001/docs", "notification": "http://10.0.0.1:9003/docs"}
    urls = resolve_urls(["complaints=http://c.example:80/"], recorded, {"DECISION_API_PORT": "9102"})
    assert urls == {
        "intake": "http://10.0.0.1:9001",
        "decision": "http://127.0.0.1:9102",
        "complaints": "http://c.example:80",
    }
    with pytest.raises(SystemExit):
        resolve_urls(["notification=http://x"], {}, {})


class _Refuser(BaseHTTPRequestHandler):
    status: ClassVar[int] = 400
    calls: ClassVar[int] = 0

    def _answer(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"detail": "refused by the test"}'
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def refuser() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.mark.parametrize("status", [400, 403, 500])
async def test_a_system_answering_errors_never_ends_the_run(
    refuser: str, offers: list[Offer], status: int
) -> None:
    _Refuser.status, _Refuser.calls = status, 0
    before = _simulator_samples()
    lines: list[str] = []
    config = SimulationConfig(
        rate=40,
        duration_s=1.5,
        report_every_s=0.5,
        grace_s=1,
        seed=1,
        ready_wait_s=0,
        behaviour=Behaviour(think_s=0),
    )
    tally = await asyncio.wait_for(
        simulate(Urls(refuser, refuser, refuser), "s" * 40, offers, config, say=lines.append), 30
    )
    assert tally.events["submitted"] > 10
    assert not [k for k in tally.events if k.startswith("story_error")]
    assert tally.answers[f"submit {status}"] == tally.events["submitted"]
    assert _Refuser.calls >= tally.events["submitted"]
    assert len(lines) >= 3 and all(line.startswith("simulator ") for line in lines[:-1])
    assert f"{str(status)[0]}xx" in lines[-2] or f"{str(status)[0]}xx" in lines[-1]
    # the same counts on the simulator's /metrics (its process-wide registry)
    moved = {key: n - before.get(key, 0.0) for key, n in _simulator_samples().items()}
    submitted = tally.events["submitted"]
    assert moved[("qyzmet_simulator_answers_total", "submit", f"{str(status)[0]}xx")] == submitted
    by_office = {k: n for k, n in moved.items() if k[0] == "qyzmet_simulator_applications_total" and n}
    assert sum(n for k, n in by_office.items() if k[3] == "submitted") == submitted
    assert {(k[1], k[2]) for k in by_office} <= {(o.service_id, o.office_id) for o in offers}
    assert not {k for k, n in by_office.items() if k[3] == "accepted"}
    assert moved[("qyzmet_simulator_events_total", "submitted")] == submitted
    assert REGISTRY.get_sample_value("qyzmet_simulator_rate_per_second") == 40
    assert REGISTRY.get_sample_value("qyzmet_simulator_stories_in_flight") == 0


def _simulator_samples() -> dict[tuple[str, ...], float]:
    """Every sample of the simulator's counters: (name, *label values) -> value."""
    return {
        (sample.name, *sample.labels.values()): sample.value
        for metric in REGISTRY.collect()
        if metric.name.startswith("qyzmet_simulator_")
        for sample in metric.samples
        if sample.name.endswith("_total")
    }


def test_a_refused_draft_teaches_only_what_an_officer_may_supply() -> None:
    detail = (
        "inputs missing for: rural_residence (fact 'rural_residence' not recorded); "
        "maslikhat_category (category not recorded (fact 'category'))"
    )
    assert _lessons(detail) == {"fact:rural_residence"}
    assert _lessons("no computable rule decides this service: record the outcome") == {"outcome"}
    assert _lessons("inputs missing for: housing_costs_share (housing costs or household not recorded)") == {
        "housing_costs"
    }
    assert _lessons("amount is required: the catalog gives no formula (rule 'amount')") == set()
