"""A real HTTP server standing for a ЦОН system: it checks every delivery's signature and
answers as a test tells it (a status per path, in turn; then 200)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from services.notification.domain.signing import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify_signature,
)
from shared.infra.procs import free_port


@dataclass
class Received:
    path: str
    delivery_id: str
    body: dict[str, Any]
    signature_ok: bool
    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Receiver:
    secret: str
    port: int = field(default_factory=free_port)
    answers: dict[str, list[int]] = field(default_factory=dict)
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        ok = verify_signature(
            self.secret,
            request.headers.get(TIMESTAMP_HEADER, ""),
            raw,
            request.headers.get(SIGNATURE_HEADER, ""),
        )
        planned = self.answers.get(request.path, [])
        status = planned.pop(0) if planned else 200
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if not ok:
            status = 401
        self.received.append(
            Received(
                request.path,
                request.headers[DELIVERY_HEADER],
                json.loads(raw),
                ok,
                status,
                dict(request.headers),
            )
        )
        return web.Response(status=status)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@asynccontextmanager
async def running(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", receiver.port)
    await site.start()
    try:
        yield receiver
    finally:
        await runner.cleanup()
