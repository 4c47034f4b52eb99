"""The officers of each office as the services know them: a bearer token per (role, office), and the
HTTP calls they make. A call never raises: a transport error or an answer of any status is counted
and handed back (None when no answer came), so a 4xx or a restarting service never ends a run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from services.simulator.tally import Tally
from shared.auth.roles import Role
from shared.auth.tokens import issue_token

SUBJECT_SUFFIX = ".sim"
"""Subjects look like `head.sim@karaganda-dept-01`: the simulator's officers are recognisable."""


@dataclass(frozen=True)
class Urls:
    intake: str
    decision: str
    complaints: str


def subject_of(role: Role, office: str) -> str:
    return f"{role.value}{SUBJECT_SUFFIX}@{office}"


class Desks:
    def __init__(
        self, urls: Urls, secret: str, issuer: str, tally: Tally, *, timeout_s: float = 15.0
    ) -> None:
        self.urls = urls
        self.secret = secret
        self.issuer = issuer
        self.tally = tally
        self._tokens: dict[tuple[Role, str], str] = {}
        self.learned: dict[str, set[str]] = {}
        """service id -> what its drafts turned out to need (`outcome`, `housing_costs`)."""
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=3.0, pool=30.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        )

    async def close(self) -> None:
        await self.client.aclose()

    def headers(self, role: Role, office: str) -> dict[str, str]:
        key = (role, office)
        token = self._tokens.get(key)
        if token is None:
            token = issue_token(
                self.secret,
                subject=subject_of(role, office),
                role=role,
                office=office,
                issuer=self.issuer,
                ttl=timedelta(days=7),
            )
            self._tokens[key] = token
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, step: str, method: str, url: str, role: Role, office: str, body: Any = None, *, retries: int = 2
    ) -> httpx.Response | None:
        """One officer's request; a 503 or no answer is retried a little (same body, so an
        idempotency key makes it safe), anything else is counted and returned."""
        delay = 0.5
        last: httpx.Response | None = None
        for attempt in range(retries + 1):
            try:
                answer = await self.client.request(method, url, json=body, headers=self.headers(role, office))
            except httpx.HTTPError:
                self.tally.answered(step, None)
                last = None
            else:
                self.tally.answered(step, answer.status_code)
                if answer.status_code != 503:
                    return answer
                last = answer
            if attempt < retries:
                await asyncio.sleep(delay)
                delay *= 2
        return last


def problem_detail(answer: httpx.Response) -> str:
    """The `detail` of a problem document (empty when the answer is not one)."""
    try:
        body = answer.json()
    except ValueError:
        return ""
    return str(body.get("detail", "")) if isinstance(body, dict) else ""
