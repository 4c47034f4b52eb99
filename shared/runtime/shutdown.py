"""A service process's own resources closed within a bound when it stops.

The supervisor (`qyzmet run`) kills a process that has not stopped `STOP_GRACE_S` after being told to. A
closing step that waits on something that may never come would spend that time and end the run
with a kill: asyncpg's `Pool.close()` waits for every connection to be released (a background loop
still in its round holds one), aiokafka's `stop()` for the producer's last batches (a broker that
lost its idempotence state may refuse them). Each step here waits at most its bound, then closes
by force and names in the log what was still running (task names and where they were in the code:
no values).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import asyncpg
import structlog

from shared.runtime.supervisor import STOP_GRACE_S

log = structlog.get_logger(__name__)

CLOSE_TIMEOUT_S = STOP_GRACE_S / 5
"""Each closing step's bound: a worker's steps (the pool, the producer, its relays' own producers)
one after another inside the time the supervisor gives it to stop."""


def running_tasks() -> list[str]:
    """The event loop's unfinished tasks but the caller's, as `name at function:line`."""
    current = asyncio.current_task()
    found = []
    for task in asyncio.all_tasks():
        if task is current or task.done():
            continue
        frames = task.get_stack(limit=1)
        where = f"{frames[0].f_code.co_name}:{frames[0].f_lineno}" if frames else "?"
        found.append(f"{task.get_name()} at {where}")
    return sorted(found)


async def bounded(step: str, closing: Awaitable[None], timeout_s: float = CLOSE_TIMEOUT_S) -> bool:
    """Await `closing` for at most `timeout_s`; False (and a warning naming the running tasks) if
    it did not finish, or failed."""
    try:
        await asyncio.wait_for(closing, timeout_s)
        return True
    except TimeoutError:
        tasks = running_tasks()
        log.warning("shutdown: step did not finish in time", step=step, timeout_s=timeout_s, tasks=tasks)
    except Exception as exc:  # closing anyway: the process is stopping
        log.warning("shutdown: step failed", step=step, error=type(exc).__name__)
    return False


async def close_pool(pool: asyncpg.Pool, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
    """`pool.close()` (waits for the connections in use to come back), else `terminate()` after
    `timeout_s`."""
    if not await bounded("close the database pool", pool.close(), timeout_s):
        pool.terminate()
