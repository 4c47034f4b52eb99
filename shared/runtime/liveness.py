"""A worker's own liveness watchdog: a process that is alive but no longer consumes exits, so its
supervisor (``qyzmet run``, Kubernetes) restarts it.

Why: after the broker is killed, a faust consumer can stay stuck in a rebalance for good: the
process runs, its heartbeat thread answers, but no record reaches the agents while the group's
lag grows. Nothing outside the process can tell that from a slow worker, so the worker checks
itself: it is *stalled* when its agents have seen no activity (a batch delivered, or a retry of a
batch that keeps failing) for ``stall_s`` while the partitions it consumes have records past the
group's committed offsets. A worker busy retrying (PostgreSQL down) is not stalled; a worker
whose broker is unreachable cannot measure lag and is not judged either (that outage is not
its fault and a restart would not help).

Lag is read the way an operator would read it (``kafka-consumer-groups --describe``): the group's
committed offsets from the admin API against the partitions' end offsets, through the worker's
`LagMonitor` (its Kafka clients stay open between checks).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

import structlog
from aiokafka import TopicPartition

from shared.messaging.lag import LagMonitor

log = structlog.get_logger(__name__)

Assignment = Callable[[], Collection[TopicPartition]]
Lag = Callable[[Collection[TopicPartition]], Awaitable[int | None]]


@dataclass
class ProgressWatch:
    """Touched by the agents whenever they do something; read by the watchdog."""

    clock: Callable[[], float] = time.monotonic
    last_activity: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.last_activity = self.clock()

    def touch(self) -> None:
        self.last_activity = self.clock()

    def idle_for(self) -> float:
        return self.clock() - self.last_activity


class GroupLag:
    """Records on `topics` past the consumer group's committed offsets (None: cannot tell now)."""

    def __init__(self, monitor: LagMonitor, topics: Collection[str]) -> None:
        self._monitor = monitor
        self._topics = set(topics)

    async def __call__(self, partitions: Collection[TopicPartition]) -> int | None:
        return await self._monitor.waiting(partitions, self._topics)


async def watch_liveness(
    watch: ProgressWatch,
    assignment: Assignment,
    lag: Lag,
    on_stall: Callable[[str], None],
    *,
    stall_s: float,
    interval_s: float = 10.0,
    stop: asyncio.Event | None = None,
) -> None:
    """Call `on_stall(reason)` once the agents have been idle `stall_s` with records waiting."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
            return
        except TimeoutError:
            pass
        idle = watch.idle_for()
        if idle < stall_s:
            continue
        waiting = await lag(list(assignment()))
        if waiting is None or waiting == 0:
            continue
        reason = f"no record handled for {idle:.0f} s while {waiting} records wait on its partitions"
        log.error("liveness: worker stalled, exiting for a restart", idle_s=round(idle), lag=waiting)
        on_stall(reason)
        return
