"""Append-only audit log of one service schema: keyed hash chains, one per office.

`AuditLog.append` runs on the caller's connection, inside the caller's transaction, so an action
and its audit record commit together. It is INSERT-only and usually one round trip: the record's
MAC is computed on the head this process last saw for the chain, and `<schema>.audit_append`
(SECURITY DEFINER, owned by the owner: the service's role cannot INSERT into audit_log itself;
it locks the chain's row in the owner-only `audit_chains`) inserts it only if that is still the head;
otherwise it answers the head and the MAC is computed again. So each chain stays linear and
gap-free, and offices never wait for each other. The key is not in the database
(`shared.audit.keys`): someone who can write the tables cannot make a record that verifies.

A record's time is this process's clock, never earlier than the head's (another host's clock may
run a little ahead): `audit_append` refuses a time outside the schema's audit clock tolerance of
the database's clock, and one earlier than the chain's last record (migration 0007).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from shared.audit.keys import AuditKey, default_audit_key
from shared.audit.records import GENESIS_HASH, AuditEntry, AuditRecord, chain_mac
from shared.db.identifiers import checked_identifier
from shared.db.pool import dumps

if TYPE_CHECKING:
    from shared.audit.anchors import Anchor
    from shared.audit.verify import VerificationResult

_HEADS: dict[tuple[str, str], tuple[int, str, datetime | None]] = {}
"""(schema, chain) -> the head (seq, MAC, time) this process last appended or was told: a guess
the database checks."""

_ATTEMPTS = 20


@dataclasses.dataclass(frozen=True)
class AuditAttempt:
    """One try at appending a record: the record it would be, and audit_append's arguments."""

    record: AuditRecord
    args: tuple[Any, ...]


class AuditAppendFailed(RuntimeError):
    """The chain's head kept moving (or the transaction's snapshot cannot see it)."""


def record_of(row: asyncpg.Record) -> AuditRecord:
    return AuditRecord(
        chain=row["chain"],
        seq=row["seq"],
        recorded_at=row["recorded_at"],
        entry=AuditEntry(
            actor=row["actor"],
            role=row["role"],
            office=row["office"],
            action=row["action"],
            subject=row["subject"],
            details=row["details"],
            correlation_id=row["correlation_id"],
            outcome=row["outcome"],
        ),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        alg=row["alg"],
    )


class AuditLog:
    def __init__(self, schema: str, key: AuditKey | None = None) -> None:
        self.schema = checked_identifier(schema)
        self._key = key
        self._append_sql = (
            f"SELECT head_seq, head_hash, head_recorded_at FROM {self.schema}.audit_append("
            "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        )

    @property
    def key(self) -> AuditKey:
        if self._key is None:
            self._key = default_audit_key()
        return self._key

    async def append(self, conn: asyncpg.Connection, entry: AuditEntry) -> AuditRecord:
        attempt = self.attempt(entry)
        head = await conn.fetchrow(self._append_sql, *attempt.args)
        return await self.settle(conn, attempt, head)

    def attempt(self, entry: AuditEntry) -> AuditAttempt:
        """The record `entry` makes on the head this process last saw for its chain, as
        `audit_append`'s arguments (`args`): a caller may send them in a statement of its own
        (`EventStore.append_audited`) and then `settle` the attempt with the answer."""
        chain = entry.chain
        seq, prev, head_at = _HEADS.get((self.schema, chain), (0, GENESIS_HASH, None))
        return self._attempt(_normalised(entry), seq, prev, head_at)

    async def settle(
        self, conn: asyncpg.Connection, attempt: AuditAttempt, head: Mapping[str, Any] | None
    ) -> AuditRecord:
        """The record of `attempt`, given audit_append's answer to it (`head`: the chain's head
        where the record was not inserted, None or a NULL `head_seq` where it was): a moved head
        means trying again on it."""
        for _ in range(_ATTEMPTS):
            record = attempt.record
            if head is None or head["head_seq"] is None:
                _HEADS[(self.schema, record.chain)] = (record.seq, record.hash, record.recorded_at)
                return record
            seq, prev, head_at = head["head_seq"], head["head_hash"], head["head_recorded_at"]
            _HEADS[(self.schema, record.chain)] = (seq, prev, head_at)
            attempt = self._attempt(record.entry, seq, prev, head_at)
            head = await conn.fetchrow(self._append_sql, *attempt.args)
        chain = attempt.record.chain
        raise AuditAppendFailed(f"{self.schema}: the head of audit chain {chain!r} kept moving")

    def _attempt(self, entry: AuditEntry, seq: int, prev: str, head_at: datetime | None) -> AuditAttempt:
        key = self.key
        recorded_at = datetime.now(UTC)
        if head_at is not None and head_at > recorded_at:
            recorded_at = head_at
        mac = chain_mac(key, entry.chain, seq + 1, recorded_at, entry, prev)
        record = AuditRecord(entry.chain, seq + 1, recorded_at, entry, prev, mac, key.alg)
        args = (
            entry.chain, seq + 1, prev, recorded_at, entry.actor, entry.role, entry.office, entry.action,
            entry.subject, entry.details, entry.correlation_id, entry.outcome, key.alg, mac,
        )  # fmt: skip
        return AuditAttempt(record, args)

    async def verify(
        self, conn: asyncpg.Connection, anchors: Iterable[Anchor] = (), *, accept_legacy: bool = False
    ) -> VerificationResult:
        """Every chain of the schema end to end, and against `anchors` (`shared.audit.verify`)."""
        from shared.audit.verify import verify_schema

        return await verify_schema(conn, self.schema, self.key, anchors, accept_legacy=accept_legacy)

    def chains_sql(self) -> str:
        """A query of the chains (`chain`), as a skip scan over the primary key: one probe per chain."""
        return (
            f"WITH RECURSIVE c AS ((SELECT chain FROM {self.schema}.audit_log ORDER BY chain LIMIT 1)"
            f" UNION ALL SELECT (SELECT chain FROM {self.schema}.audit_log WHERE chain > c.chain"
            " ORDER BY chain LIMIT 1) FROM c WHERE c.chain IS NOT NULL)"
            " SELECT chain FROM c WHERE chain IS NOT NULL"
        )

    async def chains(self, conn: asyncpg.Connection) -> list[str]:
        return [row["chain"] for row in await conn.fetch(self.chains_sql())]

    async def head(self, conn: asyncpg.Connection, chain: str) -> tuple[int, str]:
        row = await conn.fetchrow(
            f"SELECT seq, hash FROM {self.schema}.audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1", chain
        )
        return (row["seq"], row["hash"]) if row is not None else (0, GENESIS_HASH)

    async def records(
        self, conn: asyncpg.Connection, chain: str | None = None, *, after: int = 0, batch: int = 1000
    ) -> AsyncIterator[AuditRecord]:
        """The records of `chain` (of every chain, chain by chain, when None) in order, a page at a time."""
        if chain is not None:
            last = after
            while True:
                rows = await conn.fetch(
                    f"SELECT * FROM {self.schema}.audit_log WHERE chain = $1 AND seq > $2"
                    " ORDER BY seq LIMIT $3",
                    chain, last, batch,
                )  # fmt: skip
                for row in rows:
                    yield record_of(row)
                if len(rows) < batch:
                    return
                last = rows[-1]["seq"]
        for name in await self.chains(conn):
            async for record in self.records(conn, name, batch=batch):
                yield record


def _normalised(entry: AuditEntry) -> AuditEntry:
    """The entry with its details as the database gives them back (JSON types only)."""
    return dataclasses.replace(entry, details=json.loads(dumps(entry.details)))
