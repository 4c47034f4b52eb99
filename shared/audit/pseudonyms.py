"""Keyed pseudonyms of personal identifiers for audit records.

An audit record must say whose data was read without holding the ИИН itself: it stores
HMAC-SHA256(key, ИИН). Someone holding the key can answer "who looked up person X" by
computing X's pseudonym (`qyzmet audit export --iin`); the log alone reveals nothing.

The key of ИИН pseudonyms is derived from the audit key for that one purpose
(HMAC(audit key, "iin-pseudonym")), never the token secret: answering "who read X" needs no
secret that can mint tokens, and rotating the token secret leaves the pseudonyms as they were.
After an audit key rotation the records made under an older key carry that key's pseudonyms:
`iin_pseudonyms` gives the pseudonym under each key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from shared.audit.keys import AuditKey

IIN_PURPOSE = b"iin-pseudonym"


def pseudonym(key: str, identifier: str) -> str:
    return hmac.new(key.encode("utf-8"), identifier.encode("utf-8"), hashlib.sha256).hexdigest()


def iin_pseudonym_key(audit_key: AuditKey) -> str:
    """The key of ИИН pseudonyms under `audit_key` (a separate, derived key)."""
    return audit_key.mac(IIN_PURPOSE)


def iin_pseudonym(audit_key: AuditKey, iin: str) -> str:
    return pseudonym(iin_pseudonym_key(audit_key), iin)


def iin_pseudonyms(audit_keys: Iterable[AuditKey], iin: str) -> frozenset[str]:
    """The ИИН's pseudonym under each of `audit_keys` (the current key and the previous ones)."""
    return frozenset(iin_pseudonym(key, iin) for key in audit_keys)
