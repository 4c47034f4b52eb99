"""POSTing a signed delivery to a ЦОН subscriber: the HTTP side of a webhook.

Only the answer's status is read (the response is streamed and closed without reading its body:
a subscriber cannot keep a worker busy by answering slowly or at length); the caller bounds the
whole exchange with an overall deadline (`asyncio.timeout`), since httpx's own timeouts apply to
each read, which a receiver trickling one byte a second never trips.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from services.notification.domain.delivery import (
    Delivered,
    PermanentFailure,
    SendOutcome,
    TemporaryFailure,
)


@dataclass(frozen=True)
class WebhookAnswer:
    outcome: SendOutcome
    status: int | None = None


class WebhookSender:
    def __init__(self, timeout_s: float, http: httpx.AsyncClient | None = None) -> None:
        self.timeout_s = timeout_s
        self.http = http

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookAnswer:
        client = self.http or httpx.AsyncClient()
        try:
            async with client.stream(
                "POST", url, content=body, headers=headers, timeout=self.timeout_s
            ) as answer:
                status = answer.status_code  # the body is never read
            return WebhookAnswer(by_status(status), status)
        except httpx.TimeoutException:
            return WebhookAnswer(TemporaryFailure("http: timed out"))
        except (httpx.TransportError, OSError) as exc:
            return WebhookAnswer(TemporaryFailure(f"http: {type(exc).__name__} (connection failed)"))
        except httpx.HTTPError as exc:
            return WebhookAnswer(PermanentFailure(f"http: {type(exc).__name__}"))
        finally:
            if self.http is None:
                await client.aclose()


def by_status(status: int) -> SendOutcome:
    if 200 <= status < 300:
        return Delivered(f"http {status}")
    if status >= 500 or status in (408, 429):
        return TemporaryFailure(f"http {status}")
    return PermanentFailure(f"http {status}: refused by the subscriber, not retried")
