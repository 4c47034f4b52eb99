"""The request's correlation id: the caller's `X-Correlation-Id` (printable, at most 128
characters), else a new one; the same for the whole request (events, audit records, logs)."""

from __future__ import annotations

import uuid

from fastapi import Request

from shared.logging import bind_correlation


def correlation_id(request: Request) -> str:
    known: str | None = getattr(request.state, "correlation_id", None)
    if known is not None:
        return known
    value = request.headers.get("x-correlation-id", "")
    correlation = value if 0 < len(value) <= 128 and value.isprintable() else str(uuid.uuid4())
    request.state.correlation_id = correlation
    bind_correlation(correlation)
    return correlation
