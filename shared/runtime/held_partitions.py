"""A `RetryLater` record pauses only its own partition in a faust agent.

Faust hands an agent batches that mix partitions and acknowledges every event of a batch once the
agent is done with it; offsets are committed up to the first unacknowledged one of each partition.
So an event that cannot be handled yet is *held*: its message gets one more reference (so faust's
acknowledgement leaves it unacknowledged and the partition's commit stays before it), it and every
later record of its partition wait in order, and the partition is paused at the broker. After a
back-off (`Redelivery.initial_delay`, doubling to `max_delay`) the held records are tried again;
once the first is handled, or dead-lettered when its retry budget is spent (`Deferrals`), the
partition's records are acknowledged and the partition resumes. Records of the other partitions
go on meanwhile. A partition revoked while held is dropped here: its new owner starts from the
committed offset, which is before the held records (the inbox absorbs what was handled twice).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from shared.messaging.consumer import Deferrals, EventConsumer, Outcome
from shared.messaging.raw import RawMessage

log = structlog.get_logger(__name__)


class PartitionControl(Protocol):
    """What the agent needs of faust's consumer (`app.consumer`)."""

    def pause_partitions(self, tps: Iterable[Any]) -> None: ...

    def resume_partitions(self, tps: Iterable[Any]) -> None: ...

    def assignment(self) -> Collection[Any]: ...


@dataclass
class Item:
    """One faust event and its record; `held` once it took an extra reference on its message."""

    event: Any
    record: RawMessage
    held: bool = False

    @property
    def tp(self) -> Any:
        return self.event.message.tp


@dataclass
class HeldPartitions:
    control: PartitionControl
    ack: Callable[[Any], None]
    """Acknowledge an event's message (drop the reference taken when it was held)."""
    first_delay: float
    max_delay: float
    clock: Callable[[], float] = time.monotonic
    queues: dict[Any, list[Item]] = field(default_factory=dict)
    due_at: dict[Any, float] = field(default_factory=dict)
    delay: dict[Any, float] = field(default_factory=dict)

    def absorb(self, items: Sequence[Item]) -> list[Item]:
        """Queue the items of held partitions behind their held records; return the others."""
        free: list[Item] = []
        for item in items:
            if item.tp in self.queues:
                self._take_reference(item)
                self.queues[item.tp].append(item)
            else:
                free.append(item)
        return free

    def hold(self, tp: Any, items: Sequence[Item]) -> float:
        for item in items:
            self._take_reference(item)
        self.queues.setdefault(tp, [])[:0] = items
        delay = self.delay.get(tp, self.first_delay)
        self.delay[tp] = min(delay * 2, self.max_delay)
        self.due_at[tp] = self.clock() + delay
        self.control.pause_partitions([tp])
        return delay

    def release(self, items: Iterable[Item]) -> None:
        """Handled (or dead-lettered): acknowledge what was held."""
        for item in items:
            if item.held:
                item.held = False
                self.ack(item.event)

    def take_due(self) -> list[tuple[Any, list[Item]]]:
        """The held partitions whose back-off is over (revoked ones are dropped)."""
        now = self.clock()
        owned = set(self.control.assignment())
        ready: list[tuple[Any, list[Item]]] = []
        for tp in [tp for tp, at in self.due_at.items() if at <= now]:
            del self.due_at[tp]
            items = self.queues.pop(tp)
            if tp in owned:
                ready.append((tp, items))
            else:
                self.delay.pop(tp, None)
                log.info("held partition revoked; its new owner reads it again", topic=tp.topic)
        return ready

    def resumed(self, tp: Any) -> None:
        self.delay.pop(tp, None)
        self.control.resume_partitions([tp])

    def next_due_in(self, default: float) -> float:
        if not self.due_at:
            return default
        return max(0.0, min(self.due_at.values()) - self.clock())

    @staticmethod
    def _take_reference(item: Item) -> None:
        if not item.held:
            item.event.message.incref()
            item.held = True


Process = Callable[[Sequence[RawMessage]], Awaitable[list[Outcome]]]


async def handle_items(items: Sequence[Item], process: Process, held: HeldPartitions) -> None:
    """Handle items of any partitions in order; a deferred record holds its partition's rest."""
    pending = list(items)
    while pending:
        outcomes = await process([item.record for item in pending])
        first = next((i for i, outcome in enumerate(outcomes) if outcome is Outcome.DEFERRED), None)
        if first is None:
            held.release(pending)
            return
        held.release(pending[:first])
        tp = pending[first].tp
        rest = pending[first:]
        delay = held.hold(tp, [item for item in rest if item.tp == tp])
        log.info("partition paused: a record cannot be handled yet", topic=tp.topic, delay_s=delay)
        # The other partitions' records came back deferred only because they followed it.
        pending = [item for item in rest if item.tp != tp]


async def retry_held(
    held: HeldPartitions,
    process: Process,
    lock: asyncio.Lock,
    stop: asyncio.Event,
    idle_s: float = 1.0,
) -> None:
    """Try held partitions again when their back-off is over, under the agent's lock."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=held.next_due_in(idle_s))
            return
        except TimeoutError:
            pass
        async with lock:
            for tp, items in held.take_due():
                await handle_items(items, process, held)
                if tp not in held.queues:
                    held.resumed(tp)


def deferring(consumer: EventConsumer, deferrals: Deferrals) -> Process:
    async def process(records: Sequence[RawMessage]) -> list[Outcome]:
        return await consumer.process_batch(records, deferrals=deferrals)

    return process
