"""Notification HTTP API (default port 8003, `NOTIFICATION_API_PORT`): an application's
notifications with their state history, the result handed over at the desk, the post's
manifest and the pickup notices, and the ЦОН webhook subscriptions (`webhook_api`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Path, Query, Request
from prometheus_client import CollectorRegistry

from services.notification.domain import commands as c
from services.notification.domain.policy import POLICY
from services.notification.entrypoints.http_models import (
    ApplicationNotifications,
    CollectedAnswer,
    ManifestLine,
    NotificationView,
)
from services.notification.entrypoints.query import only_query
from services.notification.entrypoints.webhook_api import add_webhook_routes
from services.notification.service import NotificationService
from shared.auth.tokens import Principal, local_secret
from shared.http.access_audit import audit_access
from shared.http.app import create_app as create_base_app
from shared.http.auth import may, meta_of
from shared.http.openapi import documented
from shared.http.problems import unavailable
from shared.settings import PlatformSettings

ApplicationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
DEFAULT_ISSUER = "qyzmet"
READER = Depends(may(POLICY, c.ReadNotifications))
DESK = Depends(may(POLICY, c.CollectResult))
LETTERS = Depends(may(POLICY, c.ReadLetters))


def create_app(
    service: NotificationService | None = None,
    *,
    token_secret: str | None = None,
    token_issuer: str = DEFAULT_ISSUER,
    metrics: CollectorRegistry | None = None,
    open_service: Callable[[], AbstractAsyncContextManager[NotificationService]] | None = None,
) -> FastAPI:
    holder: dict[str, NotificationService] = {}
    if service is not None:
        holder["service"] = service

    def svc() -> NotificationService:
        found = holder.get("service")
        if found is None:
            raise unavailable("the notification service is starting")
        return found

    async def health() -> bool:
        return "service" in holder and await holder["service"].healthy()

    app = create_base_app("Qyzmet notification", metrics=metrics or CollectorRegistry(), health=health)
    platform = PlatformSettings()
    app.state.token_secret = token_secret or platform.token_secret or local_secret(platform.data_dir)
    app.state.token_issuer = token_issuer
    audit_access(app, svc)
    if service is None:
        opener = open_service or (lambda: own_service(platform))

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with opener() as opened:
                holder["service"] = opened
                yield

        app.router.lifespan_context = lifespan

    @app.get(
        "/v1/notifications",
        tags=["notifications"],
        dependencies=[Depends(only_query("application"))],
        response_model=ApplicationNotifications,
        **documented(POLICY, c.ReadNotifications, "An application's notifications with their state history"),
    )
    async def notifications(
        application: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")],
        request: Request,
        principal: Principal = READER,
    ) -> ApplicationNotifications:
        """Every notification of the application (kind, channel, language, delivery state and its
        history). Offices see their own applications, a ЦОН operator only those it received;
        auditors and administrators every office."""
        visible = await svc().execute(c.ReadNotifications(application), meta_of(principal, request))
        return ApplicationNotifications(
            application_id=application, notifications=[NotificationView(**r) for r in visible]
        )

    @app.post(
        "/v1/results/{application_id}/collected",
        tags=["results"],
        dependencies=[Depends(only_query())],
        response_model=CollectedAnswer,
        **documented(POLICY, c.CollectResult, "The applicant collected the result at the office", 404, 409),
    )
    async def collected(
        application_id: ApplicationId, request: Request, principal: Principal = DESK
    ) -> CollectedAnswer:
        """Records `ResultCollected` (stops the keeping period; 409 once it has passed or the
        result was handed over already)."""
        event = await svc().execute(c.CollectResult(application_id), meta_of(principal, request))
        return CollectedAnswer(**event.model_dump())

    @app.get(
        "/v1/results/{application_id}/letters",
        tags=["results"],
        dependencies=[Depends(only_query())],
        response_model=list[ManifestLine],
        **documented(POLICY, c.ReadLetters, "The pickup notices and postal letters of an application", 404),
    )
    async def letters(
        application_id: ApplicationId, request: Request, principal: Principal = LETTERS
    ) -> list[ManifestLine]:
        """What the desk hands over when the applicant comes, and what went to the post (with
        the address: personal data, so every read is audited). The application's office only."""
        rows = await svc().execute(c.ReadLetters(application_id), meta_of(principal, request))
        return [ManifestLine(**row) for row in rows]

    @app.get(
        "/v1/post-manifest",
        tags=["results"],
        dependencies=[Depends(only_query("office", "since", "until"))],
        response_model=list[ManifestLine],
        **documented(POLICY, c.ReadManifest, "An office's post manifest: the letters handed to the post"),
    )
    async def manifest(
        office: Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")],
        since: Annotated[datetime, Query(description="letters recorded at or after this time")],
        until: Annotated[datetime, Query(description="and before this time")],
        request: Request,
        principal: Principal = LETTERS,
    ) -> list[ManifestLine]:
        """Every postal letter of the office in [since, until), with its address (personal data:
        every read is audited). The office's own staff; auditors every office."""
        rows = await svc().execute(c.ReadManifest(office, since, until), meta_of(principal, request))
        return [ManifestLine(**row) for row in rows]

    add_webhook_routes(app, svc)
    return app


@asynccontextmanager
async def own_service(platform: PlatformSettings) -> AsyncIterator[NotificationService]:
    from services.notification.bootstrap import MIGRATIONS, SERVICE, build_service
    from services.notification.settings import NotificationSettings
    from shared.runtime.context import service_context

    settings = NotificationSettings()
    async with service_context(SERVICE, settings.pg_schema, MIGRATIONS, platform) as ctx:
        yield build_service(ctx.pool, ctx.schema, settings)


def main() -> None:
    from services.notification.settings import NotificationSettings
    from shared.http.app import serve
    from shared.logging import configure_logging

    platform = PlatformSettings()
    configure_logging(platform.log_level)
    settings = NotificationSettings()
    serve(create_app(token_issuer=platform.token_issuer), settings.api_host, settings.api_port)


if __name__ == "__main__":
    main()
