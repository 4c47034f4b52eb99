"""The whole system for the system benchmarks: `qyzmet run` in a subprocess, on a database of its
own and the bench's broker, with unique topics; per-process CPU and resident memory from /proc.

Used by the idle and latency benchmarks (the same machinery `make run` starts).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.infra import create_database, drop_database
from shared.infra.procs import children_of, cmdline, free_ports
from shared.messaging.topics import delete_topics

SECRET = "bench-system-secret-" + "s" * 32
SERVICES = ("intake", "decision", "notification", "complaints")
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


_UTIME, _STIME, _CUTIME, _CSTIME = 11, 12, 13, 14
"""Indices of /proc/<pid>/stat's CPU times in the fields after the command name."""


def _stat(pid: int) -> tuple[str, list[str]] | None:
    """The command name (what the kernel keeps, also for a process not yet reaped) and the fields
    after it of /proc/<pid>/stat; None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.find("(") + 1 : raw.rfind(")")], raw[raw.rfind(")") + 2 :].split()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` (None if it is gone)."""
    stat = _stat(pid)
    if stat is None:
        return None
    fields = stat[1]
    return (int(fields[_UTIME]) + int(fields[_STIME])) / _TICKS


PROGRAMS = {"postgres": ("postgres",), "broker": ("noida-db", "tansu")}
"""The shared parts of a benchmark's machine, by their processes' command names."""


def cpu_by_program() -> dict[str, float | None]:
    """CPU seconds so far of every process of each of `PROGRAMS` on this machine (PostgreSQL's
    backends and background processes, the broker), with the children they reaped (a backend
    that ended in the window counts in its postmaster's): taken before and after a measured
    window, the difference is what the window cost them. None for a program with no process
    here (a remote server: its CPU is not seen). On a shared machine other users' queries count."""
    totals: dict[str, float | None] = dict.fromkeys(PROGRAMS)
    for entry in os.listdir("/proc"):
        stat = _stat(int(entry)) if entry.isdigit() else None  # one read of each process's stat
        if stat is None:
            continue
        name, fields = stat
        for program, names in PROGRAMS.items():
            if name in names:
                spent = sum(int(fields[i]) for i in (_UTIME, _STIME, _CUTIME, _CSTIME)) / _TICKS
                totals[program] = (totals[program] or 0.0) + spent
                break
    return totals


def cpu_spent(
    before: dict[str, float | None], after: dict[str, float | None], per: int
) -> dict[str, float | None]:
    """Milliseconds of CPU per unit (`per` units in the window) of each program between two
    `cpu_by_program` readings (None where a reading is)."""
    return {
        name: None
        if start is None or (end := after.get(name)) is None
        else round(1000 * (end - start) / per, 3)
        for name, start in before.items()
    }


@dataclass(frozen=True)
class CpuReading:
    """This process's CPU seconds and `cpu_by_program`'s at one moment."""

    process: float
    programs: dict[str, float | None]

    @classmethod
    def now(cls) -> CpuReading:
        # the /proc scan first: a window's opening reading does not count it as this process's
        # work (its closing one does: a few ms over thousands of units)
        programs = cpu_by_program()
        return cls(time.process_time(), programs)

    def per_unit_until(self, later: CpuReading, units: int) -> dict[str, float | None]:
        """CPU milliseconds per unit from this reading to `later`: `process` (this one) and each
        program's (None where it is not on this machine)."""
        units = max(units, 1)
        return {
            "process": round(1000 * (later.process - self.process) / units, 3),
            **cpu_spent(self.programs, later.programs, units),
        }


def sum_or_none(values: Iterable[float | None]) -> float | None:
    """The sum, None if any part is unknown."""
    total = 0.0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """The high-water mark of this process's resident set (or of its largest reaped child)."""
    return resource.getrusage(who).ru_maxrss / 1024


def rss_mb(pid: int) -> float | None:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * _PAGE / 1e6


def label(pid: int) -> str:
    """`intake-api`, `decision-worker`... for a service process; the program name otherwise."""
    argv = cmdline(pid)
    if "serve" in argv and argv.index("serve") + 1 < len(argv):
        return argv[argv.index("serve") + 1]
    if "run" in argv and "shared.cli.main" in argv:
        return "qyzmet-run"
    return Path(argv[0]).name if argv else str(pid)


def descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        for child in children_of(pending.pop()):
            found.append(child)
            pending.append(child)
    return found


@dataclass
class RunningSystem:
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    prefix: str
    env: dict[str, str]
    database_url: str
    log: Path

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def processes(self) -> dict[str, int]:
        """label -> pid of the run supervisor and every process under it."""
        pids = [self.process.pid, *descendants(self.process.pid)]
        named: dict[str, int] = {}
        for pid in pids:
            name = label(pid)
            while name in named:
                name += "'"
            named[name] = pid
        return named

    def token(self, role: Role, office: str) -> str:
        return issue_token(SECRET, subject=f"bench.{role.value}", role=role, office=office)


def _wait_healthy(system: RunningSystem, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for service in ("intake", "decision"):
        while True:
            try:
                if httpx.get(system.url(service) + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or system.process.poll() is not None:
                raise RuntimeError(f"the system did not start (see {system.log})")
            time.sleep(0.3)


def _exit_on_sigterm(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def running_system(
    database_url: str, bootstrap: str, workdir: Path, **extra_env: str
) -> Iterator[RunningSystem]:
    """`qyzmet run` until the block ends (SIGINT, then SIGKILL of anything left)."""
    name = f"bench_sys_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    *api_ports, console_port = free_ports(len(SERVICES) + 1)
    ports = dict(zip(SERVICES, api_ports, strict=True))
    prefix = f"bsys{uuid.uuid4().hex[:6]}."
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TOPIC_PREFIX": prefix,
        "QYZMET_DATA_DIR": str(workdir / "data"),
        "XDG_STATE_HOME": str(workdir / "state"),  # its pointer in the bench's folder, not the user's
        "QYZMET_TOKEN_SECRET": SECRET,
        "QYZMET_LOG_LEVEL": "WARNING",
        **{f"{s.upper()}_API_PORT": str(p) for s, p in ports.items()},
        "CONSOLE_API_PORT": str(console_port),
        **extra_env,
    }
    log = workdir / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared.cli.main", "run", "--no-simulator"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    system = RunningSystem(process, ports, prefix, env, url, log)
    if threading.current_thread() is threading.main_thread():  # SIGTERM stops the system too
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        _wait_healthy(system, 120)
        yield system
    finally:
        everything = list(system.processes().values())
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            pass
        for pid in everything:
            if "shared.cli.main" not in cmdline(pid):  # gone (or the pid was reused)
                continue
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)
        drop_database(database_url, name)
        delete_topics(bootstrap, prefix=prefix, quiet=True)
