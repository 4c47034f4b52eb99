"""Audit records and their canonical, keyed MAC."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from shared.audit.keys import AuditKey
from shared.domain.actor import Actor

GENESIS_HASH = "0" * 64
NO_CHAIN = "-"
"""The chain of actions that belong to no office (the system's own, unauthenticated callers)."""
LEGACY_ALG = "sha256"
"""Records made before the chains were keyed: plain SHA-256 over the same canonical form."""

Outcome = Literal["ok", "denied", "failed"]


@dataclass(frozen=True)
class AuditEntry:
    """One administrative action: who did what to which subject, with what outcome, and why."""

    actor: str
    role: str
    action: str
    subject: str
    office: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    outcome: Outcome = "ok"

    @property
    def chain(self) -> str:
        """The chain the record joins: one per office, so offices never wait on each other."""
        return self.office or NO_CHAIN

    @classmethod
    def by(
        cls,
        actor: Actor,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
        outcome: Outcome = "ok",
    ) -> AuditEntry:
        """The record of `actor` doing `action` to `subject` (who, role and office from the actor)."""
        return cls(
            actor=actor.subject,
            role=actor.role,
            office=actor.office,
            action=action,
            subject=subject,
            details=dict(details or {}),
            correlation_id=correlation_id,
            outcome=outcome,
        )


@dataclass(frozen=True)
class AuditRecord:
    chain: str
    seq: int
    recorded_at: datetime
    entry: AuditEntry
    prev_hash: str
    hash: str
    alg: str

    def as_json(self) -> dict[str, Any]:
        """The record as published on `audit.v1` and exported."""
        return {
            "chain": self.chain,
            "seq": self.seq,
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.entry.actor,
            "role": self.entry.role,
            "office": self.entry.office,
            "action": self.entry.action,
            "subject": self.entry.subject,
            "outcome": self.entry.outcome,
            "correlation_id": self.entry.correlation_id,
            "details": self.entry.details,
            "alg": self.alg,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def canonical(
    chain: str, seq: int, recorded_at: datetime, entry: AuditEntry, prev_hash: str, *, legacy: bool = False
) -> bytes:
    """The bytes a record's MAC covers: the previous record's MAC and every field of this one
    (the legacy form lacks the chain and the outcome)."""
    body: dict[str, Any] = {
        "seq": seq,
        "recorded_at": recorded_at.isoformat(),
        "actor": entry.actor,
        "role": entry.role,
        "office": entry.office,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details,
        "correlation_id": entry.correlation_id,
    }
    if not legacy:
        body["chain"] = chain
        body["outcome"] = entry.outcome
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return (prev_hash + text).encode("utf-8")


def chain_mac(
    key: AuditKey, chain: str, seq: int, recorded_at: datetime, entry: AuditEntry, prev_hash: str
) -> str:
    """HMAC-SHA256 of the record under the audit key: without the key nobody can rewrite a chain."""
    return key.mac(canonical(chain, seq, recorded_at, entry, prev_hash))


def legacy_hash(seq: int, recorded_at: datetime, entry: AuditEntry, prev_hash: str) -> str:
    """The unkeyed SHA-256 of records made before migration 0004."""
    return hashlib.sha256(canonical(NO_CHAIN, seq, recorded_at, entry, prev_hash, legacy=True)).hexdigest()
