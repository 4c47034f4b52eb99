"""Guard of the notification fixtures: the code under test connects as the notification
service's own login role (qyzmet_notification, never a superuser) to a schema migrated as the
owner, as in production; only `admin_pool` is the administrator."""

from __future__ import annotations

import asyncpg

from services.notification.service import NotificationService
from tests.roles import assert_provisioned_as_in_production


async def test_the_notification_fixtures_run_as_qyzmet_notification(
    pool: asyncpg.Pool, service: NotificationService, notification_schema: str
) -> None:
    await assert_provisioned_as_in_production(pool, "notification", notification_schema)
    assert service.pool is pool and service.schema == notification_schema
