"""The tables of a service schema that only ever grow: a service's login role may SELECT and
INSERT on them, never UPDATE, DELETE or TRUNCATE (the roles are made from this list).

Audit appends go through `<schema>.audit_append(...)` (SECURITY INVOKER: INSERT on `audit_log`
is all it needs); `audit_relay_checkpoints` is bookkeeping the audit relay updates."""

from __future__ import annotations

APPEND_ONLY_TABLES: frozenset[str] = frozenset({"events", "audit_log"})
"""Every append-only table of a service schema: the event store and the keyed audit chains."""
