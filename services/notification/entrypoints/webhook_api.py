"""ЦОН webhook subscriptions over HTTP (role `admin`): register, list, cancel, read a
subscriber's delivery log, and ask for redelivery from a given time. The secret goes in once and
never comes out (no answer shows it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request, Response

from services.notification.adapters.webhook_hosts import masked
from services.notification.domain import commands as c
from services.notification.domain.policy import POLICY
from services.notification.entrypoints.http_models import (
    DeliveryEntry,
    NewSubscription,
    RedeliveryAnswer,
    RedeliveryRequest,
    SubscriptionView,
)
from services.notification.entrypoints.query import only_query
from services.notification.service import NotificationService
from shared.auth.tokens import Principal
from shared.http.auth import may, meta_of
from shared.http.openapi import documented
from shared.http.problems import Problem

ADMIN = Depends(may(POLICY, c.Subscribe))
READ = Depends(may(POLICY, c.ReadWebhooks))


def add_webhook_routes(app: FastAPI, svc: Callable[[], NotificationService]) -> None:
    @app.post(
        "/v1/webhooks",
        tags=["webhooks"],
        dependencies=[Depends(only_query())],
        status_code=201,
        response_model=SubscriptionView,
        **documented(POLICY, c.Subscribe, "Register a ЦОН webhook subscription", body=True),
    )
    async def subscribe(
        body: NewSubscription, request: Request, principal: Principal = ADMIN
    ) -> SubscriptionView:
        """Each matching decisions.v1 event is POSTed to `url` as a CloudEvents JSON document with
        `X-Qyzmet-Timestamp` and `X-Qyzmet-Signature: sha256=<HMAC-SHA256(secret, timestamp + "." + body)>`
        (see docs/contracts/webhooks.md); 5xx, timeouts and connection errors are retried with back-off,
        a 4xx is not."""
        command = c.Subscribe(
            url=str(body.url),
            secret=body.secret,
            regions=tuple(body.regions),
            services=tuple(body.services),
            event_types=tuple(body.event_types),
        )
        row = await svc().execute(command, meta_of(principal, request))
        return SubscriptionView(**{**row, "url": masked(row["url"])})

    @app.get(
        "/v1/webhooks",
        tags=["webhooks"],
        dependencies=[Depends(only_query())],
        response_model=list[SubscriptionView],
        **documented(POLICY, c.ReadWebhooks, "The webhook subscriptions (never their secrets)"),
    )
    async def subscriptions(principal: Principal = READ) -> list[SubscriptionView]:
        return [SubscriptionView(**{**row, "url": masked(row["url"])}) for row in await svc().subscriptions()]

    @app.delete(
        "/v1/webhooks/{subscription_id}",
        tags=["webhooks"],
        dependencies=[Depends(only_query())],
        status_code=204,
        **documented(POLICY, c.Unsubscribe, "Cancel a subscription (what waits for it is stopped)", 404),
    )
    async def unsubscribe(
        subscription_id: uuid.UUID, request: Request, principal: Principal = ADMIN
    ) -> Response:
        await svc().execute(c.Unsubscribe(subscription_id), meta_of(principal, request))
        return Response(status_code=204)

    @app.get(
        "/v1/webhooks/{subscription_id}/deliveries",
        tags=["webhooks"],
        dependencies=[Depends(only_query("since", "limit"))],
        response_model=list[DeliveryEntry],
        **documented(POLICY, c.ReadWebhooks, "A subscriber's delivery log: every delivery and attempt", 404),
    )
    async def deliveries(
        subscription_id: uuid.UUID,
        since: Annotated[
            datetime | None, Query(description="events that occurred at or after this time")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        principal: Principal = READ,
    ) -> list[DeliveryEntry]:
        rows = await svc().delivery_log(subscription_id, since, limit)
        if rows is None:
            raise Problem(404, "Not Found", f"no subscription {subscription_id}")
        return [DeliveryEntry(**row) for row in rows]

    @app.post(
        "/v1/webhooks/{subscription_id}/redeliver",
        tags=["webhooks"],
        dependencies=[Depends(only_query())],
        response_model=RedeliveryAnswer,
        **documented(
            POLICY, c.Redeliver, "Send again every matching event since a given time", 404, body=True
        ),
    )
    async def redeliver(
        subscription_id: uuid.UUID, body: RedeliveryRequest, request: Request, principal: Principal = ADMIN
    ) -> RedeliveryAnswer:
        queued = await svc().execute(c.Redeliver(subscription_id, body.since), meta_of(principal, request))
        return RedeliveryAnswer(subscription_id=subscription_id, since=body.since, queued=queued)
