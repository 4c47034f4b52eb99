"""After a broker lost its idempotence state, the producer the audit relay was given answers
OutOfOrderSequenceNumber to every send for ever: the relay starts a fresh producer of its own (as
the outbox relay does) and the records go out; the given producer stays its giver's to stop. In a
fault run the workers' audit relays kept failing once a second until the end, nothing published."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from aiokafka.errors import OutOfOrderSequenceNumber

from shared.audit import AuditLog
from shared.audit.relay import AuditRelay
from tests.platform.test_audit_log import KEY, fill


class _Producer:
    def __init__(self, broken: bool) -> None:
        self.broken = broken
        self.sent: list[bytes] = []
        self.stopped = False

    async def send(self, topic: str, value: bytes, **_: Any) -> asyncio.Future[object]:
        if self.broken:
            raise OutOfOrderSequenceNumber("the broker lost this producer's sequence")
        self.sent.append(value)
        done: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def stop(self) -> None:
        self.stopped = True


async def _run_until_sent(
    pool: asyncpg.Pool, schema: str, given: _Producer, fresh: _Producer, factory: Any, records: int
) -> AuditRelay:
    """The audit relay with `given` and `factory`, run until `fresh` sent `records` (or the relay
    ended, or 10 s), then stopped; the relay, for its counts."""
    relay = AuditRelay(
        pool, schema, given, "audit.v1", anchor_interval_s=3600, poll_s=0.05,
        producer_factory=factory,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        for _ in range(200):
            if len(fresh.sent) >= records or task.done():
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    return relay


async def test_a_fatal_producer_error_gets_the_relay_a_fresh_producer(
    pool: asyncpg.Pool, schema: str
) -> None:
    await fill(pool, AuditLog(schema, KEY), 3, "office-a")
    given, fresh = _Producer(broken=True), _Producer(broken=False)

    async def factory() -> Any:
        return fresh

    relay = await _run_until_sent(pool, schema, given, fresh, factory, 3)
    assert relay.renewals == 1 and len(fresh.sent) >= 3  # the three records (and the first anchors)
    assert not given.stopped and fresh.stopped  # its own is stopped with it; the given one is not


async def test_a_fresh_producer_that_cannot_start_yet_is_tried_again_next_round(
    pool: asyncpg.Pool, schema: str
) -> None:
    """The broker still away when the relay asks for a fresh producer: the relay goes on (it
    used to end there for good, its error out of the loop) and renews on a later round."""
    await fill(pool, AuditLog(schema, KEY), 2, "office-a")
    given, fresh, attempts = _Producer(broken=True), _Producer(broken=False), []

    async def factory() -> Any:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionRefusedError("the broker is still restarting")
        return fresh

    relay = await _run_until_sent(pool, schema, given, fresh, factory, 2)
    assert len(attempts) == 3 and relay.renewals == 1 and len(fresh.sent) >= 2
