"""A status replay split across processes (`shared.replay.partitions`): each process folds its
share of the applications into the same fresh target, and the target comes out as the live
projector's and as a replay in one process: rows, history, indexes, the checkpoint at the log's
last event. A process that fails fails the replay; the plan waits for an older transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import asyncpg
import pytest

from services.intake.adapters.projection import ApplicationProjector
from services.intake.projections import APPLICATIONS
from shared.eventstore import EventStore, GlobalCursor
from shared.replay.engine import replay_from_store
from shared.replay.partitions import Partition, PartitionFailed, PartitionJob, plan, run_in_processes
from shared.replay.reading import ReplayStalled, read_committed_rows
from shared.replay.spec import Parallel
from tests.intake.conftest import wait_for
from tests.replay.test_status_replay import _append, _assert_as_live, _log, _submitted


async def test_a_split_replay_gives_the_live_rows(
    pool: asyncpg.Pool, intake_schema: str, database_url: str
) -> None:
    events = await _log(pool, intake_schema)
    live, projected = ApplicationProjector(pool, intake_schema, batch_size=500), []

    async def caught_up() -> bool:
        projected.append(await live.run_once())
        return sum(projected) == events

    await wait_for(caught_up, timeout=60.0)
    spec = dataclasses.replace(APPLICATIONS, schema=lambda: intake_schema)
    target = f"{intake_schema}_split"
    parallel = Parallel(database_url, workers=2, min_events=0)  # as `pool`: the administrator
    try:
        progress: list[int] = []
        result = await replay_from_store(pool, spec, target, progress=progress.append, parallel=parallel)
        assert result.events == events == sum(progress)
        assert len(progress) >= 2  # each process reported its own pages

        await _assert_as_live(pool, intake_schema, result)
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {target} CASCADE")


async def test_the_partitions_share_the_streams_out(pool: asyncpg.Pool, intake_schema: str) -> None:
    """Every event in exactly one partition, all of a stream's in the same one."""
    await _log(pool, intake_schema)
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
    assert len(set(partition_of_stream.values())) > 1  # eight streams: not all in one partition


def _fail_the_second(job: PartitionJob, progress: object) -> int:
    if job.partition.index == 1:
        raise RuntimeError("partition 1 broke")
    return 7


def _die(job: PartitionJob, progress: object) -> int:
    import os

    os._exit(3)


async def test_a_failing_or_dying_process_fails_the_replay() -> None:
    url, until = "postgresql://unused", GlobalCursor(1, 1)
    jobs = [PartitionJob(url, "s", "t", None, Partition(i, 2), until) for i in range(2)]
    with pytest.raises(PartitionFailed, match="partition 1 of 2 failed: RuntimeError: partition 1 broke"):
        await run_in_processes(_fail_the_second, jobs, lambda _: None)
    with pytest.raises(PartitionFailed, match="exit code 3"):
        await run_in_processes(_die, jobs, lambda _: None)


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
