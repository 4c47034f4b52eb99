"""Audit records of who was let in, who was turned away, and which commands failed, for every
service API.

An ASGI middleware watches each answer: a 401 or 403 becomes an `auth.denied` record with
outcome `denied` (the actor from a valid token, else `anonymous`); a command (POST, PUT, PATCH,
DELETE) refused (400, 409, 422) or failed (5xx) a `request.failed` record with outcome `failed`
(its effects were rolled back, so the service's own record of it never committed); the first
request a process sees with a token becomes an `auth.sign_in` record. Cheap by construction: one
insert per record, written after the answer went out, and at most `max_writers` at a time;
refusals beyond that (an unauthenticated flood) are counted and the count rides on the next one
written (`details.coalesced`), so a flood costs a bounded number of writes and no count is lost.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import asyncpg
import jwt
import structlog
from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.audit import AuditEntry, AuditLog
from shared.audit.records import Outcome
from shared.auth.tokens import InvalidToken, Principal, verify_token
from shared.http.correlation import known_correlation_id

log = structlog.get_logger(__name__)

AuditTarget = Callable[[], "tuple[asyncpg.Pool, str] | None"]
"""The pool and schema the records go to (None while the service is starting)."""

_SEEN_TOKENS = 10_000
_COMMANDS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_REFUSED = frozenset({400, 409, 422})
"""A command's answers that say it was not carried out (other than a denial)."""


class AccessAudit:
    def __init__(self, app: ASGIApp, target: AuditTarget, max_writers: int = 2) -> None:
        self.app = app
        self.target = target
        self.max_writers = max_writers
        self.writing = 0
        self.coalesced = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        """Tokens whose sign-in this process recorded (the most recent `_SEEN_TOKENS`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            if status in (401, 403):
                await self._refused(scope, status, "auth.denied", "denied")
            elif scope.get("method") in _COMMANDS and (status in _REFUSED or status >= 500):
                await self._refused(scope, status, "request.failed", "failed")
            elif 200 <= status < 400:
                await self._signed_in(scope)

    async def _refused(self, scope: Scope, status: int, action: str, outcome: Outcome) -> None:
        if self.writing >= self.max_writers:
            self.coalesced += 1
            return
        coalesced, self.coalesced = self.coalesced, 0
        principal, _ = self._principal(scope)
        details: dict[str, Any] = {"status": status, "method": scope.get("method")}
        if coalesced:
            details["coalesced"] = coalesced
        entry = _entry(principal, action, _subject(scope), details, scope, outcome)
        if not await self._write(entry):
            self.coalesced += coalesced + 1

    async def _signed_in(self, scope: Scope) -> None:
        token = _bearer(scope)
        if token is None or token in self._seen or self.writing >= self.max_writers:
            return  # a token seen before costs one lookup: no second verification per request
        principal, issued = self._principal(scope)
        if principal is None:
            return
        self._seen[token] = None
        if len(self._seen) > _SEEN_TOKENS:
            self._seen.popitem(last=False)
        details = {"role": principal.role.value, "first_request": _subject(scope)}
        if not await self._write(_entry(principal, "auth.sign_in", f"token/{issued}", details, scope, "ok")):
            self._seen.pop(token, None)

    def _principal(self, scope: Scope) -> tuple[Principal | None, object]:
        token = _bearer(scope)
        if token is None:
            return None, None
        state = scope["app"].state
        try:
            principal = verify_token(state.token_secret, token, issuer=state.token_issuer)
        except (InvalidToken, AttributeError):
            return None, None
        issued = jwt.decode(token, options={"verify_signature": False}).get("iat")
        return principal, issued

    async def _write(self, entry: AuditEntry) -> bool:
        found = self.target()
        if found is None:
            return False
        pool, schema = found
        self.writing += 1
        try:
            async with pool.acquire() as conn:
                await AuditLog(schema).append(conn, entry)
            return True
        except Exception as exc:  # an audit write never turns an answer into an error
            log.warning("access audit record not written", action=entry.action, error=type(exc).__name__)
            return False
        finally:
            self.writing -= 1


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer":
                return None
            return token.strip() or None
    return None


def _subject(scope: Scope) -> str:
    """The endpoint (its route template, so no identifier of a person from the path)."""
    route = scope.get("route")
    path = getattr(route, "path", None) or "(no route)"
    return f"{scope.get('method', '')} {path}"


def _entry(
    principal: Principal | None,
    action: str,
    subject: str,
    details: dict[str, Any],
    scope: Scope,
    outcome: Outcome,
) -> AuditEntry:
    return AuditEntry(
        actor=principal.subject if principal else "anonymous",
        role=principal.role.value if principal else "-",
        office=principal.office if principal else None,
        action=action,
        subject=subject,
        details=details,
        correlation_id=known_correlation_id(Request(scope)),
        outcome=outcome,
    )


class _HasPoolAndSchema(Protocol):
    pool: asyncpg.Pool
    schema: str


def audit_access(app: FastAPI, running: Callable[[], _HasPoolAndSchema]) -> None:
    """Audit the app's denials and sign-ins in the schema of `running()` (the service, or what
    holds its pool and schema; while it raises, e.g. 503 during start-up, nothing is written)."""

    def target() -> tuple[asyncpg.Pool, str] | None:
        try:
            found = running()
        except Exception:
            return None
        return found.pool, found.schema

    app.add_middleware(AccessAudit, target=target)
