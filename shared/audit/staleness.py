"""Anchoring that stopped: a chain whose records run on past its newest anchor for longer than
the relay could have missed.

The relay anchors every chain that grew once per `QYZMET_AUDIT_ANCHOR_INTERVAL_S`. Its lock row
and its checkpoints live in the service's own schema, so the service role can stop it (hold
`audit_relay_lock`, move `audit_relay_checkpoints` forward); a tail cut after that is invisible to
the anchors. A record not anchored `QYZMET_AUDIT_STALE_AFTER_INTERVALS` intervals after it was
made is therefore itself reported: "anchoring stale since" the newest anchor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.audit.anchors import Anchor
from shared.audit.keys import AuditSettings
from shared.audit.verify import ChainReport
from shared.db.identifiers import checked_identifier


class StalenessSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    stale_after_intervals: float = Field(default=10.0, gt=0, alias="QYZMET_AUDIT_STALE_AFTER_INTERVALS")
    """How many anchor intervals a record may wait for its anchor before verify reports it."""

    @property
    def stale_after(self) -> timedelta:
        """The relays' anchor interval (`AuditSettings`) times `stale_after_intervals`."""
        return timedelta(seconds=AuditSettings().anchor_interval_s * self.stale_after_intervals)


@dataclass(frozen=True)
class StaleChain:
    schema: str
    chain: str
    anchored_seq: int
    """The newest anchor's record (0: none was ever anchored)."""
    anchored_at: str | None
    """The newest anchor's time (None: no anchor)."""
    first_unanchored_at: datetime
    head_seq: int

    def describe(self) -> str:
        since = self.anchored_at or "the chain's first record"
        return (
            f"{self.schema}/{self.chain}: ANCHORING STALE since {since} (records"
            f" {self.anchored_seq + 1}..{self.head_seq} not anchored, the first made at"
            f" {self.first_unanchored_at.isoformat()}: a tail cut among them could not be seen;"
            " is the audit relay running, or held off its lock?)"
        )


async def stale_chains(
    conn: asyncpg.Connection,
    reports: Iterable[ChainReport],
    anchors: Iterable[Anchor],
    *,
    now: datetime,
    stale_after: timedelta,
) -> list[StaleChain]:
    """The consistent, anchored chains among `reports` whose first record past their newest anchor
    (one that matched: at most the verified head) was made more than `stale_after` before `now`."""
    newest: dict[tuple[str, str], Anchor] = {}
    for anchor in anchors:
        kept = newest.get((anchor.schema, anchor.chain))
        if kept is None or anchor.seq > kept.seq:
            newest[(anchor.schema, anchor.chain)] = anchor
    stale = []
    for report in reports:
        if report.broken is not None or not report.anchored:
            continue
        last = newest.get((report.schema, report.chain))
        after = last.seq if last is not None and last.seq <= report.head_seq else 0
        if after >= report.head_seq:
            continue
        first_at: datetime | None = await conn.fetchval(
            f"SELECT recorded_at FROM {checked_identifier(report.schema)}.audit_log"
            " WHERE chain = $1 AND seq = $2",
            report.chain,
            after + 1,
        )
        if first_at is not None and now - first_at > stale_after:
            at = last.time if last is not None and after else None
            stale.append(StaleChain(report.schema, report.chain, after, at, first_at, report.head_seq))
    return stale
