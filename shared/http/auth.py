"""Bearer-token authentication and role checks for FastAPI endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.policy import Policy
from shared.auth.roles import Role
from shared.auth.tokens import InvalidToken, Principal, verify_token
from shared.domain.actor import Actor
from shared.http.correlation import correlation_id
from shared.http.problems import Problem
from shared.service_layer import Meta

_bearer = HTTPBearer(auto_error=False)


def _secret(request: Request) -> str:
    secret: str = request.app.state.token_secret
    return secret


async def current_principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(
            401, "Unauthorized", "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        return verify_token(_secret(request), credentials.credentials, issuer=request.app.state.token_issuer)
    except InvalidToken as exc:
        raise Problem(
            401, "Unauthorized", f"invalid token: {exc}", headers={"WWW-Authenticate": "Bearer"}
        ) from exc


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    allowed = frozenset(roles)

    async def check(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in allowed:
            raise Problem(
                403,
                "Forbidden",
                f"role {principal.role.value!r} may not do this; allowed: {sorted(r.value for r in allowed)}",
            )
        return principal

    return check


def may(policy: Policy, command: type) -> Callable[..., Awaitable[Principal]]:
    """The dependency of an endpoint that issues `command`: the roles the policy table allows."""
    people = {role.value for role in Role}  # office systems and the system itself have no tokens
    return require_roles(*(Role(r) for r in policy.roles(command) if r in people))


def actor_of(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, role=principal.role.value, office=principal.office)


def meta_of(principal: Principal, request: Request) -> Meta:
    """Who issues the request's command, and the request's correlation id."""
    return Meta(actor_of(principal), correlation_id(request))


def require_office_scope(principal: Principal, office: str) -> None:
    if not principal.may_see_office(office):
        raise Problem(403, "Forbidden", f"office {principal.office!r} may not act on office {office!r}")
