"""The message bus and the unit of work, on the in-memory unit: dispatch by command type, one
retry policy (a lost race runs again in a new unit; a refusal never does), after-commit actions
only after a commit, and inside a caller's unit only conflicts are retried."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import pytest
import structlog.testing

from shared.domain.actor import Actor
from shared.domain.errors import InvalidState, UnknownCommand
from shared.eventstore import ConcurrencyConflict, NewEvent
from shared.eventstore.memory import InMemoryEventStore
from shared.service_layer import MessageBus, Meta, RetryPolicy
from shared.service_layer.memory import InMemoryAudit, InMemoryUnitOfWork

META = Meta(Actor("clerk-1", "clerk", "office-1"), correlation_id="corr-1")
FAST = RetryPolicy(attempts=5, budget_s=5.0, initial_wait_s=0.0, max_wait_s=0.0)


@dataclass(frozen=True)
class Append:
    stream: str
    fail_first: int = 0


@dataclass(frozen=True)
class Refuse:
    pass


@dataclass(frozen=True)
class Unheard:
    pass


class World:
    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.audit = InMemoryAudit()
        self.calls = 0
        self.sent: list[str] = []

    def begin(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store, self.audit)

    async def append(self, cmd: Append, uow: InMemoryUnitOfWork, meta: Meta) -> int:
        self.calls += 1
        version = await uow.events.stream_version(cmd.stream)
        if self.calls <= cmd.fail_first:
            # Another writer commits to the stream while this unit is open: it loses the race.
            async with self.store.transaction() as other:
                await other.append(cmd.stream, [NewEvent("other.wrote", {})], version)
        await uow.events.append(cmd.stream, [NewEvent("thing.happened", {"n": self.calls})], version)

        async def send() -> None:
            self.sent.append(cmd.stream)

        uow.after_commit(send)
        return self.calls

    async def refuse(self, cmd: Refuse, uow: InMemoryUnitOfWork, meta: Meta) -> None:
        self.calls += 1
        await uow.events.append("s", [NewEvent("never.kept", {})], None)
        uow.after_commit(self._never)
        raise InvalidState("not now")

    async def _never(self) -> None:
        self.sent.append("never")

    def bus(self) -> MessageBus[InMemoryUnitOfWork]:
        return MessageBus({Append: self.append, Refuse: self.refuse}, self.begin, FAST)


async def test_a_command_runs_its_handler_once_and_commits() -> None:
    world = World()
    assert await world.bus().handle(Append("s"), META) == 1
    assert [e.event_type for e in world.store.events("s")] == ["thing.happened"]
    assert world.sent == ["s"]


async def test_a_command_that_succeeds_sets_up_no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt is a plain call (issue 14: tenacity's set-up cost every command ~0.1 ms)."""

    def no_retrying(*_: object, **__: object) -> None:
        raise AssertionError("retries were set up for a command that succeeded")

    monkeypatch.setattr(RetryPolicy, "retrying", no_retrying)
    world = World()
    assert await world.bus().handle(Append("s"), META) == 1
    assert world.sent == ["s"]


async def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(UnknownCommand, match="Unheard"):
        await World().bus().handle(Unheard(), META)


async def test_a_lost_race_runs_again_in_a_new_unit_and_after_commit_runs_once() -> None:
    world = World()
    assert await world.bus().handle(Append("s", fail_first=2), META) == 3
    types = [e.event_type for e in world.store.events("s")]
    assert types == ["other.wrote", "other.wrote", "thing.happened"]  # the losers left nothing
    assert world.sent == ["s"]


async def test_a_refusal_is_never_retried_and_leaves_nothing() -> None:
    world = World()
    with pytest.raises(InvalidState):
        await world.bus().handle(Refuse(), META)
    assert world.calls == 1
    assert world.store.events() == [] and world.audit.records == [] and world.sent == []


async def test_retries_stop_at_the_policy_limit() -> None:
    world = World()
    with pytest.raises(ConcurrencyConflict):
        await world.bus().handle(Append("s", fail_first=99), META)
    assert world.calls == FAST.attempts


async def test_inside_a_callers_unit_nothing_is_retried() -> None:
    """The caller owns the transaction: it rolls back and redelivers in a fresh one, rather than
    a retry running (and sleeping) inside its open snapshot."""
    world = World()
    bus = world.bus()
    outer = world.begin()
    with pytest.raises(ConcurrencyConflict):
        await bus.handle(Append("s", fail_first=1), META, within=outer)
    assert world.calls == 1
    calls = 0

    async def unavailable(cmd: Append, uow: InMemoryUnitOfWork, meta: Meta) -> None:
        nonlocal calls
        calls += 1
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    bus.handlers[Append] = unavailable
    with pytest.raises(asyncpg.CannotConnectNowError):
        await bus.handle(Append("s"), META, within=world.begin())
    assert calls == 1


async def test_each_handled_command_is_one_log_line_with_its_correlation_id_and_no_subject() -> None:
    world = World()
    with structlog.testing.capture_logs() as logs:
        await world.bus().handle(Append("s", fail_first=1), META)  # retried once: still one line
        with pytest.raises(InvalidState):
            await world.bus().handle(Refuse(), META)
    handled = [line for line in logs if line["event"] == "command handled"]
    assert handled == [
        {
            "event": "command handled",
            "log_level": "info",
            "command": "Append",
            "correlation_id": "corr-1",
            "role": "clerk",
            "office": "office-1",
        }
    ]
    assert "clerk-1" not in repr(logs)
