"""The request's correlation id: the caller's `X-Correlation-Id` (printable, at most 128
characters), else a new one; the same for the whole request (events, audit records, logs).

A command on something that already belongs to a conversation (a decision case opened from an
intake submission) continues that conversation when the caller names none:
`given_correlation_id` tells whether the caller did."""

from __future__ import annotations

import uuid

from fastapi import Request

from shared.logging import bind_correlation


def _given(request: Request) -> str | None:
    value = request.headers.get("x-correlation-id", "")
    return value if 0 < len(value) <= 128 and value.isprintable() else None


def given_correlation_id(request: Request) -> str | None:
    """The caller's correlation id, or None if it named none (logs still get one of their own)."""
    correlation_id(request)
    return _given(request)


def known_correlation_id(request: Request) -> str | None:
    """The id `correlation_id` gave the request, else the caller's; None if neither (no new id
    is made and nothing is bound: for code that runs around the request, like its audit)."""
    known: str | None = getattr(request.state, "correlation_id", None)
    return known if known is not None else _given(request)


def correlation_id(request: Request) -> str:
    known: str | None = getattr(request.state, "correlation_id", None)
    if known is not None:
        return known
    correlation = _given(request) or str(uuid.uuid4())
    request.state.correlation_id = correlation
    bind_correlation(correlation)
    return correlation
