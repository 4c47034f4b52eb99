"""Audit records and their canonical hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain.actor import Actor

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    """One administrative action: who did what to which subject, and why."""

    actor: str
    role: str
    action: str
    subject: str
    office: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None

    @classmethod
    def by(
        cls,
        actor: Actor,
        action: str,
        subject: str,
        details: Mapping[str, Any] | None = None,
        correlation_id: str | None = None,
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
        )


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    recorded_at: datetime
    entry: AuditEntry
    prev_hash: str
    hash: str


def chain_hash(seq: int, recorded_at: datetime, entry: AuditEntry, prev_hash: str) -> str:
    """SHA-256 over the previous hash and a canonical JSON form of the record."""
    canonical = json.dumps(
        {
            "seq": seq,
            "recorded_at": recorded_at.isoformat(),
            "actor": entry.actor,
            "role": entry.role,
            "office": entry.office,
            "action": entry.action,
            "subject": entry.subject,
            "details": entry.details,
            "correlation_id": entry.correlation_id,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()
