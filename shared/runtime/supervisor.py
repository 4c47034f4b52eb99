"""A supervisor for `qyzmet run`: each service process runs as a child; a child that dies is
restarted with back-off (and the console is told), one that crash-loops is given up on while the
others keep serving, and `stop()` ends every child it started.

Restarts follow the usual one-for-one strategy (Erlang/OTP, supervisord, systemd's
`Restart=on-failure` with `StartLimitBurst`): a crash waits `initial_backoff_s`, doubling with each
crash still inside `crash_window_s`, up to `max_backoff_s`; `crash_loop_limit` crashes inside the
window mark the child as crash-looping and it is not started again. A child that exits with 0 on
its own has finished its work and is not restarted.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

STOP_GRACE_S = 10.0
"""How long a child has to stop after SIGTERM before it is killed."""


class Process(Protocol):
    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...

    def send_signal(self, sig: int) -> None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def kill(self) -> None: ...


Spawn = Callable[[Sequence[str], Mapping[str, str]], Process]
Say = Callable[[str], None]


def spawn_process(argv: Sequence[str], env: Mapping[str, str]) -> Process:
    return subprocess.Popen(list(argv), env=dict(env))


@dataclass(frozen=True)
class RestartPolicy:
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    crash_window_s: float = 60.0
    crash_loop_limit: int = 5

    def backoff(self, recent_crashes: int) -> float:
        return float(min(self.max_backoff_s, self.initial_backoff_s * 2 ** max(0, recent_crashes - 1)))


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    process: Process | None = None
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None
    restarts: int = 0
    crash_count: int = 0
    """Crashes since the supervisor started (`crashes` holds only those inside the window)."""
    gave_up: bool = False
    finished: bool = False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Supervisor:
    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        env: Mapping[str, str],
        *,
        policy: RestartPolicy | None = None,
        say: Say = print,
        warn: Say | None = None,
        spawn: Spawn = spawn_process,
        clock: Callable[[], float] = time.monotonic,
        own_env: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.children = {name: Child(name, argv) for name, argv in commands.items()}
        self.env = env
        self.own_env = own_env or {}
        """child name -> variables only that child gets (its service's database URL)."""
        self.policy = policy or RestartPolicy()
        self.say = say
        self.warn = warn or say
        """Crashes, restarts, give-ups and kills: an operator's attention (a log warning)."""
        self.spawn = spawn
        self.clock = clock

    def start(self) -> None:
        for child in self.children.values():
            self._start(child)

    def _start(self, child: Child) -> None:
        child.process = self.spawn(child.argv, {**self.env, **self.own_env.get(child.name, {})})
        child.restart_at = None
        tell = self.warn if child.restarts else self.say
        tell(f"{'restarted' if child.restarts else 'started'} {child.name} (pid {child.process.pid})")

    def poll(self) -> None:
        """Notice children that exited, schedule their restarts, start those whose time came."""
        now = self.clock()
        for child in self.children.values():
            if child.gave_up or child.finished:
                continue
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self._start(child)
                continue
            process = child.process
            if process is None or process.poll() is None:
                continue
            code = process.returncode
            if code == 0:
                child.finished = True
                self.say(f"{child.name} finished (exit code 0); not restarted")
                continue
            self._crashed(child, code, now)

    def _crashed(self, child: Child, code: int | None, now: float) -> None:
        child.crash_count += 1
        child.crashes.append(now)
        while child.crashes and now - child.crashes[0] > self.policy.crash_window_s:
            child.crashes.popleft()
        recent = len(child.crashes)
        how = _exit_text(code)
        if recent >= self.policy.crash_loop_limit:
            child.gave_up = True
            others = [c.name for c in self.children.values() if c.running]
            self.warn(
                f"{child.name} {how} and is crash-looping ({recent} crashes in"
                f" {self.policy.crash_window_s:g} s): not restarting it; still serving: "
                + (", ".join(others) or "nothing")
            )
            return
        delay = self.policy.backoff(recent)
        child.restart_at = now + delay
        self.warn(f"{child.name} {how}; restarting it in {delay:g} s (crash {recent} in the last window)")

    @property
    def alive(self) -> bool:
        """True while some child runs or waits to be restarted."""
        return any(c.running or (c.restart_at is not None and not c.gave_up) for c in self.children.values())

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """SIGTERM every running child, then SIGKILL what has not exited within `grace_s`."""
        for child in self.children.values():
            child.restart_at = None
            if child.running:
                assert child.process is not None
                child.process.send_signal(signal.SIGTERM)
        deadline = self.clock() + grace_s
        for child in self.children.values():
            process = child.process
            if process is None or process.poll() is not None:
                continue
            try:
                process.wait(max(0.1, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                self.warn(f"{child.name} did not stop within {grace_s:g} s; killing it")
                process.kill()
                process.wait()

    def failed(self) -> list[str]:
        """Children that crash-looped, or ended (at stop) other than by a clean stop."""
        clean = (0, -signal.SIGTERM, None)
        return [
            c.name
            for c in self.children.values()
            if c.gave_up or (c.process is not None and c.process.returncode not in clean)
        ]


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
