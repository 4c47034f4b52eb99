"""What an operation's OpenAPI entry says besides its success: every problem answer it can give
(`application/problem+json`, one problem-type URI scheme) and the roles the policy table allows.

Entrypoints spread `documented(...)` into their route decorators, so the document is generated
from the same table the handlers enforce and from the domain's refusal kinds."""

from __future__ import annotations

from typing import Any

from shared.auth.policy import Policy
from shared.auth.roles import Role
from shared.http.problems import PROBLEM_BASE, PROBLEM_JSON, RETRY_AFTER_S

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `type` is " + PROBLEM_BASE + "<kind>.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "each failed field and why (never the value sent)",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": ["string", "null"]}, "reason": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

ANSWERS: dict[int, str] = {
    400: "the request cannot be read: a body that is not JSON, a cursor this API did not give",
    401: "no bearer token, or an invalid or expired one",
    403: "the caller's role may not do this (" + PROBLEM_BASE + "forbidden)",
    404: "no such resource, or one outside the caller's office or own submissions: the two are"
    " not told apart (" + PROBLEM_BASE + "not-found)",
    409: "the request does not fit the resource's state, or collides with an earlier one ("
    + PROBLEM_BASE
    + "invalid-state, "
    + PROBLEM_BASE
    + "conflict)",
    413: "the request body is larger than the service accepts",
    422: "the request is invalid: each failed field is named (" + PROBLEM_BASE + "invalid-input)",
    503: "the database is out of reach; try again after `Retry-After` seconds ("
    + PROBLEM_BASE
    + "unavailable)",
}

_PEOPLE = frozenset(role.value for role in Role)


def problem(status: int, description: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description or ANSWERS[status],
        "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
    }
    if status == 503:
        answer["headers"] = {
            "Retry-After": {
                "description": f"seconds to wait (e.g. {RETRY_AFTER_S})",
                "schema": {"type": "string"},
            }
        }
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return answer


def roles_of(policy: Policy, command: type) -> list[str]:
    """The roles a person's token may hold to do `command` (office systems and the service
    itself have no tokens)."""
    return [role for role in policy.roles(command) if role in _PEOPLE]


def documented(
    policy: Policy,
    command: type,
    summary: str,
    *statuses: int,
    body: bool = False,
    extra: dict[int, str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of a route decorator: its description (with the allowed roles), the
    problem answers 401/403/422/503 (+ `statuses`, + 400/413 with a `body`, + `extra` described
    in the route's own words) and `x-roles`."""
    roles = roles_of(policy, command)
    codes = {401, 403, 422, 503, *statuses} | ({400, 413} if body else set())
    responses: dict[int | str, dict[str, Any]] = {code: problem(code) for code in sorted(codes)}
    for code, description in (extra or {}).items():
        responses[code] = problem(code, description)
    return {
        "summary": summary,
        "description": f"{summary}\n\nAllowed roles: {', '.join(roles)}.",
        "responses": responses,
        "openapi_extra": {"x-roles": roles},
    }
