"""`qyzmet run` says the system is running once every API answers `/healthz`, not when the
processes are spawned; a process that stops before that is named."""

from __future__ import annotations

from shared.runtime.startup_wait import StartupWait, answers_healthz
from tests.platform.test_supervisor import World

URLS = {"intake": "http://127.0.0.1:8001/docs", "decision": "http://127.0.0.1:8002/docs"}


def test_ready_only_once_every_api_answered() -> None:
    answering: set[str] = set()
    now = [0.0]
    wait = StartupWait(URLS, probe=lambda url: url in answering, interval_s=0.5, clock=lambda: now[0])
    assert not wait.check() and set(wait.pending) == {"intake", "decision"}
    answering.add(URLS["intake"])
    assert not wait.check(), "probed again before the interval"
    now[0] = 0.5
    assert not wait.check() and set(wait.pending) == {"decision"}
    answering.discard(URLS["intake"])  # one that answered stays answered
    answering.add(URLS["decision"])
    now[0] = 1.0
    assert wait.check() and wait.ready and not wait.pending


def test_a_process_that_stops_before_the_apis_answer_is_named_once() -> None:
    world = World()
    supervisor = world.supervisor("intake-api", "decision-worker", "decision-api")
    supervisor.start()
    wait = StartupWait(URLS, probe=lambda url: False)
    assert wait.stopped_early(supervisor) == []
    world.crash("decision-worker")
    supervisor.poll()
    assert wait.stopped_early(supervisor) == ["decision-worker"]
    assert wait.stopped_early(supervisor) == [], "said once"


def test_an_api_that_is_not_listening_does_not_answer() -> None:
    assert not answers_healthz("http://127.0.0.1:9/docs")
