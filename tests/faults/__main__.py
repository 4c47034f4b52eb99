"""`make faults`: the fault suite of issue 12 (`python -m tests.faults [--load-s 150] [--rate 6]`).

Starts a whole system with `qyzmet run` (its own embedded PostgreSQL, local noida broker, data
directory and ports), drives a steady load of applications over HTTP and Kafka through intake ->
decision -> notification and, during it, SIGKILLs every service process in turn (the supervisor
restarts it), restarts PostgreSQL, and restarts the broker after a SIGTERM and after a SIGKILL.
After a quiet period it counts by application id what the offices got, what each service stored
and what each topic holds, prints the table (also to `bench/results/faults.txt`) and exits 1
unless every count is equal, nothing is lost, no database holds a duplicate effect, every
process is alive or restarted, the dead-letter topics are empty, and no request got a 5xx other
than 503 (a fault must answer 503 with Retry-After, never 500).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tests.faults.load import Ledger, Offices
from tests.faults.system import PROCESSES, System
from tests.faults.tally import Tally, count

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "faults.txt"


def _schedule(system: System, load_s: float) -> list[tuple[float, str, Callable[[], object]]]:
    """(seconds into the load, what, fault): each service process killed once, PostgreSQL
    restarted, the broker restarted after SIGTERM and after SIGKILL, spread over the load."""
    faults: list[tuple[str, Callable[[], object]]] = [
        (f"SIGKILL {name}", partial(system.kill_child, name)) for name in PROCESSES[:4]
    ]
    faults.append(("restart PostgreSQL (fast stop, 3 s down, start)", system.restart_postgres))
    faults += [(f"SIGKILL {name}", partial(system.kill_child, name)) for name in PROCESSES[4:]]
    faults.append(("restart broker after SIGTERM", lambda: system.restart_broker(signal.SIGTERM)))
    faults.append(("SIGKILL intake-worker and decision-worker", lambda: [
        system.kill_child("intake-worker"), system.kill_child("decision-worker")]))  # fmt: skip
    faults.append(("restart broker after SIGKILL", lambda: system.restart_broker(signal.SIGKILL)))
    step = (load_s - 20) / len(faults)
    return [(10 + i * step, what, fault) for i, (what, fault) in enumerate(faults)]


def _log(started: float, line: str) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {line}", flush=True)


async def _drive(system: System, ledger: Ledger, args: argparse.Namespace, started: float) -> None:
    offices = Offices(system, ledger, give_up_at=time.monotonic() + args.load_s + args.quiet_s)
    stop_watch = asyncio.Event()
    watcher = asyncio.create_task(offices.watch_outcomes(stop_watch))
    schedule = _schedule(system, args.load_s)
    load_start = time.monotonic()
    sent = 0
    try:
        while (elapsed := time.monotonic() - load_start) < args.load_s:
            while schedule and schedule[0][0] <= elapsed:
                _, what, fault = schedule.pop(0)
                _log(started, f"fault: {what}")
                await asyncio.to_thread(fault)
                _log(started, f"fault done: {what}")
            due = int(elapsed * args.rate)
            while sent < due:
                sent += 1
                offices.spawn(offices.submit_kafka() if sent % 3 == 0 else offices.submit_http())
            await asyncio.sleep(0.05)
        _log(started, f"load done: {sent} applications sent; quiet period (up to {args.quiet_s:.0f} s)")
        quiet_end = time.monotonic() + args.quiet_s
        while time.monotonic() < quiet_end:
            settled = not offices.tasks and len(ledger.kafka_outcomes) == len(ledger.kafka_commands)
            if settled and await _caught_up(system, ledger):
                break
            await asyncio.sleep(2)
        _log(started, f"quiet period over: {len(offices.tasks)} office tasks still running")
    finally:
        stop_watch.set()
        await offices.close()
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)


async def _caught_up(system: System, ledger: Ledger) -> bool:
    """Every decided application has its DecisionMade on decisions.v1 and its notification row."""
    tally = await count(system.database_url, system.bootstrap, "", ledger)
    return not tally.problems


def _supervision(system: System) -> tuple[list[str], list[str]]:
    output = system.output()
    restarted = sorted(set(re.findall(r"restarted (\S+) \(pid", output)))
    problems = []
    if "crash-looping" in output:
        problems.append("a child crash-looped: " + ", ".join(re.findall(r"(\S+) .*crash-looping", output)))
    alive = system.children()
    missing = [name for name in PROCESSES if name not in alive]
    if missing:
        problems.append(f"not running at the end: {', '.join(missing)}")
    return restarted, problems


def _report(tally: Tally, ledger: Ledger, restarted: list[str], problems: list[str], took: float) -> str:
    lines = [
        f"fault suite: {len(ledger.http_keys)} applications over HTTP,"
        f" {len(ledger.kafka_commands)} over Kafka, {took:.0f} s in all",
        tally.table(),
        f"talons: {dict(ledger.talon_codes)}; HTTP retries: {dict(ledger.retries)}",
        f"Kafka commands: {ledger.kafka_send_errors} send errors retried, {ledger.kafka_resends} re-sent"
        " (no outcome seen in time)",
        f"restarted by the supervisor: {', '.join(restarted) or 'none'}",
        f"decided over the API: {len(ledger.decided)}",
    ]
    failed = problems + tally.problems + ledger.failures[:20]
    if ledger.server_errors:  # a fault must give 503 + Retry-After (issue 12), never a 500
        failed.append(f"5xx other than 503 ({len(ledger.server_errors)}): {ledger.server_errors[:5]}")
    lines.append("PASS" if not failed else "FAIL:\n  " + "\n  ".join(failed))
    return "\n".join(lines)


def _snapshot(revision: str, root: Path) -> Path:
    """The code of `revision` in `root/src` (others may be editing the working tree meanwhile)."""
    source = root / "src"
    source.mkdir()
    repo = Path(__file__).resolve().parents[2]
    archive = subprocess.run(["git", "-C", str(repo), "archive", revision], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    return source


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(prog="python -m tests.faults", description=__doc__)
    parser.add_argument("--load-s", type=float, default=150.0, help="seconds of load (faults spread over it)")
    parser.add_argument("--rate", type=float, default=6.0, help="applications per second (a third by Kafka)")
    parser.add_argument("--quiet-s", type=float, default=150.0, help="longest catch-up after the load")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, data)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--at", default=None, help="run the system of this git revision (a snapshot), not the working tree"
    )
    args = parser.parse_args()
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="qyzmet-faults-"))
    system = System(root, source=_snapshot(args.at, root) if args.at else None)
    ledger = Ledger()
    code = 1
    try:
        _log(started, f"starting qyzmet run in {root}")
        system.start()
        _log(started, "system up: " + ", ".join(f"{s}-api :{p}" for s, p in system.ports.items()))
        asyncio.run(_drive(system, ledger, args, started))
        restarted, problems = _supervision(system)
        tally = asyncio.run(count(system.database_url, system.bootstrap, "", ledger))
        exit_code = system.stop()
        left = system.leftovers()
        if left:
            problems.append(f"processes left after Ctrl-C: {left}")
        if exit_code not in (0, None):
            problems.append(f"qyzmet run exited with {exit_code} after Ctrl-C")
        report = _report(tally, ledger, restarted, problems, time.monotonic() - started)
        print(report, flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n")
        code = 0 if report.endswith("PASS") else 1
    finally:
        system.stop()
        if code != 0 or args.keep or ledger.server_errors:
            print(f"logs and data kept in {root} (run.log: the supervisor and every process)", flush=True)
        else:
            import shutil

            shutil.rmtree(root, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
