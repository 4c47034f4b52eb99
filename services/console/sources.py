"""The services' read APIs, called with the signed-in person's own token: each service decides what
that person may see (role, office scope) and audits its personal-data reads, exactly as for any
other client. The console holds no database credentials and adds no permission of its own.

A read the service refuses (403, 404) or cannot answer (5xx, timeout) becomes `Unavailable` with
a short reason: the page shows the rest and says what is missing, instead of failing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Unavailable:
    service: str
    reason: str


Answer = Any | Unavailable
"""Decoded JSON, or why there is none."""


class ServiceReads:
    def __init__(self, urls: dict[str, str], client: httpx.AsyncClient) -> None:
        self.urls = urls
        self.client = client

    async def get(
        self, service: str, path: str, token: str, correlation_id: str, params: dict[str, Any] | None = None
    ) -> Answer:
        headers = {"Authorization": f"Bearer {token}", "X-Correlation-Id": correlation_id}
        try:
            answer = await self.client.get(self.urls[service] + path, params=params, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("console: service unreachable", service=service, error=type(exc).__name__)
            return Unavailable(service, f"the {service} service does not answer")
        if answer.status_code == 200:
            return answer.json()
        reason = {
            401: "your sign-in is not accepted",
            403: "not visible to your role or office",
            404: "not found (or not visible to your office)",
        }.get(answer.status_code, f"the {service} service answered {answer.status_code}")
        log.info("console: read refused", service=service, status=answer.status_code)
        return Unavailable(service, reason)

    # -- the overview

    async def summary(self, token: str, cid: str, approaching_days: int) -> Answer:
        params = {"approaching_days": approaching_days, "recent": 10}
        return await self.get("intake", "/v1/applications/summary", token, cid, params)

    async def latest_applications(self, token: str, cid: str) -> Answer:
        return await self.get("intake", "/v1/applications", token, cid, {"limit": 10})

    async def complaint_queue(self, token: str, cid: str, every_office: bool) -> Answer:
        params = {"every_office": "true"} if every_office else None
        return await self.get("complaints", "/v1/complaints/queue", token, cid, params)

    async def complaint_figures(self, token: str, cid: str, start: str, end: str) -> Answer:
        return await self.get("complaints", "/v1/complaints/figures", token, cid, {"from": start, "to": end})

    # -- one application

    async def application(self, token: str, cid: str, application_id: str) -> Answer:
        return await self.get("intake", f"/v1/applications/{application_id}", token, cid)

    async def case_history(self, token: str, cid: str, application_id: str) -> Answer:
        return await self.get("decision", f"/v1/cases/{application_id}/history", token, cid)

    async def complaints_about(self, token: str, cid: str, application_id: str) -> Answer:
        return await self.get("complaints", "/v1/complaints", token, cid, {"application": application_id})

    async def notifications(self, token: str, cid: str, application_id: str) -> Answer:
        params = {"application": application_id}
        return await self.get("notification", "/v1/notifications", token, cid, params)
