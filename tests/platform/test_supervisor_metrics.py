"""The supervisor's `/metrics` (`qyzmet run`): its children running, restarts, crashes and give-ups,
read from its state when scraped."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from shared.runtime.supervisor_metrics import SupervisorCollector
from tests.platform.test_supervisor import World


def _value(registry: CollectorRegistry, name: str, process: str | None = None) -> float | None:
    return registry.get_sample_value(name, {"process": process} if process else {})


def test_the_supervisor_counts_running_children_restarts_crashes_and_give_ups() -> None:
    world = World()
    sup = world.supervisor("intake-api", "decision-worker")
    registry = CollectorRegistry()
    registry.register(SupervisorCollector(sup))
    assert _value(registry, "qyzmet_supervisor_processes_running") == 0  # not started yet
    sup.start()
    assert _value(registry, "qyzmet_supervisor_processes_running") == 2
    assert _value(registry, "qyzmet_supervisor_process_up", "decision-worker") == 1
    assert _value(registry, "qyzmet_supervisor_restarts_total", "decision-worker") == 0

    world.crash("decision-worker")
    sup.poll()
    assert _value(registry, "qyzmet_supervisor_processes_running") == 1
    assert _value(registry, "qyzmet_supervisor_process_up", "decision-worker") == 0
    assert _value(registry, "qyzmet_supervisor_crashes_total", "decision-worker") == 1
    world.now = 1.0
    sup.poll()
    assert _value(registry, "qyzmet_supervisor_restarts_total", "decision-worker") == 1
    assert _value(registry, "qyzmet_supervisor_process_up", "decision-worker") == 1

    for _ in range(3):  # the limit is 4 crashes in the window
        world.crash("decision-worker")
        sup.poll()
        world.now += 10
        sup.poll()
    assert _value(registry, "qyzmet_supervisor_given_up", "decision-worker") == 1
    assert _value(registry, "qyzmet_supervisor_given_up", "intake-api") == 0
    assert _value(registry, "qyzmet_supervisor_crashes_total", "decision-worker") == 4
    assert _value(registry, "qyzmet_supervisor_restarts_total", "decision-worker") == 3
    assert _value(registry, "qyzmet_supervisor_processes_running") == 1
    assert b"# TYPE qyzmet_supervisor_restarts_total counter" in generate_latest(registry)


def test_a_scrape_never_polls_a_child() -> None:
    """The scrape (the listener's thread) reads return codes; collecting a child's exit is left to
    the supervisor's own poll()."""
    world = World()
    sup = world.supervisor("intake-api")
    registry = CollectorRegistry()
    registry.register(SupervisorCollector(sup))
    sup.start()
    process = world.spawned["intake-api"][-1]
    polled: list[bool] = []
    original = process.poll

    def poll() -> int | None:
        polled.append(True)
        return original()

    process.poll = poll  # type: ignore[method-assign]
    generate_latest(registry)
    assert not polled
