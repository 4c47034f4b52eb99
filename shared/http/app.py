"""Common FastAPI application set-up: problem details, /healthz, /metrics, body-size limit."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.correlation import correlation_id
from shared.http.problems import error_answer, install_problem_handlers, problem_response
from shared.metrics import HttpMetrics

HealthCheck = Callable[[], Awaitable[bool]]


class BodySizeLimit:
    """Refuse request bodies larger than `limit` bytes with 413 before reading them whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Raised inside the endpoint's body reading: FastAPI passes HTTPException on.
                    raise HTTPException(413, f"the request body is larger than {self.limit} bytes")
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, "Request body too large", f"the limit is {self.limit} bytes")
        await response(scope, receive, send)


class ContainErrors:
    """Answer an error no handler took with a 500 problem, and log its type and place only.

    Starlette's own last resort re-raises the error to the server, which logs its message and
    traceback: a validation error's message quotes the request (an ИИН, a name)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started:
                raise
            await error_answer(Request(scope), exc)(scope, receive, send)


class CountRequests:
    """Count every request and time it, labelled by the route's template (`/v1/cases/{application_id}`,
    never the id itself: bounded label values, no personal data); `unmatched` for a 404 without route."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.seconds.labels(method, route).observe(time.perf_counter() - started)


class BindCorrelation:
    """Give every request its correlation id before any handler runs (the caller's
    `X-Correlation-Id`, else a new one: `shared.http.correlation`), bind it to the request's log
    lines and answer it in `X-Correlation-Id`, so a caller can quote it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = correlation_id(Request(scope))
        header = (b"x-correlation-id", cid.encode())

        async def answered(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=cid):
            await self.app(scope, receive, answered)


def create_app(
    title: str,
    *,
    version: str = "1.0.0",
    metrics: CollectorRegistry,
    health: HealthCheck,
    max_body_bytes: int = 1024 * 1024,
) -> FastAPI:
    app = FastAPI(title=title, version=version)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, limit=max_body_bytes)
    app.add_middleware(ContainErrors)
    app.add_middleware(BindCorrelation)
    app.add_middleware(CountRequests, metrics=HttpMetrics(metrics))

    @app.get(
        "/healthz",
        tags=["operations"],
        responses={
            200: {"description": "the service and its database answer"},
            503: {"description": "not ready"},
        },
    )
    async def healthz() -> Response:
        ok = await health()
        return Response(
            '{"status":"ok"}' if ok else '{"status":"unavailable"}',
            status_code=200 if ok else 503,
            media_type="application/json",
        )

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=PlainTextResponse,
        responses={200: {"description": "Prometheus text exposition", "content": {CONTENT_TYPE_LATEST: {}}}},
    )
    async def metrics_endpoint(_: Request) -> Response:
        # The app's own metrics, then the process's (consumers, relay, timers, process_*).
        body = generate_latest(metrics) + generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app


def serve(app: FastAPI, host: str, port: int) -> None:
    """Run `app` with uvicorn, logging through the process's configured logging (one JSON format,
    `shared.logging`), without uvicorn's own log config or per-request access lines."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
