"""Signed webhook deliveries: HMAC-SHA256 over `timestamp + "." + body`.

Every POST to a ЦОН subscriber carries these headers:

- `X-Qyzmet-Timestamp`: Unix seconds when the request was signed;
- `X-Qyzmet-Signature`: `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the subscription's secret>`;
- `X-Qyzmet-Delivery`: the delivery id (the same on every retry of one delivery: dedupe on it);
- `X-Qyzmet-Event-Id`, `X-Qyzmet-Event-Type`: the event's CloudEvents id and type;
- `X-Qyzmet-Redelivery: true` on a redelivery asked for by an administrator (a new delivery id).

A receiver recomputes the HMAC over the raw body, compares in constant time, and rejects a
timestamp older (or newer) than its tolerance, so a captured request cannot be replayed later.
`verify_signature` does exactly that and can be copied into a receiver as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Qyzmet-Timestamp"
SIGNATURE_HEADER = "X-Qyzmet-Signature"
DELIVERY_HEADER = "X-Qyzmet-Delivery"
EVENT_ID_HEADER = "X-Qyzmet-Event-Id"
EVENT_TYPE_HEADER = "X-Qyzmet-Event-Type"
REDELIVERY_HEADER = "X-Qyzmet-Redelivery"
"""`true` on a delivery an administrator asked for again (it has a delivery id of its own)."""
SCHEME = "sha256="
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    tolerance: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """True if `signature` signs `timestamp.body` under `secret` and the timestamp is within
    `tolerance` seconds of `now` (default: the clock)."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    stamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(stamp), SIGNATURE_HEADER: sign(secret, stamp, body)}
