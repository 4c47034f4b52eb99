"""`qyzmet run`'s supervisor: a crashed child is restarted with back-off and the console told, a
crash-looping one is given up on while the others keep serving, and stop ends every child."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from shared.runtime.supervisor import RestartPolicy, Supervisor


class FakeProcess:
    _next_pid = 100

    def __init__(self) -> None:
        FakeProcess._next_pid += 1
        self.pid = FakeProcess._next_pid
        self.returncode: int | None = None
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        self.returncode = -sig

    def wait(self, timeout: float | None = None) -> int:
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        self.returncode = -9


class World:
    def __init__(self) -> None:
        self.now = 0.0
        self.spawned: dict[str, list[FakeProcess]] = {}
        self.said: list[str] = []

    def spawn(self, argv: Sequence[str], env: Mapping[str, str]) -> FakeProcess:
        process = FakeProcess()
        self.spawned.setdefault(argv[0], []).append(process)
        return process

    def supervisor(self, *names: str) -> Supervisor:
        return Supervisor(
            {name: [name] for name in names},
            {},
            policy=RestartPolicy(initial_backoff_s=1, max_backoff_s=8, crash_window_s=60, crash_loop_limit=4),
            say=self.said.append,
            spawn=self.spawn,
            clock=lambda: self.now,
        )

    def crash(self, name: str, code: int = 1) -> None:
        self.spawned[name][-1].returncode = code


def test_a_crashed_child_is_restarted_after_a_doubling_back_off_and_the_console_is_told() -> None:
    world = World()
    sup = world.supervisor("intake-api", "decision-worker")
    sup.start()
    world.crash("decision-worker")
    sup.poll()
    assert (
        world.said[-1]
        == "decision-worker exited with code 1; restarting it in 1 s (crash 1 in the last window)"
    )
    world.now = 0.5
    sup.poll()
    assert len(world.spawned["decision-worker"]) == 1  # still waiting out the back-off
    world.now = 1.0
    sup.poll()
    assert len(world.spawned["decision-worker"]) == 2 and world.said[-1].startswith(
        "restarted decision-worker"
    )
    world.crash("decision-worker", -9)
    world.now = 2.0
    sup.poll()
    assert "was killed by SIGKILL; restarting it in 2 s" in world.said[-1]
    assert len(world.spawned["intake-api"]) == 1 and sup.children["intake-api"].running  # others untouched


def test_a_crash_looping_child_is_given_up_on_and_the_others_keep_serving() -> None:
    world = World()
    sup = world.supervisor("intake-api", "notification-worker")
    sup.start()
    for _ in range(3):
        world.crash("notification-worker")
        sup.poll()
        world.now += 10
        sup.poll()
    world.crash("notification-worker")
    sup.poll()
    assert sup.children["notification-worker"].gave_up
    assert (
        "is crash-looping (4 crashes in 60 s): not restarting it; still serving: intake-api" in world.said[-1]
    )
    world.now += 100
    sup.poll()
    assert len(world.spawned["notification-worker"]) == 4  # never started again
    assert sup.alive and sup.failed() == ["notification-worker"]


def test_crashes_outside_the_window_do_not_count_towards_a_crash_loop() -> None:
    world = World()
    sup = world.supervisor("complaints-worker")
    sup.start()
    for _ in range(6):
        world.crash("complaints-worker")
        sup.poll()
        world.now += 100  # longer than the window: every crash is the first of its window
        sup.poll()
    assert not sup.children["complaints-worker"].gave_up
    assert all("restarting it in 1 s" in line for line in world.said if "exited" in line)


def test_a_child_that_finishes_cleanly_is_not_restarted_and_stop_ends_the_rest() -> None:
    world = World()
    sup = world.supervisor("one-off", "intake-api")
    sup.start()
    world.crash("one-off", 0)
    sup.poll()
    world.now += 100
    sup.poll()
    assert len(world.spawned["one-off"]) == 1
    sup.stop()
    assert world.spawned["intake-api"][-1].signals and not sup.alive and sup.failed() == []


def test_real_processes_a_dying_child_is_restarted_a_crash_looping_one_given_up() -> None:
    said: list[str] = []
    sup = Supervisor(
        {
            "steady": [sys.executable, "-c", "import time; time.sleep(60)"],
            "doomed": [sys.executable, "-c", "import sys; sys.exit(3)"],
        },
        {},
        policy=RestartPolicy(
            initial_backoff_s=0.05, max_backoff_s=0.1, crash_window_s=30, crash_loop_limit=3
        ),
        say=said.append,
    )
    sup.start()
    steady = sup.children["steady"].process
    try:
        deadline = time.monotonic() + 30
        while not sup.children["doomed"].gave_up and time.monotonic() < deadline:
            sup.poll()
            time.sleep(0.02)
        assert sup.children["doomed"].gave_up and sup.children["doomed"].restarts == 2
        assert sup.children["steady"].running and sup.children["steady"].process is steady
        assert any("doomed exited with code 3; restarting it in" in line for line in said)
    finally:
        sup.stop(grace_s=5)
    assert steady is not None and steady.poll() is not None
    assert isinstance(steady, subprocess.Popen)


def test_each_child_gets_its_own_variables_and_keeps_them_after_a_restart() -> None:
    """A service's processes get their own database URL; no other child sees it."""
    envs: dict[str, list[dict[str, str]]] = {}

    def spawn(argv: Sequence[str], env: Mapping[str, str]) -> FakeProcess:
        envs.setdefault(argv[0], []).append(dict(env))
        return FakeProcess()

    now = [0.0]
    sup = Supervisor(
        {"intake-api": ["intake-api"], "decision-worker": ["decision-worker"]},
        {"SHARED": "1"},
        own_env={"intake-api": {"INTAKE_DATABASE_URL": "postgresql://qyzmet_intake@db/q"}},
        policy=RestartPolicy(initial_backoff_s=1),
        say=lambda _: None,
        spawn=spawn,
        clock=lambda: now[0],
    )
    sup.start()
    assert envs["intake-api"][0] == {"SHARED": "1", "INTAKE_DATABASE_URL": "postgresql://qyzmet_intake@db/q"}
    assert envs["decision-worker"][0] == {"SHARED": "1"}
    sup.children["intake-api"].process.returncode = 1  # type: ignore[union-attr]
    sup.poll()
    now[0] = 5.0
    sup.poll()
    assert envs["intake-api"][1]["INTAKE_DATABASE_URL"] == "postgresql://qyzmet_intake@db/q"


def test_crashes_restarts_and_give_ups_are_warnings_starts_are_not() -> None:
    """A run logging at WARNING still shows every crash and restart (the fault suite counts them)."""
    world = World()
    warned: list[str] = []
    sup = Supervisor(
        {"decision-worker": ["decision-worker"]},
        {},
        policy=RestartPolicy(initial_backoff_s=1, max_backoff_s=8, crash_window_s=60, crash_loop_limit=2),
        say=world.said.append,
        warn=warned.append,
        spawn=world.spawn,
        clock=lambda: world.now,
    )
    sup.start()
    assert world.said == [f"started decision-worker (pid {world.spawned['decision-worker'][0].pid})"]
    world.crash("decision-worker", -9)
    sup.poll()
    world.now = 1.0
    sup.poll()
    world.crash("decision-worker")
    sup.poll()
    assert [line.split(" (")[0].split(";")[0] for line in warned] == [
        "decision-worker was killed by SIGKILL",
        "restarted decision-worker",
        "decision-worker exited with code 1 and is crash-looping",
    ]
    assert len(world.said) == 1
