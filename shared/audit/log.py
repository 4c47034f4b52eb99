"""Append-only, hash-chained audit log of one service schema.

`AuditLog.append` runs on the caller's connection, inside the caller's transaction, so an
action and its audit record commit together. Appends to one schema are serialised by a row
lock on `audit_head`, which keeps the chain linear and its sequence numbers gap-free.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from shared.audit.records import GENESIS_HASH, AuditEntry, AuditRecord, chain_hash
from shared.db.identifiers import checked_identifier


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


class AuditLog:
    def __init__(self, schema: str) -> None:
        self.schema = checked_identifier(schema)

    async def append(self, conn: asyncpg.Connection, entry: AuditEntry) -> AuditRecord:
        async with conn.transaction():
            head = await conn.fetchrow(f"SELECT seq, hash FROM {self.schema}.audit_head FOR UPDATE")
            assert head is not None, "audit_head row missing: migrations not applied"
            seq = head["seq"] + 1
            recorded_at = datetime.now(UTC)
            digest = chain_hash(seq, recorded_at, entry, head["hash"])
            await conn.execute(
                f"INSERT INTO {self.schema}.audit_log (seq, recorded_at, actor, role, office, action,"
                " subject, details, correlation_id, prev_hash, hash)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                seq,
                recorded_at,
                entry.actor,
                entry.role,
                entry.office,
                entry.action,
                entry.subject,
                entry.details,
                entry.correlation_id,
                head["hash"],
                digest,
            )
            await conn.execute(f"UPDATE {self.schema}.audit_head SET seq = $1, hash = $2", seq, digest)
        return AuditRecord(seq, recorded_at, entry, head["hash"], digest)

    async def records(self, conn: asyncpg.Connection, batch: int = 1000) -> AsyncIterator[AuditRecord]:
        last = 0
        while True:
            rows = await conn.fetch(
                f"SELECT * FROM {self.schema}.audit_log WHERE seq > $1 ORDER BY seq LIMIT $2", last, batch
            )
            if not rows:
                return
            for row in rows:
                yield AuditRecord(
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
                    ),
                    prev_hash=row["prev_hash"],
                    hash=row["hash"],
                )
                last = row["seq"]

    async def verify(self, conn: asyncpg.Connection) -> VerificationResult:
        """Walk the chain; name the first record that was edited, removed or moved.

        Records and head are read in one snapshot, so appends running meanwhile are no alarm."""
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await self._verify(conn)

    async def _verify(self, conn: asyncpg.Connection) -> VerificationResult:
        expected_seq = 1
        prev = GENESIS_HASH
        checked = 0
        async for record in self.records(conn):
            if record.seq != expected_seq:
                return VerificationResult(
                    False, checked, expected_seq, f"record {expected_seq} is missing (next is {record.seq})"
                )
            if record.prev_hash != prev:
                return VerificationResult(
                    False, checked, record.seq, "link to the previous record is broken (removed or reordered)"
                )
            if chain_hash(record.seq, record.recorded_at, record.entry, prev) != record.hash:
                return VerificationResult(
                    False, checked, record.seq, "content does not match its hash (edited)"
                )
            prev = record.hash
            expected_seq += 1
            checked += 1
        head = await conn.fetchrow(f"SELECT seq, hash FROM {self.schema}.audit_head")
        if head is not None and (head["seq"] != checked or head["hash"] != prev):
            return VerificationResult(
                False, checked, checked + 1, f"records after {checked} are missing (head is at {head['seq']})"
            )
        return VerificationResult(True, checked)
