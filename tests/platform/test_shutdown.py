"""A stopping process closes its pool and producer within a bound: a connection a background loop
still holds, or a producer that cannot deliver, no longer keeps it running until the supervisor
kills it (a fault run's `qyzmet run` ended with exit 1 that way: "notification-worker did not stop
within 10 s"). What was still running is named in the log."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from structlog.testing import capture_logs

from shared.db.pool import create_pool
from shared.runtime.shutdown import bounded, close_pool


async def test_a_pool_with_a_connection_still_in_use_is_closed_by_force_after_the_bound(
    database_url: str,
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    held = await pool.acquire()  # a background loop's, never released

    async def round_in_progress() -> None:
        await asyncio.sleep(30)

    loop_task = asyncio.create_task(round_in_progress(), name="audit-relay-round")
    started = time.monotonic()
    try:
        with capture_logs() as logs:
            await close_pool(pool, timeout_s=0.5)
        assert time.monotonic() - started < 3.0
        assert pool.is_closing()
        with pytest.raises(asyncpg.InterfaceError):  # closed under the loop that held it
            await held.fetchval("SELECT 1")
        [warning] = [e for e in logs if e["event"] == "shutdown: step did not finish in time"]
        assert warning["step"] == "close the database pool"
        assert any(t.startswith("audit-relay-round at round_in_progress:") for t in warning["tasks"])
    finally:
        loop_task.cancel()


async def test_a_closing_step_that_fails_or_finishes_is_reported_as_such() -> None:
    async def fails() -> None:
        raise asyncpg.InterfaceError("pool is closing")

    with capture_logs() as logs:
        assert await bounded("stop the producer", asyncio.sleep(0)) is True
        assert await bounded("stop the producer", fails()) is False
    assert [(e["event"], e.get("error")) for e in logs] == [("shutdown: step failed", "InterfaceError")]
