"""A replay split across processes: each process folds the events of its share of the streams
(a partition) into the same fresh target, up to one common last event.

A projection's rows are per stream (the status view: one row and its history per application),
so the streams can be folded apart. A replay folds in Python, one core per process; with several
processes the machine's other cores fold too, and PostgreSQL reads and writes for all of them.
Every process reads the store's gap-safe pages of its streams only, up to the same last event
(`plan`), so the rebuilt target stands at one point of the log, the checkpoint the caller
writes once they are all done.

1,000,000 events of the status view on 2 cores (bench/replay_bench.py), with pages of 5,000: one
process 14.3 s, two 10.5 s (PostgreSQL's reads and writes then use much of the second core;
each process reads past the other's events, ~0.75 s of PostgreSQL's CPU in all).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import asyncpg

from shared.db.identifiers import checked_identifier
from shared.db.pool import create_pool
from shared.eventstore import GlobalCursor
from shared.replay.reading import ReplayStalled
from shared.replay.spec import Parallel

_PARTITION_OF = "int4eq((hashtext({stream}) & 2147483647) % {count}, {index})"
"""A stream's partition. Written as a function call, not `... = k`: PostgreSQL estimates an
equality on an expression it has no statistics for at 0.5 % of the rows and then plans a page
(`ORDER BY txid, position LIMIT n`) as a scan of the whole table and a sort; a function's
condition it estimates at a third, and reads the commit-order index, as for the whole log."""


@dataclass(frozen=True)
class Partition:
    """The streams whose hash falls in `index` of `count`."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.index < self.count:
            raise ValueError(f"partition {self.index} of {self.count}")

    def condition(self, stream: str = "e.stream_id") -> str:
        """` AND` this partition's condition over the SQL expression `stream`."""
        return " AND " + _PARTITION_OF.format(stream=stream, count=int(self.count), index=int(self.index))


@dataclass(frozen=True)
class PartitionJob:
    """What one process replays: `partition` of `source`'s events (of `streams`, None: all) up to
    `until`, into `target`. Every event up to `until` is readable (`plan`): the process reads
    until a page comes back empty."""

    database_url: str = field(repr=False)
    source: str
    target: str
    streams: tuple[str, ...] | None
    partition: Partition
    until: GlobalCursor
    settings: Mapping[str, int] = field(default_factory=dict)
    """The projection's own tuning (page and batch sizes...), as its replay in one process has it."""


@dataclass(frozen=True)
class Plan:
    until: GlobalCursor | None
    """The last event every partition reads up to (None: the store, or the selection, is empty, or
    one process was asked for: no split)."""
    enough: bool
    """Whether the store (the selection) holds at least `Parallel.min_events` events."""

    def jobs(
        self,
        parallel: Parallel,
        source: str,
        target: str,
        streams: Sequence[str] | None,
        settings: Mapping[str, int],
    ) -> list[PartitionJob]:
        assert self.until is not None, "nothing to replay"
        chosen = None if streams is None else tuple(streams)
        url, count, until = parallel.database_url, parallel.workers, self.until
        return [
            PartitionJob(url, source, target, chosen, Partition(i, count), until, dict(settings))
            for i in range(count)
        ]


class PartitionFailed(RuntimeError):
    """A replay process failed or died: the target is not usable (start again into a fresh one)."""


async def plan(
    conn: asyncpg.Connection,
    schema: str,
    streams: Sequence[str] | None,
    parallel: Parallel,
    patience_s: float = 300.0,
) -> Plan:
    """The store's last event once no transaction older than it is running (waiting for them, up
    to `patience_s`: the gap-safe read would not reach the events behind them), and whether the
    replay is worth `parallel`'s processes."""
    if parallel.workers == 1:
        return Plan(None, False)
    schema = checked_identifier(schema)
    of_streams = "" if streams is None else " AND stream_id = ANY(${}::text[])"
    chosen: list[object] = [] if streams is None else [list(streams)]
    last_below = (
        f"SELECT e.txid::text::bigint AS txid, e.position FROM {schema}.events e"
        f" WHERE e.txid < $1::text::xid8{of_streams.format(2)} ORDER BY e.txid DESC, e.position DESC LIMIT 1"
    )
    horizon = f"SELECT {schema}.event_horizon()::text::bigint"
    newest = await conn.fetchrow(last_below, str(2**63 - 1), *chosen)
    if newest is None:
        return Plan(None, False)
    deadline = time.monotonic() + patience_s
    while (reached := await conn.fetchval(horizon)) <= newest["txid"]:
        if time.monotonic() > deadline:
            raise ReplayStalled(
                f"the store's last events not readable after {patience_s:.0f} s:"
                " a transaction older than them is still running"
            )
        await asyncio.sleep(0.1)
    edge = await conn.fetchrow(last_below, str(reached), *chosen)
    at_least = await conn.fetchval(
        f"SELECT count(*) FROM (SELECT FROM {schema}.events"
        f" WHERE true{of_streams.format(2)} LIMIT $1) AS first",
        parallel.min_events,
        *chosen,
    )
    return Plan(GlobalCursor(edge["txid"], edge["position"]), at_least >= parallel.min_events)


