"""The benchmarks' CPU accounting of the machine's shared parts (bench/system.py): PostgreSQL's
work for a query shows in `cpu_by_program`, whichever backend did it (issue 14 reports it per
request and per decision beside the rates)."""

from __future__ import annotations

import time

import asyncpg
import pytest

from bench.system import cpu_by_program, cpu_spent


def test_cpu_spent_is_per_unit_milliseconds() -> None:
    before: dict[str, float | None] = {"postgres": 1.0, "broker": 2.0}
    after: dict[str, float | None] = {"postgres": 1.5, "broker": 2.0}
    assert cpu_spent(before, after, 250) == {"postgres": 2.0, "broker": 0.0}
    # a program not on this machine is unknown, not free
    assert cpu_spent({"broker": None}, {"broker": None}, 10) == {"broker": None}


async def test_a_query_of_one_backend_counts_as_postgres_cpu(database_url: str) -> None:
    if cpu_by_program()["postgres"] is None:
        pytest.skip("PostgreSQL does not run on this machine")
    conn = await asyncpg.connect(database_url)
    try:
        before, own = cpu_by_program(), time.process_time()
        await conn.fetchval("SELECT count(*) FROM generate_series(1, 3000000)")
        after = cpu_by_program()
    finally:
        await conn.close()
    assert after["postgres"] is not None and before["postgres"] is not None
    spent = after["postgres"] - before["postgres"]
    assert spent >= 0.05, spent  # the count takes PostgreSQL well over 50 ms of CPU here
    assert time.process_time() - own < spent  # it was the server's work, not this process's
