"""The tables of a service schema that only ever grow, and who may write them: a service's
login role may SELECT and INSERT on `events`, SELECT only on `audit_log` (its records go in
through `<schema>.audit_append(...)`, SECURITY DEFINER, owned by the owner: the next record of
a chain and nothing else), and nothing on the owner's bookkeeping of the chains. Never UPDATE,
DELETE or TRUNCATE on any of them (the roles' grants are made from these lists).
`audit_relay_checkpoints` and `audit_relay_lock` are bookkeeping the audit relay updates."""

from __future__ import annotations

APPEND_ONLY_TABLES: frozenset[str] = frozenset({"events", "audit_log"})
"""Every append-only table of a service schema: the event store and the keyed audit chains."""

WRITTEN_BY_FUNCTION_TABLES: frozenset[str] = frozenset({"audit_log"})
"""Append-only tables the login role only reads: written by the owner's SECURITY DEFINER function."""

OWNER_ONLY_TABLES: frozenset[str] = frozenset({"audit_chains"})
"""Tables the login role gets nothing on (the per-chain rows `audit_append` locks)."""
