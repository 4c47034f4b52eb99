"""Audit records and their canonical hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
