"""Handling many records of a consumer's batch in a few statements (issue 14: the decision
worker ran ~6 statements per case, one after another).

A `BatchHandler` says which decoded events it can take together (`accepts`), plans each one
without writing (`prepare`: None leaves that record to be handled on its own, after the batch
commits, with the full single-record policy: retries, dead letter) and writes all the planned
ones at once (`write`). The consumer claims their inbox ids in one statement first, so a
redelivered record is a duplicate as ever, and runs everything in the batch's one transaction:
if anything fails there, the whole batch rolls back and its records are handled one by one.

Ordering: a record is taken only if no other record of the batch concerns the same thing
(`key`, e.g. the application), so taking it out of order changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg

from shared.contracts.event import DomainEvent
from shared.messaging.envelope import Envelope

Item = tuple[Envelope, DomainEvent]


class BatchHandler(Protocol):
    def key(self, envelope: Envelope, event: DomainEvent) -> str | None:
        """What the event is about (records with the same key keep their order)."""
        ...

    def accepts(self, envelope: Envelope, event: DomainEvent) -> bool: ...

    async def prepare(self, conn: asyncpg.Connection, items: Sequence[Item]) -> list[Any | None]:
        """One plan per item (None: handle that one on its own later); writes nothing."""
        ...

    async def write(self, conn: asyncpg.Connection, plans: Sequence[Any]) -> None: ...


def batchable(handler: BatchHandler, decoded: dict[int, Item]) -> list[int]:
    """The records the handler may take together: accepted, and alone in the batch with their key."""
    keys = {i: handler.key(*item) for i, item in decoded.items()}
    counts = Counter(k for k in keys.values() if k is not None)
    chosen = []
    for i, item in decoded.items():
        key = keys[i]
        if key is not None and counts[key] == 1 and handler.accepts(*item):
            chosen.append(i)
    return chosen
