"""Walk every audit chain of a schema and name the first record that was edited, deleted,
reordered, rewritten without the key, or cut off behind an anchor."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from shared.audit.anchors import Anchor, PublishedRecord, chain_macs_of
from shared.audit.chain_macs import ChainMacs
from shared.audit.keyring import AuditKeyRing, as_ring, key_id_of
from shared.audit.keys import AuditKey
from shared.audit.log import AuditLog
from shared.audit.records import GENESIS_HASH, LEGACY_ALG, NO_CHAIN, AuditRecord, chain_mac, legacy_hash


@dataclass(frozen=True)
class ChainBreak:
    schema: str
    chain: str
    seq: int
    reason: str


@dataclass
class ChainReport:
    schema: str
    chain: str
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    legacy: int = 0
    anchors: int = 0
    anchored: bool = False
    """Some anchor kept outside the database matched a record of the chain (or it has none):
    without one, a cut-off tail cannot be told from a short chain."""
    published: int = 0
    """Records that match the record published on audit.v1."""
    unpublished: int = 0
    """Records older than the relay's interval that audit.v1 does not hold (not a break)."""
    first_unpublished_seq: int | None = None
    broken: ChainBreak | None = None
    key_needed: str | None = None
    """The id of the key the broken record names, when the verifier lacks it (a previous key is needed)."""
    by_key: dict[str, int] = field(default_factory=dict)
    """Keyed records verified, by the id of the key (current or previous) that made them."""


@dataclass
class Evidence:
    """What outside the database says of one chain: anchors, and (when audit.v1 was read) the
    records published on it."""

    anchors: list[Anchor] = field(default_factory=list)
    published: ChainMacs | None = None
    unpublished_before: datetime | None = None


