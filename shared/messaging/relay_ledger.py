"""What the outbox relay writes to PostgreSQL: its checkpoint (fenced by a leader epoch), the events
it parked, and marks of where each batch's events landed on the topic (for recovery after a broker
lost acknowledged records).

All of a batch's bookkeeping is written in one transaction, so a checkpoint never moves without its
parked rows and marks, and never moves at all for a relay that is no longer the leader.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from shared.eventstore.records import GlobalCursor


class LeadershipLost(RuntimeError):
    """Another relay of the same name claimed the leadership: this one must not move the checkpoint."""


@dataclass(frozen=True)
class Parked:
    event_id: UUID
    position: int
    txid: int
    stream_id: str
    event_type: str
    topic: str
    reason: str


@dataclass(frozen=True)
class Mark:
    """The highest offset one batch's events got in one partition, and the event stored there."""

    topic: str
    partition: int
    last_offset: int
    last_event_id: UUID


@dataclass(frozen=True)
class StoredMark:
    topic: str
    partition: int
    last_offset: int
    last_event_id: UUID
    before: GlobalCursor


class RelayLedger:
    def __init__(self, schema: str, relay: str) -> None:
        self.schema = schema
        self.relay = relay

    async def checkpoint(self, conn: asyncpg.Connection) -> GlobalCursor:
        row = await conn.fetchrow(
            f"SELECT txid::text::bigint AS txid, position FROM {self.schema}.relay_checkpoints"
            " WHERE relay = $1",
            self.relay,
        )
        return GlobalCursor() if row is None else GlobalCursor(row["txid"], row["position"])

    async def claim_leadership(self, conn: asyncpg.Connection) -> int:
        """Bump and return the leader epoch: from now on only checkpoint writes that carry this epoch
        succeed (call it while holding the relay's advisory lock)."""
        epoch: int = await conn.fetchval(
            f"INSERT INTO {self.schema}.relay_checkpoints AS c (relay, txid, position, leader_epoch)"
            " VALUES ($1, '0'::xid8, 0, 1)"
            " ON CONFLICT (relay) DO UPDATE SET leader_epoch = c.leader_epoch + 1"
            " RETURNING leader_epoch",
            self.relay,
        )
        return epoch

    async def save(
        self,
        conn: asyncpg.Connection,
        before: GlobalCursor,
        after: GlobalCursor,
        epoch: int | None,
        parked: Sequence[Parked] = (),
        marks: Sequence[Mark] = (),
    ) -> None:
        """Move the checkpoint from `before` to `after` with the batch's parked events and marks.
        With an `epoch`, raise `LeadershipLost` (writing nothing) if another relay claimed since."""
        async with conn.transaction():
            await self._move(conn, after, epoch)
            if parked:
                await conn.executemany(
                    f"INSERT INTO {self.schema}.relay_parked"
                    " (relay, event_id, position, txid, stream_id, event_type, topic, reason)"
                    " VALUES ($1, $2, $3, $4::text::xid8, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    [
                        (
                            self.relay,
                            p.event_id,
                            p.position,
                            str(p.txid),
                            p.stream_id,
                            p.event_type,
                            p.topic,
                            p.reason,
                        )
                        for p in parked
                    ],
                )
            if marks:
                await conn.executemany(
                    f"INSERT INTO {self.schema}.relay_marks"
                    " (relay, topic, partition, last_offset, last_event_id, before_txid, before_position)"
                    " VALUES ($1, $2, $3, $4, $5, $6::text::xid8, $7)"
                    " ON CONFLICT (relay, topic, partition, last_offset) DO UPDATE SET"
                    " last_event_id = excluded.last_event_id, before_txid = excluded.before_txid,"
                    " before_position = excluded.before_position, recorded_at = now()",
                    [
                        (
                            self.relay,
                            m.topic,
                            m.partition,
                            m.last_offset,
                            m.last_event_id,
                            str(before.txid),
                            before.position,
                        )
                        for m in marks
                    ],
                )

    async def _move(self, conn: asyncpg.Connection, to: GlobalCursor, epoch: int | None) -> None:
        if epoch is None:  # not run as a leader (a test or tool driving `drain` directly)
            await conn.execute(
                f"INSERT INTO {self.schema}.relay_checkpoints (relay, txid, position)"
                " VALUES ($1, $2::text::xid8, $3)"
                " ON CONFLICT (relay) DO UPDATE SET txid = excluded.txid, position = excluded.position,"
                " updated_at = now()",
                self.relay,
                str(to.txid),
                to.position,
            )
            return
        moved = await conn.fetchval(
            f"UPDATE {self.schema}.relay_checkpoints"
            " SET txid = $2::text::xid8, position = $3, updated_at = now()"
            " WHERE relay = $1 AND leader_epoch = $4 RETURNING 1",
            self.relay,
            str(to.txid),
            to.position,
            epoch,
        )
        if moved is None:
            raise LeadershipLost(f"relay {self.relay}: epoch {epoch} is no longer the leader's")

    async def rewind(self, conn: asyncpg.Connection, to: GlobalCursor, epoch: int | None) -> None:
        """Move the checkpoint back to `to` (what the topic lost is published again) and forget the
        marks of batches from there on: the re-sent events will leave new ones."""
        async with conn.transaction():
            await self._move(conn, to, epoch)
            await conn.execute(
                f"DELETE FROM {self.schema}.relay_marks WHERE relay = $1"
                " AND (before_txid, before_position) >= ($2::text::xid8, $3)",
                self.relay,
                str(to.txid),
                to.position,
            )

    async def recent_marks(self, conn: asyncpg.Connection, limit: int = 2000) -> list[StoredMark]:
        rows = await conn.fetch(
            f"SELECT topic, partition, last_offset, last_event_id, before_txid::text::bigint AS before_txid,"
            f" before_position FROM {self.schema}.relay_marks WHERE relay = $1"
            " ORDER BY before_txid DESC, before_position DESC LIMIT $2",
            self.relay,
            limit,
        )
        return [
            StoredMark(
                r["topic"],
                r["partition"],
                r["last_offset"],
                r["last_event_id"],
                GlobalCursor(r["before_txid"], r["before_position"]),
            )
            for r in rows
        ]

    async def prune_marks(self, conn: asyncpg.Connection, keep_s: float) -> None:
        """Forget marks older than `keep_s`, keeping each partition's latest."""
        await conn.execute(
            f"DELETE FROM {self.schema}.relay_marks m WHERE relay = $1"
            " AND recorded_at < now() - make_interval(secs => $2)"
            f" AND last_offset < (SELECT max(last_offset) FROM {self.schema}.relay_marks l"
            " WHERE l.relay = m.relay AND l.topic = m.topic AND l.partition = m.partition)",
            self.relay,
            keep_s,
        )

    async def parked(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT event_id, position, stream_id, event_type, topic, reason, parked_at"
            f" FROM {self.schema}.relay_parked WHERE relay = $1 ORDER BY txid, position",
            self.relay,
        )
        return rows

    async def parked_count(self, conn: asyncpg.Connection) -> int:
        count: int = await conn.fetchval(
            f"SELECT count(*) FROM {self.schema}.relay_parked WHERE relay = $1", self.relay
        )
        return count
