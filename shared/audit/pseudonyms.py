"""Keyed pseudonyms of personal identifiers for audit records.

An audit record must say whose data was read without holding the ИИН itself: it stores
HMAC-SHA256(key, ИИН). Someone holding the key can answer "who looked up person X" by
computing X's pseudonym; the log alone reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: str, identifier: str) -> str:
    return hmac.new(key.encode("utf-8"), identifier.encode("utf-8"), hashlib.sha256).hexdigest()
