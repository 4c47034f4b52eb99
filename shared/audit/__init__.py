"""Append-only audit log: keyed hash chains, one per office, anchored outside the database."""

from shared.audit.keys import AuditKey
from shared.audit.log import AuditLog
from shared.audit.records import AuditEntry, AuditRecord
from shared.audit.verify import VerificationResult, verify_schema

__all__ = ["AuditEntry", "AuditKey", "AuditLog", "AuditRecord", "VerificationResult", "verify_schema"]