@asynccontextmanager
async def partition_pool(job: PartitionJob, size: int = 3) -> AsyncIterator[asyncpg.Pool]:
    """A pool of `size` connections for a partition's process (a reader, a writer, a look-up)."""
    pool = await create_pool(job.database_url, min_size=size, max_size=size)
    try:
        yield pool
    finally:
        await pool.close()


Worker = Callable[[PartitionJob, Callable[[int], None]], int]
"""Replays one partition in its own process (a module-level function: it is pickled), calling
its second argument with how many more events it replayed; returns how many it replayed."""


def _join(processes: Sequence[multiprocessing.process.BaseProcess]) -> None:
    for process in processes:
        if process.pid is not None:  # started
            process.join()


def _described(exc: BaseException) -> str:
    """What the parent is told of a worker's failure, never a value of the row or event at fault:
    for PostgreSQL's errors the type, SQLSTATE and primary message (an integrity violation's names
    its constraint; its DETAIL, which quotes the row, is left out), for a data exception (class
    22, whose message quotes the input: asyncpg's own encoding errors too) the type and SQLSTATE
    only; for any other error its type and the place it was raised (its message may quote data)."""
    if isinstance(exc, asyncpg.DataError):
        return f"{type(exc).__name__} [{exc.sqlstate}]"
    if isinstance(exc, asyncpg.PostgresError):
        return f"{type(exc).__name__} [{exc.sqlstate}]: {getattr(exc, 'message', '')}"
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{type(exc).__name__} at {frames[-1].name}:{frames[-1].lineno}" if frames else type(exc).__name__


def _exit_with_parent(parent: int, every_s: float = 0.5) -> None:
    """End this process soon after its parent is gone (killed, or stopped by a signal that left no
    time to stop its workers): a replay nobody waits for would go on writing into the target."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_one(
    worker: Worker,
    job: PartitionJob,
    messages: multiprocessing.Queue,  # type: ignore[type-arg]
    parent: int,
) -> None:
    _exit_with_parent(parent)
    index = job.partition.index
    try:
        replayed = worker(job, lambda n: messages.put(("progress", index, n)))
    except BaseException as exc:  # reported to the parent, which fails the replay
        described = _described(exc)
        traceback.print_tb(exc.__traceback__)  # where, to this process's stderr; what: below
        print(described, file=sys.stderr)
        messages.put(("failed", index, described))
        raise SystemExit(1) from None
    messages.put(("done", index, replayed))


async def run_in_processes(
    worker: Worker, jobs: Sequence[PartitionJob], progress: Callable[[int], None], poll_s: float = 0.2
) -> list[int]:
    """Run `worker` on each job in a process of its own (spawned: nothing of this process's
    event loop or connections is inherited); pass their progress on; return each one's count.
    Any process that fails or dies fails the whole replay, and the others are stopped; they stop
    by themselves if this process dies."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    processes = [
        context.Process(
            target=_run_one, args=(worker, job, messages, os.getpid()), name=f"replay-{job.partition.index}"
        )
        for job in jobs
    ]
    done: dict[int, int] = {}

    def handle(kind: str, index: int, value: object) -> None:
        if kind == "progress":
            progress(int(value))  # type: ignore[call-overload]
        elif kind == "done":
            done[index] = int(value)  # type: ignore[call-overload]
        else:
            raise PartitionFailed(f"replay partition {index} of {len(jobs)} failed: {value}")

    def check_alive() -> None:
        """Fail as soon as a process ended without reporting its count (after reading what it
        sent before it ended: its own report of a failure names the cause)."""
        ended = [i for i, p in enumerate(processes) if i not in done and p.exitcode is not None]
        if not ended:
            return
        while True:
            try:
                handle(*messages.get_nowait())
            except queue.Empty:
                break
        if dead := [i for i in ended if i not in done]:
            codes = ", ".join(f"{i}: exit code {processes[i].exitcode}" for i in dead)
            raise PartitionFailed(f"replay partitions ended without their count ({codes})")

    try:
        for process in processes:
            process.start()
        while len(done) < len(jobs):
            try:
                handle(*await asyncio.to_thread(messages.get, True, poll_s))
            except queue.Empty:
                pass
            check_alive()  # on every pass: the others' progress must not hide a dead one
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        await asyncio.to_thread(_join, processes)
        messages.close()
    return [done[i] for i in range(len(jobs))]
