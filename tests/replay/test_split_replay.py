"""A status replay split across processes (`shared.replay.partitions`): each process folds its
share of the applications into the same fresh target, and the target comes out as the live
projector's and as a replay in one process: rows, history, indexes, the checkpoint at the log's
last event. A process reads only up to the planned last event; one that fails or dies fails the
replay at once, and none outlives the replay's own process; the plan waits for an older
transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
import pytest

from services.intake.adapters import status_replay
from services.intake.adapters.projection import ApplicationProjector
from services.intake.adapters.status_replay import StatusReplay, replay_partition
from services.intake.projections import APPLICATIONS
from shared.eventstore import EventStore, GlobalCursor
from shared.replay.engine import ReplayResult, prepare_target
from shared.replay.partitions import (
    Partition,
    PartitionFailed,
    PartitionJob,
    _described,
    plan,
    run_in_processes,
)
from shared.replay.reading import ReplayStalled, read_committed_rows
from shared.replay.spec import Parallel
from tests.intake.conftest import wait_for
from tests.replay.test_status_replay import _append, _assert_as_live, _log, _submitted


async def _apps_in_both_halves(conn: asyncpg.Connection) -> list[str]:
    """Seven application ids, some in each of two partitions."""
    ids = [str(uuid.uuid4()) for _ in range(40)]
    halves = [
        await conn.fetchval(
            "SELECT array_agg(id) FROM unnest($1::text[]) id WHERE true"
            + Partition(half, 2).condition("'application-' || id"),
            ids,
        )
        for half in (0, 1)
    ]
    return halves[0][:3] + halves[1][:4]


async def _live(pool: asyncpg.Pool, schema: str, apps: list[str] | None = None) -> int:
    events = await _log(pool, schema, apps)
    live, projected = ApplicationProjector(pool, schema, batch_size=500), []

    async def caught_up() -> bool:
        projected.append(await live.run_once())
        return sum(projected) == events

    await wait_for(caught_up, timeout=60.0)
    return events


async def test_a_split_replay_with_small_pages_and_cache_gives_the_live_rows(
    pool: asyncpg.Pool, intake_schema: str, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with pool.acquire() as conn:
        apps = await _apps_in_both_halves(conn)
    events = await _live(pool, intake_schema, apps)
    spec = dataclasses.replace(APPLICATIONS, schema=lambda: intake_schema)
    target = f"{intake_schema}_split"
    parallel = Parallel(database_url, workers=2, min_events=0)  # as `pool`: the administrator
    try:
        async with pool.acquire() as conn:
            await prepare_target(conn, spec, target)
        # pages of 4 events, 3 rows in memory: each process reads many pages, its rows leave
        # its cache and are read back from the target
        replay = StatusReplay(intake_schema, target, page=4, cache_rows=3, history_rows=5)
        progress: list[int] = []
        shares: list[int] = []

        async def counted(*args: Any, **kwargs: Any) -> list[int]:
            shares.extend(await run_in_processes(*args, **kwargs))
            return shares

        monkeypatch.setattr(status_replay, "run_in_processes", counted)
        assert await replay.run_split(pool, None, progress.append, parallel, replay_partition) == events
        assert sum(progress) == events and len(shares) == 2 and min(shares) > 0  # both processes folded
        await _assert_as_live(pool, intake_schema, ReplayResult(spec.full_name, target, events, 0.0, None))
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {target} CASCADE")


async def test_a_partition_reads_up_to_the_planned_event_only(pool: asyncpg.Pool, intake_schema: str) -> None:
    """Events stored after the plan are the live projector's (after the checkpoint), not the replay's."""
    events = await _log(pool, intake_schema)
    spec = dataclasses.replace(APPLICATIONS, schema=lambda: intake_schema)
    target = f"{intake_schema}_until"
    try:
        async with pool.acquire() as conn:
            await prepare_target(conn, spec, target)
            columns = "e.txid::text::bigint AS txid, e.position"
            page = await read_committed_rows(conn, EventStore(intake_schema), GlobalCursor(), 1000, columns)
        assert len(page) == events
        middle = page[events // 2]
        until = GlobalCursor(middle["txid"], middle["position"])
        job = PartitionJob("unused", intake_schema, target, None, Partition(0, 1), until)
        progress: list[int] = []
        replayed = await StatusReplay(intake_schema, target, page=3).run_partition(pool, job, progress.append)
        assert replayed == sum(progress) == events // 2 + 1
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {target} CASCADE")


async def test_the_partitions_share_the_streams_out(pool: asyncpg.Pool, intake_schema: str) -> None:
    """Every event in exactly one partition, all of a stream's in the same one."""
    async with pool.acquire() as conn:
        await _log(pool, intake_schema, await _apps_in_both_halves(conn))
    store, columns = EventStore(intake_schema), "e.stream_id, e.position"
    partition_of_stream: dict[str, int] = {}
    read: list[int] = []
    async with pool.acquire() as conn:
        everything = await read_committed_rows(conn, store, GlobalCursor(), 1000, columns)
        for index in range(3):
            share = Partition(index, 3)
            rows = await read_committed_rows(conn, store, GlobalCursor(), 1000, columns, partition=share)
            for row in rows:
                assert partition_of_stream.setdefault(row["stream_id"], index) == index
                read.append(row["position"])
    assert sorted(read) == sorted(row["position"] for row in everything)
    assert len(set(partition_of_stream.values())) > 1  # shared out, not all in one


