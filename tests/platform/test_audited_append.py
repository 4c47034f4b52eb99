"""A command's events and its audit record in one statement (`PgUnitOfWork.append_audited`,
issue 14): one round trip while the command holds its locks, the same outcomes as an append
followed by an audit append."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from asyncpg.connection import LoggedQuery

from shared.audit import AuditEntry, AuditLog
from shared.audit import log as audit_log_module
from shared.eventstore import EventStore
from shared.eventstore.errors import ConcurrencyConflict
from shared.eventstore.records import NewEvent
from shared.service_layer import PgUnitOfWork


def _event(n: int = 1) -> NewEvent:
    return NewEvent(event_id=uuid.uuid4(), event_type="case.noted", data={"n": n})


def _entry(subject: str, office: str = "office-a") -> AuditEntry:
    return AuditEntry(actor="clerk-1", role="clerk", office=office, action="case.note", subject=subject)


async def _records(conn: asyncpg.Connection, schema: str, subject: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT chain, seq FROM {schema}.audit_log WHERE subject = $1 ORDER BY seq", subject
    )


async def test_events_and_audit_record_go_in_one_statement(pool: asyncpg.Pool, schema: str) -> None:
    queries: list[str] = []

    def logged(query: LoggedQuery) -> None:
        queries.append(query.query)

    async with PgUnitOfWork(pool, schema) as uow:
        # the driver's first use of the statement's types costs it lookups of its own, once
        await uow.append_audited("case-0", [_event(0)], 0, _entry("case/0"))
        uow.conn.add_query_logger(logged)
        try:
            result = await uow.append_audited("case-1", [_event(1), _event(2)], 0, _entry("case/1"))
        finally:
            uow.conn.remove_query_logger(logged)
    assert len(queries) == 1
    assert (result.version, result.appended) == (2, 2)
    async with pool.acquire() as conn:
        assert len(await EventStore(schema).load(conn, "case-1")) == 2
        assert [tuple(r) for r in await _records(conn, schema, "case/1")] == [("office-a", 2)]
        verified = await AuditLog(schema).verify(conn)
    assert verified.ok, verified.breaks


async def test_a_head_moved_by_another_process_is_caught_up_with(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema)
    async with pool.acquire() as conn:
        await log.append(conn, _entry("case/0"))
        await log.append(conn, _entry("case/0"))
    # this process last saw the chain at its first record: another process appended since
    audit_log_module._HEADS[(schema, "office-a")] = (0, "0" * 64, None)
    async with PgUnitOfWork(pool, schema) as uow:
        await uow.append_audited("case-2", [_event()], 0, _entry("case/2"))
    async with pool.acquire() as conn:
        assert [tuple(r) for r in await _records(conn, schema, "case/2")] == [("office-a", 3)]
        assert len(await EventStore(schema).load(conn, "case-2")) == 1
        verified = await log.verify(conn)
    assert verified.ok, verified.breaks


async def test_a_refused_append_records_nothing_and_leaves_the_transaction_usable(
    pool: asyncpg.Pool, schema: str
) -> None:
    async with PgUnitOfWork(pool, schema) as uow:
        await uow.events.append("case-3", [_event()], 0)
    async with PgUnitOfWork(pool, schema) as uow:
        with pytest.raises(ConcurrencyConflict):
            await uow.append_audited("case-3", [_event()], 0, _entry("case/3"))  # it is at version 1
        await uow.audit.append(_entry("case/3-after"))  # the transaction goes on
    async with pool.acquire() as conn:
        assert await _records(conn, schema, "case/3") == []
        assert len(await _records(conn, schema, "case/3-after")) == 1
        assert len(await EventStore(schema).load(conn, "case-3")) == 1


async def test_a_refused_append_does_not_wait_for_the_offices_audit_chain(
    pool: asyncpg.Pool, schema: str
) -> None:
    """audit_append runs only when the events went in: a refusal neither records nor queues for
    the chain another transaction of the office holds."""
    async with PgUnitOfWork(pool, schema) as uow:
        await uow.events.append("case-6", [_event()], 0)
    async with pool.acquire() as holder, holder.transaction():
        await AuditLog(schema).append(holder, _entry("case/held"))  # the office's chain is locked
        async with PgUnitOfWork(pool, schema) as uow:
            refused = uow.append_audited("case-6", [_event()], 0, _entry("case/6"))
            with pytest.raises(ConcurrencyConflict):
                await asyncio.wait_for(refused, 5.0)


async def test_events_stored_already_are_a_no_op_that_is_still_audited(
    pool: asyncpg.Pool, schema: str
) -> None:
    """As an append then an audit append: a repeat appends nothing; the action is recorded."""
    events = [_event()]
    async with PgUnitOfWork(pool, schema) as uow:
        await uow.events.append("case-4", events, 0)
    async with PgUnitOfWork(pool, schema) as uow:
        result = await uow.append_audited("case-4", events, 0, _entry("case/4"))
    assert (result.version, result.appended) == (1, 0)
    async with pool.acquire() as conn:
        assert len(await _records(conn, schema, "case/4")) == 1
        assert len(await EventStore(schema).load(conn, "case-4")) == 1


async def test_an_audited_append_needs_a_transaction(pool: asyncpg.Pool, schema: str) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            await EventStore(schema).append_audited(conn, "case-5", [_event()], 0, ())