@dataclass
class VerificationResult:
    chains: list[ChainReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(chain.broken is None for chain in self.chains)

    @property
    def checked(self) -> int:
        return sum(chain.checked for chain in self.chains)

    @property
    def breaks(self) -> list[ChainBreak]:
        return [chain.broken for chain in self.chains if chain.broken is not None]

    @property
    def first_bad_seq(self) -> int | None:
        return self.breaks[0].seq if self.breaks else None

    @property
    def reason(self) -> str | None:
        return self.breaks[0].reason if self.breaks else None


class _ChainWalk:
    """One chain, record after record; `broken` is the first fault found."""

    def __init__(
        self,
        report: ChainReport,
        keys: AuditKeyRing,
        evidence: Evidence,
        accept_legacy: bool,
        legacy_boundary: int = 0,
    ) -> None:
        self.report = report
        self.keys = keys
        self.anchors: dict[int, list[Anchor]] = {}
        for anchor in evidence.anchors:  # every anchor counts: two that disagree are a break
            self.anchors.setdefault(anchor.seq, []).append(anchor)
        self.published = evidence.published
        self.unpublished_before = evidence.unpublished_before
        # Records before the first one the topic holds may have gone with its retention.
        self.first_published = self.published.first if self.published is not None else 0
        self.accept_legacy = accept_legacy and report.chain == NO_CHAIN
        self.legacy_boundary = legacy_boundary
        self.keyed_seen = False

    def fault(self, seq: int, reason: str, key_needed: str | None = None) -> None:
        r = self.report
        r.broken, r.key_needed = ChainBreak(r.schema, r.chain, seq, reason), key_needed

    def step(self, record: AuditRecord) -> bool:
        """Check `record` after the ones before; False once the chain is broken."""
        r = self.report
        expected = r.head_seq + 1
        if record.seq != expected:
            self.fault(expected, f"record {expected} is missing (deleted; the next one is {record.seq})")
            return False
        if record.prev_hash != r.head_hash:
            self.fault(
                record.seq, "its link to the previous record is broken (a record removed or reordered)"
            )
            return False
        reason = self._content_fault(record)
        if reason is not None:
            kid = key_id_of(record.alg)
            self.fault(record.seq, reason, kid if kid is not None and kid not in self.keys.kids else None)
            return False
        anchors = self.anchors.get(record.seq, [])
        differing = sorted(a.time for a in anchors if a.hash != record.hash)
        if differing:
            self.fault(
                record.seq,
                f"it differs from an anchor published at {differing[0]}"
                " (the chain was rewritten or cut and regrown)",
            )
            return False
        r.anchors += len(anchors)
        if not self._matches_published(record):
            return False
        r.head_seq, r.head_hash = record.seq, record.hash
        r.checked += 1
        return True

    def _matches_published(self, record: AuditRecord) -> bool:
        if self.published is None:
            return True
        r = self.report
        hashes = self.published.hashes(record.seq)
        if hashes - {record.hash}:
            self.fault(
                record.seq,
                "it differs from the record published on audit.v1"
                " (the chain was rewritten or cut and regrown)",
            )
            return False
        r.published += bool(hashes)
        old = self.unpublished_before is not None and record.recorded_at < self.unpublished_before
        if not hashes and old and record.seq >= self.first_published:
            r.unpublished += 1
            r.first_unpublished_seq = r.first_unpublished_seq or record.seq
        return True

    def _content_fault(self, record: AuditRecord) -> str | None:
        if record.alg == LEGACY_ALG:
            if self.accept_legacy and (self.keyed_seen or record.seq > self.legacy_boundary):
                return (
                    f"it is unkeyed (plain SHA-256) and above the legacy boundary ({self.legacy_boundary})"
                    " recorded when keyed chains came in: made without the audit key"
                )
            if not self.accept_legacy:
                return "it is unkeyed (plain SHA-256): made without the audit key" + (
                    "" if self.keyed_seen else " (records from before keyed chains: --accept-legacy)"
                )
            self.report.legacy += 1
            if legacy_hash(record.seq, record.recorded_at, record.entry, record.prev_hash) != record.hash:
                return "its content does not match its hash (edited)"
            return None
        key = self.keys.for_alg(record.alg)
        if key is None:
            return self.keys.lacking(record.alg)
        self.keyed_seen = True
        mac = chain_mac(key, record.chain, record.seq, record.recorded_at, record.entry, record.prev_hash)
        if mac != record.hash:
            return "its content does not match its MAC (edited, or rechained without the key)"
        self.report.by_key[key.kid] = self.report.by_key.get(key.kid, 0) + 1
        return None

    def finish(self) -> None:
        r = self.report
        r.anchored = r.anchors > 0 or r.published > 0 or r.checked == 0
        if r.broken is not None:
            return
        published_last = self.published.last if self.published is not None else 0
        if published_last > r.head_seq and not any(
            a.seq > r.head_seq for same in self.anchors.values() for a in same
        ):
            self.fault(
                r.head_seq + 1,
                f"records {r.head_seq + 1}..{published_last} are missing: they were published on"
                " audit.v1 (the tail was cut off)",
            )
            return
        beyond = [a for same in self.anchors.values() for a in same if a.seq > r.head_seq]
        if beyond:
            last = max(beyond, key=lambda a: a.seq)
            self.fault(
                r.head_seq + 1,
                f"records {r.head_seq + 1}..{last.seq} are missing: the anchor of {last.time} names"
                f" record {last.seq} (the tail was cut off)",
            )


async def verify_schema(
    conn: asyncpg.Connection,
    schema: str,
    key: AuditKey | AuditKeyRing | Iterable[AuditKey],
    anchors: Iterable[Anchor] = (),
    *,
    accept_legacy: bool = False,
    published: Iterable[PublishedRecord] | Mapping[str, ChainMacs] | None = None,
    unpublished_after: timedelta = timedelta(minutes=5),
) -> VerificationResult:
    """Every chain of `schema`, each against its anchors and, when given (audit.v1 read), the
    records published on audit.v1 (each record, or this schema's MACs by chain), in one snapshot
    (appends meanwhile are no alarm; read the anchors and records before calling, so none names a
    record newer than the snapshot). A record older than `unpublished_after` that audit.v1 does
    not hold is counted unpublished. `key`: the current key, or a ring with the previous keys too
    (`shared.audit.keyring`): each record is checked with the key it names."""
    keys = as_ring(key)
    log = AuditLog(schema, keys.current)
    by_chain: dict[str, list[Anchor]] = {}
    for anchor in anchors:
        if anchor.schema == log.schema:
            by_chain.setdefault(anchor.chain, []).append(anchor)
    sent: Mapping[str, ChainMacs] | None = None
    if isinstance(published, Mapping):
        sent = published
    elif published is not None:
        sent = {
            chain: macs for (owner, chain), macs in chain_macs_of(published).items() if owner == log.schema
        }
    before = datetime.now(UTC) - unpublished_after
    result = VerificationResult()
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        state = await conn.fetchval(
            "SELECT CASE WHEN to_regclass($1) IS NULL THEN 'gone' WHEN EXISTS (SELECT 1 FROM"
            " information_schema.columns WHERE table_schema = $2 AND table_name = 'audit_log'"
            " AND column_name = 'chain') THEN 'keyed' ELSE 'unkeyed' END",
            f"{log.schema}.audit_log", log.schema,
        )  # fmt: skip
        if state != "keyed":
            result.chains = _unverifiable(log.schema, state, by_chain)
            return result
        names = await log.chains(conn)
        boundaries = await _legacy_boundaries(conn, log.schema) if accept_legacy else {}
        for chain in sorted({*names, *by_chain, *(sent or {})}):
            evidence = Evidence(
                by_chain.get(chain, []),
                None if sent is None else sent.get(chain, ChainMacs()),
                before if sent is not None else None,
            )
            walk = _ChainWalk(
                ChainReport(log.schema, chain), keys, evidence, accept_legacy, boundaries.get(chain, 0)
            )
            async for record in log.records(conn, chain):
                if not walk.step(record):
                    break
            walk.finish()
            result.chains.append(walk.report)
    return result


async def _legacy_boundaries(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    """Per chain, the last unkeyed record made before keyed chains (migration 0006); none before it."""
    if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.audit_legacy_boundary") is None:
        return {}
    rows = await conn.fetch(f"SELECT chain, last_seq FROM {schema}.audit_legacy_boundary")
    return {row["chain"]: row["last_seq"] for row in rows}


def _unverifiable(schema: str, state: str, by_chain: dict[str, list[Anchor]]) -> list[ChainReport]:
    """Every anchored chain of a schema whose audit log is gone, or was never keyed, is broken."""
    why = "its audit log is gone" if state == "gone" else "its audit log predates keyed chains (0004)"
    reports = []
    for chain in sorted(by_chain) or [NO_CHAIN]:
        last = max((a.seq for a in by_chain.get(chain, [])), default=0)
        reason = why + (f" (anchored up to record {last})" if last else "")
        reports.append(ChainReport(schema, chain, broken=ChainBreak(schema, chain, 1, reason)))
    return reports


async def audited_schemas(conn: asyncpg.Connection) -> list[str]:
    """Every schema with a keyed audit log (the four services', the catalog's; migrated to 0004)."""
    rows = await conn.fetch(
        "SELECT table_schema FROM information_schema.columns"
        " WHERE table_name = 'audit_log' AND column_name = 'chain' ORDER BY 1"
    )
    return [row["table_schema"] for row in rows]
