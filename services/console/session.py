"""Signing in to the console: the same bearer tokens as the APIs (`qyzmet token`, or the
installation's identity provider), pasted once and kept in an HttpOnly, SameSite=Strict cookie
that scripts cannot read. Only heads of department, compliance auditors and administrators may
use the console; every read still goes to the services with the token, so each service applies
its own role and office scope to it."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
from fastapi import Request, Response

from shared.auth.roles import Role
from shared.auth.tokens import ALGORITHM, InvalidToken, Principal, verify_token

COOKIE = "qyzmet_console"
CONSOLE_ROLES = frozenset({Role.HEAD, Role.AUDITOR, Role.ADMIN})


class SignInRefused(Exception):
    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def check_token(token: str, secret: str, issuer: str) -> Principal:
    """The token's holder, if the token is valid and the role may use the console."""
    token = token.strip()
    if not token or len(token) > 4096:
        raise SignInRefused("token: paste a bearer token (`qyzmet token --role head --office ...`)", 400)
    try:
        principal = verify_token(secret, token, issuer=issuer)
    except InvalidToken as exc:
        raise SignInRefused(f"token: not accepted ({exc})", 401) from exc
    if principal.role not in CONSOLE_ROLES:
        allowed = ", ".join(sorted(r.value for r in CONSOLE_ROLES))
        raise SignInRefused(f"role {principal.role.value!r} may not use the console; allowed: {allowed}", 403)
    return principal


def _expires(token: str) -> int:
    claims = jwt.decode(token, options={"verify_signature": False}, algorithms=[ALGORITHM])
    return max(0, int(claims["exp"] - datetime.now(UTC).timestamp()))


def keep(response: Response, token: str, *, secure: bool) -> None:
    token = token.strip()
    response.set_cookie(
        COOKIE, token, max_age=_expires(token), httponly=True, samesite="strict", secure=secure, path="/"
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def signed_in(request: Request) -> tuple[str, Principal] | None:
    """The cookie's token and holder, or None (no cookie, expired, another secret, a role that may
    not use the console)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return token, check_token(token, request.app.state.token_secret, request.app.state.token_issuer)
    except SignInRefused:
        return None
