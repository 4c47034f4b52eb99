"""Append-only hash-chained audit log."""

from shared.audit.log import AuditLog, VerificationResult
from shared.audit.records import AuditEntry, AuditRecord

__all__ = ["AuditEntry", "AuditLog", "AuditRecord", "VerificationResult"]
