"""Bearer tokens (JWT, HS256) carrying the holder's role and office.

Locally the signing secret is generated once and kept in `<data dir>/token_secret`; in
production set QYZMET_TOKEN_SECRET.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from shared.auth.roles import CROSS_OFFICE_ROLES, Role
from shared.secret_files import local_secret_file

ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired or signed with another secret."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    office: str

    def may_see_office(self, office: str) -> bool:
        return self.role in CROSS_OFFICE_ROLES or office == self.office


SECRET_FILE = "token_secret"  # noqa: S105 -- a file name, not a secret


def local_secret(data_dir: Path) -> str:
    """The development secret in `data_dir`, created on first use (readable by the owner only)."""
    return local_secret_file(data_dir, SECRET_FILE)


def issue_token(
    secret: str,
    *,
    subject: str,
    role: Role,
    office: str,
    issuer: str = "qyzmet",
    ttl: timedelta = timedelta(hours=12),
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": role.value,
        "office": office,
        "iss": issuer,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


_VERIFIED: dict[tuple[str, str, str], tuple[Principal, int]] = {}
"""(secret, issuer, token) -> the principal of a token this process verified, and its expiry."""
_VERIFIED_MAX = 4096


def verify_token(secret: str, token: str, *, issuer: str = "qyzmet") -> Principal:
    """The token's principal, if the token is valid now.

    A token verified before under the same secret and issuer is answered from memory until it
    expires (a request checked its signature and claims with PyJWT: ~35 us, issue 14): what was
    checked cannot change but the expiry, which is checked again on every call."""
    key = (secret, issuer, token)
    verified = _VERIFIED.get(key)
    if verified is not None:
        if time.time() < verified[1]:
            return verified[0]
        _VERIFIED.pop(key, None)
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=issuer, options={"require": ["sub", "exp", "iss"]}
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    try:
        principal = Principal(
            subject=str(claims["sub"]), role=Role(claims["role"]), office=str(claims["office"])
        )
    except (KeyError, ValueError) as exc:
        raise InvalidToken(f"token lacks a valid role or office: {exc}") from exc
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (principal, int(claims["exp"]))
    return principal
