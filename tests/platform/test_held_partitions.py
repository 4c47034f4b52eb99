"""A record that cannot be handled yet (`RetryLater`) holds only its own partition in a faust
agent: the other partitions go on, the held records stay unacknowledged (so faust's commit stays
before them), and they are handled in order after the back-off."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from shared.messaging.consumer import Outcome
from shared.messaging.raw import RawMessage, RawRecord
from shared.runtime.held_partitions import HeldPartitions, Item, handle_items, retry_held


class TP(tuple[str, int]):
    @property
    def topic(self) -> str:
        return self[0]


class Message:
    def __init__(self, tp: TP, offset: int) -> None:
        self.tp, self.offset, self.refcount, self.acked = tp, offset, 1, False

    def incref(self) -> None:
        self.refcount += 1

    def ack(self) -> None:  # faust's Message.ack: decref; acknowledged at 0
        self.refcount -= 1
        if self.refcount == 0:
            self.acked = True


class Event:
    def __init__(self, message: Message) -> None:
        self.message = message

    def ack(self) -> None:
        self.message.ack()


class Control:
    def __init__(self, *tps: TP) -> None:
        self.owned = set(tps)
        self.paused: set[Any] = set()

    def pause_partitions(self, tps: Iterable[Any]) -> None:
        self.paused.update(tps)

    def resume_partitions(self, tps: Iterable[Any]) -> None:
        self.paused.difference_update(tps)

    def assignment(self) -> set[Any]:
        return self.owned


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


class Handler:
    """Like EventConsumer.process_batch with deferrals: a record marked b"wait" is deferred while
    `waiting`, and every record after it in the call comes back deferred too."""

    def __init__(self) -> None:
        self.waiting = True
        self.handled: list[tuple[int, int]] = []

    async def __call__(self, records: Sequence[RawMessage]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for record in records:
            if (outcomes and outcomes[-1] is Outcome.DEFERRED) or (record.value == b"wait" and self.waiting):
                outcomes.append(Outcome.DEFERRED)
            else:
                self.handled.append((record.partition, record.offset))
                outcomes.append(Outcome.HANDLED)
        return outcomes


P0, P1 = TP(("t", 0)), TP(("t", 1))


def _items(*specs: tuple[TP, int, bytes]) -> list[Item]:
    items = []
    for tp, offset, value in specs:
        record = RawRecord(topic="t", partition=tp[1], offset=offset, key=None, value=value, headers=[])
        items.append(Item(Event(Message(tp, offset)), record))
    return items


def _faust_acks(items: Sequence[Item]) -> None:
    """What take_events does after the agent's body: acknowledge every event of the batch."""
    for item in items:
        item.event.ack()


def _held(control: Control, clock: Clock) -> HeldPartitions:
    return HeldPartitions(control, lambda event: event.ack(), first_delay=1.0, max_delay=8.0, clock=clock)


async def test_a_deferred_record_holds_only_its_partition_and_stays_unacknowledged() -> None:
    control, clock, handler = Control(P0, P1), Clock(), Handler()
    held = _held(control, clock)
    batch = _items((P0, 0, b"ok"), (P0, 1, b"wait"), (P1, 0, b"ok"), (P0, 2, b"ok"), (P1, 1, b"ok"))
    await handle_items(held.absorb(batch), handler, held)
    _faust_acks(batch)

    assert handler.handled == [(0, 0), (1, 0), (1, 1)]  # partition 1 went on
    assert control.paused == {P0}
    acked = {(item.tp[1], item.record.offset): item.event.message.acked for item in batch}
    assert acked == {(0, 0): True, (0, 1): False, (1, 0): True, (0, 2): False, (1, 1): True}

    later = _items((P0, 3, b"ok"), (P1, 2, b"ok"))  # partition 0 keeps its order behind the held record
    await handle_items(held.absorb(later), handler, held)
    _faust_acks(later)
    assert handler.handled[-1] == (1, 2)
    assert not later[0].event.message.acked

    handler.waiting = False
    clock.now = 1.0
    for tp, items in held.take_due():
        await handle_items(items, handler, held)
        held.resumed(tp)
    assert handler.handled[-3:] == [(0, 1), (0, 2), (0, 3)]
    assert all(item.event.message.acked for item in [*batch, *later])
    assert control.paused == set()


async def test_a_record_deferred_again_waits_twice_as_long() -> None:
    control, clock, handler = Control(P0), Clock(), Handler()
    held = _held(control, clock)
    batch = _items((P0, 5, b"wait"))
    await handle_items(held.absorb(batch), handler, held)
    _faust_acks(batch)
    clock.now = 0.9
    assert held.take_due() == []
    clock.now = 1.0
    for _, items in held.take_due():
        await handle_items(items, handler, held)
    assert held.next_due_in(60.0) == 2.0 and not batch[0].event.message.acked


async def test_a_revoked_held_partition_is_dropped_unacknowledged_for_its_new_owner() -> None:
    control, clock, handler = Control(P0), Clock(), Handler()
    held = _held(control, clock)
    batch = _items((P0, 7, b"wait"), (P0, 8, b"ok"))
    await handle_items(held.absorb(batch), handler, held)
    _faust_acks(batch)
    control.owned.clear()
    clock.now = 5.0
    assert held.take_due() == []
    assert handler.handled == [] and not any(item.event.message.acked for item in batch)


async def test_the_retry_loop_hands_held_partitions_back_after_the_back_off() -> None:
    control, handler = Control(P0), Handler()
    held = HeldPartitions(control, lambda event: event.ack(), first_delay=0.05, max_delay=1.0)
    batch = _items((P0, 1, b"wait"), (P0, 2, b"ok"))
    lock, stop = asyncio.Lock(), asyncio.Event()
    await handle_items(held.absorb(batch), handler, held)
    _faust_acks(batch)
    handler.waiting = False
    task = asyncio.create_task(retry_held(held, handler, lock, stop, idle_s=0.01))
    for _ in range(100):
        if len(handler.handled) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await task
    assert handler.handled == [(0, 1), (0, 2)]
    assert control.paused == set() and all(item.event.message.acked for item in batch)
