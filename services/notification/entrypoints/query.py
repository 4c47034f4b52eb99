"""Query strings are checked like bodies: a parameter the operation does not define is refused
(422 naming it), never silently ignored - a misspelt filter must not read as "no filter"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from shared.http.problems import Problem


def only_query(*names: str) -> Callable[[Request], Awaitable[None]]:
    allowed = frozenset(names)

    async def check(request: Request) -> None:
        unknown = sorted({key for key in request.query_params if key not in allowed})
        if unknown:
            raise Problem(
                422,
                "Request is invalid",
                "the query names parameters this operation does not have",
                errors=[
                    {"field": f"query.{name[:40]}", "reason": "not a parameter of this operation"}
                    for name in unknown[:10]
                ],
            )

    return check