def _fail_the_second(job: PartitionJob, progress: object) -> int:
    if job.partition.index == 1:
        detail = "Key (applicant_iin)=(850412300017) already exists."
        raise asyncpg.UniqueViolationError.new({"C": "23505", "M": "duplicate key", "D": detail})
    return 7


def _die(job: PartitionJob, progress: object) -> int:
    os._exit(3)


def _one_dies_the_other_reports(job: PartitionJob, progress: object) -> int:
    if job.partition.index == 0:
        time.sleep(0.3)
        os._exit(3)
    for _ in range(200):  # 10 s of progress
        progress(1)  # type: ignore[operator]
        time.sleep(0.05)
    return 200


def _report_pid_and_wait(job: PartitionJob, progress: object) -> int:
    progress(os.getpid())  # type: ignore[operator]
    time.sleep(60)
    return 0


def _jobs(count: int = 2) -> list[PartitionJob]:
    url, until = "postgresql://unused", GlobalCursor(1, 1)
    return [PartitionJob(url, "s", "t", None, Partition(i, count), until) for i in range(count)]


async def test_a_failing_or_dying_process_fails_the_replay() -> None:
    with pytest.raises(PartitionFailed) as failed:
        await run_in_processes(_fail_the_second, _jobs(), lambda _: None)
    assert "partition 1 of 2 failed: UniqueViolationError [23505]: duplicate key" in str(failed.value)
    assert "850412300017" not in str(failed.value)  # PostgreSQL's DETAIL quotes the row's values
    with pytest.raises(PartitionFailed, match="exit code 3"):
        await run_in_processes(_die, _jobs(), lambda _: None)


async def test_a_dead_process_fails_the_replay_while_the_others_still_report() -> None:
    started = time.monotonic()
    with pytest.raises(PartitionFailed, match="0: exit code 3"):
        await run_in_processes(_one_dies_the_other_reports, _jobs(), lambda _: None)
    assert time.monotonic() - started < 5.0  # not after the other's 10 s


_PARENT = """
import asyncio, sys
from tests.replay.test_split_replay import _jobs, _report_pid_and_wait
from shared.replay.partitions import run_in_processes

def report(pid: int) -> None:
    print(pid, flush=True)

if __name__ == "__main__":
    asyncio.run(run_in_processes(_report_pid_and_wait, _jobs(), report))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not running
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_processes_end_when_the_replay_process_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True, cwd=os.getcwd()
    )
    try:
        assert parent.stdout is not None
        children = [int(parent.stdout.readline()) for _ in range(2)]
        assert all(_alive(pid) for pid in children)
        parent.send_signal(signal.SIGKILL)  # no time to stop its workers
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5.0
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in children)
    finally:
        parent.kill()


async def test_the_plan_waits_for_an_older_transaction(
    pool: asyncpg.Pool, intake_schema: str, database_url: str
) -> None:
    store, first, second = EventStore(intake_schema), str(uuid.uuid4()), str(uuid.uuid4())
    parallel = Parallel(database_url, workers=2, min_events=2)
    async with pool.acquire() as older, pool.acquire() as planner:
        transaction = older.transaction()
        await transaction.start()
        try:
            await _append(older, store, first, _submitted(first, 1))
            async with pool.acquire() as conn:
                await _append(conn, store, second, _submitted(second, 2))
            with pytest.raises(ReplayStalled):
                await plan(planner, intake_schema, None, parallel, patience_s=0.2)
            planning = asyncio.ensure_future(plan(planner, intake_schema, None, parallel))
            await asyncio.sleep(0.3)
            assert not planning.done()
        finally:
            await transaction.commit()
        planned = await planning
        last = await planner.fetchrow(
            f"SELECT txid::text::bigint AS txid, position FROM {intake_schema}.events"
            " ORDER BY txid DESC, position DESC LIMIT 1"
        )
        assert planned.until == GlobalCursor(last["txid"], last["position"]) and planned.enough
        more = dataclasses.replace(parallel, min_events=3)
        assert not (await plan(planner, intake_schema, None, more)).enough


def test_a_workers_failure_is_described_without_the_values_at_fault() -> None:
    """A data exception's message quotes the input, any other error's may: the parent is told
    the type, SQLSTATE and place only (an integrity violation's primary message names its
    constraint and stays)."""
    refused = asyncpg.InvalidTextRepresentationError.new(
        {"C": "22P02", "M": 'invalid input syntax for type bigint: "850412300017x"'}
    )
    assert _described(refused) == "InvalidTextRepresentationError [22P02]"
    try:
        {}["850412300017"]
    except KeyError as missing:
        described = _described(missing)
    assert described.startswith("KeyError at test_a_workers_failure_is_described") and "8504" not in described
