"""The operations console (default port 8005): an overview for heads of department and compliance
staff — applications by service and status, deadlines per office, latest decisions, the complaint
queue, quality indicators against targets — and a case view with the application's whole history.

Pages are rendered on the server (Jinja2, autoescaped; charts as inline SVG; no script at all)
from the services' read APIs, called with the signed-in person's token (`sources`, `session`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import structlog
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from prometheus_client import CollectorRegistry

from services.console import session
from services.console.overview import build_overview
from services.console.settings import ConsoleSettings
from services.console.sources import ServiceReads, Unavailable
from services.console.timeline import merge
from shared.auth.roles import CROSS_OFFICE_ROLES
from shared.auth.tokens import Principal, local_secret
from shared.catalog.loader import load_catalog
from shared.http.app import create_app as create_base_app
from shared.http.correlation import correlation_id
from shared.quality.targets import TargetBook
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True)
)


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _to_signin() -> RedirectResponse:
    return RedirectResponse("/signin", status_code=303, headers=SECURITY_HEADERS)


@functools.cache
def _targets() -> TargetBook:
    """The catalog's quality targets, loaded once per process."""
    return TargetBook(load_catalog())


def create_app(
    *,
    settings: ConsoleSettings | None = None,
    platform: PlatformSettings | None = None,
    urls: dict[str, str] | None = None,
    token_secret: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The console; `transport` replaces the network under the service reads (tests)."""
    settings = settings or ConsoleSettings()
    platform = platform or PlatformSettings()
    reads: dict[str, ServiceReads] = {}

    async def healthy() -> bool:
        return "reads" in reads

    app = create_base_app("Qyzmet operations console", metrics=CollectorRegistry(), health=healthy)
    app.state.token_secret = token_secret or platform.token_secret or local_secret(platform.data_dir)
    app.state.token_issuer = platform.token_issuer
    targets = _targets()
    css = (HERE / "static" / "console.css").read_text(encoding="utf-8")  # once, not per request

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.request_timeout_s, transport=transport) as client:
            reads["reads"] = ServiceReads(urls or settings.urls(), client)
            yield
            reads.clear()

    app.router.lifespan_context = lifespan

    def who(request: Request, page: str) -> tuple[str, Principal, str] | None:
        found = session.signed_in(request)
        if found is None:
            return None
        token, principal = found
        cid = correlation_id(request)  # binds it to the log lines of this request
        log.info("console page", page=page, role=principal.role.value, office=principal.office)
        return token, principal, cid

    @app.get("/signin", response_class=HTMLResponse, include_in_schema=False)
    async def signin_form() -> HTMLResponse:
        return _page("signin.html")

    @app.post("/signin", response_class=HTMLResponse, include_in_schema=False)
    async def signin(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0]
        try:
            principal = session.check_token(token, app.state.token_secret, app.state.token_issuer)
        except session.SignInRefused as refused:
            log.info("console sign-in refused", status=refused.status)
            return _page("signin.html", status=refused.status, error=refused.reason)
        log.info("console sign-in", role=principal.role.value, office=principal.office)
        response = RedirectResponse("/", status_code=303, headers=SECURITY_HEADERS)
        session.keep(response, token, secure=settings.cookie_secure)
        return response

    @app.post("/signout", include_in_schema=False)
    async def signout() -> Response:
        response = _to_signin()
        session.forget(response)
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def overview(request: Request) -> Response:
        found = who(request, "overview")
        if found is None:
            return _to_signin()
        token, principal, cid = found
        source = reads["reads"]
        today = datetime.now(UTC).date()
        summary, latest, queue, figures = await asyncio.gather(
            source.summary(token, cid, settings.approaching_days),
            source.latest_applications(token, cid),
            source.complaint_queue(token, cid, every_office=principal.role in CROSS_OFFICE_ROLES),
            source.complaint_figures(token, cid, date(today.year, 1, 1).isoformat(), today.isoformat()),
        )
        view = build_overview(summary, latest, queue, figures, targets, today)
        return _page(
            "overview.html", principal=principal, view=view, approaching_days=settings.approaching_days,
            year=today.year,
        )  # fmt: skip

    @app.get("/cases", include_in_schema=False)
    async def find_case(request: Request, application_id: str = "") -> Response:
        if session.signed_in(request) is None:
            return _to_signin()
        try:
            wanted = uuid.UUID(application_id.strip())
        except ValueError:
            message = "application_id: give an application id (a UUID, as on the talon)"
            return _page("notice.html", status=400, title="Open a case", message=message)
        return RedirectResponse(f"/cases/{wanted}", status_code=303, headers=SECURITY_HEADERS)

    @app.get("/cases/{application_id}", response_class=HTMLResponse, include_in_schema=False)
    async def case(request: Request, application_id: uuid.UUID) -> Response:
        found = who(request, "case")
        if found is None:
            return _to_signin()
        token, principal, cid = found
        source, app_id = reads["reads"], str(application_id)
        application, history, complaints, notices = await asyncio.gather(
            source.application(token, cid, app_id),
            source.case_history(token, cid, app_id),
            source.complaints_about(token, cid, app_id),
            source.notifications(token, cid, app_id),
        )
        missing = {
            part: answer.reason
            for part, answer in (
                ("application", application), ("case events", history),
                ("complaints", complaints), ("notifications", notices),
            )
            if isinstance(answer, Unavailable)
        }  # fmt: skip

        def ok(answer: Any, key: str | None = None) -> Any:
            if isinstance(answer, Unavailable):
                return None
            return answer[key] if key else answer

        timeline = merge(ok(application), ok(history), ok(complaints, "items"), ok(notices, "notifications"))
        status = 404 if isinstance(application, Unavailable) and not timeline else 200
        return _page(
            "case.html", status=status, principal=principal, application_id=app_id,
            application=ok(application), timeline=timeline, missing=missing,
        )  # fmt: skip

    @app.get("/static/console.css", include_in_schema=False)
    async def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})

    return app


def main() -> None:
    """`qyzmet serve console-api`: the console on $CONSOLE_API_PORT (default 8005)."""
    from shared.http.app import serve
    from shared.logging import configure_logging

    platform = PlatformSettings()
    configure_logging(platform.log_level)
    settings = ConsoleSettings()
    serve(create_app(settings=settings, platform=platform), settings.api_host, settings.api_port)
