"""The timer scheduler as a real process: a timer that came due while no scheduler ran fires when
one starts, and a scheduler killed with SIGKILL and started again never fires it a second time."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from services.decision.bootstrap import MIGRATIONS, SCHEMA, build_service
from services.decision.domain import commands as c
from shared.db.pool import create_pool
from shared.eventstore import apply_migrations
from shared.infra import KafkaHandle, create_database, drop_database
from tests.decision.helpers import submitted


@pytest.fixture
async def fresh_database(database_url: str) -> AsyncIterator[str]:
    name = f"qyzmet_sched_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    yield url
    drop_database(database_url, name)


def _start_scheduler(url: str, bootstrap: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "DECISION_SCHEDULER_INTERVAL_S": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.decision.entrypoints.scheduler"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def _fired(pool: asyncpg.Pool, stream: str) -> dict[str, int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT event_type, count(*) AS n FROM {SCHEMA}.events WHERE stream_id = $1 GROUP BY event_type",
            stream,
        )
    return {row["event_type"]: row["n"] for row in rows}


async def test_due_timer_fires_once_across_a_killed_scheduler(
    fresh_database: str, broker: KafkaHandle, tmp_path: Path
) -> None:
    pool = await create_pool(fresh_database)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, SCHEMA, *MIGRATIONS)
        service = build_service(pool)
        # Received long ago: both SLA timers are already due, and no scheduler is running.
        sub = submitted(due_in=timedelta(days=10))
        await service.execute(sub.application_id, c.OpenCase(sub))
        stream = f"case-{sub.application_id}"
        assert "decision.deadline_breached" not in await _fired(pool, stream)

        log = tmp_path / "scheduler.log"
        first = _start_scheduler(fresh_database, broker.bootstrap_servers, log)
        deadline = time.monotonic() + 60
        while "decision.deadline_breached" not in await _fired(pool, stream):
            assert time.monotonic() < deadline, log.read_text()
            assert first.poll() is None, log.read_text()
            await asyncio.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()

        second = _start_scheduler(fresh_database, broker.bootstrap_servers, log)
        # A sentinel case, due after the first one's timers: once the second scheduler has fired it,
        # it has run a whole round, in which a timer left by the killed one would have come first.
        sentinel = submitted(received_at=sub.received_at + timedelta(hours=1), due_in=timedelta(days=10))
        await service.execute(sentinel.application_id, c.OpenCase(sentinel))
        while "decision.deadline_breached" not in await _fired(pool, f"case-{sentinel.application_id}"):
            assert time.monotonic() < deadline + 60, log.read_text()
            assert second.poll() is None, log.read_text()
            await asyncio.sleep(0.1)
        os.killpg(second.pid, signal.SIGTERM)
        assert second.wait(30) == 0, log.read_text()
        fired = await _fired(pool, stream)
        assert fired["decision.deadline_breached"] == 1
        assert fired["decision.deadline_approaching"] == 1
    finally:
        await pool.close()
