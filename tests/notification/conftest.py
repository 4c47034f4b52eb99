"""Fixtures of the notification tests: a migrated schema, a service over it with a clock the
test moves, and a real SMTP server (aiosmtpd) on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import asyncpg
import pytest
from aiosmtpd.controller import Controller

from services.notification.service import NotificationService
from services.notification.settings import NotificationSettings
from shared.infra.procs import free_port
from tests.roles import provisioned_schema


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Mailbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.messages.append(mail)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def pool(notification_pool: asyncpg.Pool) -> asyncpg.Pool:
    """In the notification tests, `pool` is the notification service's own login role
    (qyzmet_notification), as in production; `admin_pool` is the administrator, for what the role
    may not do (tests/roles.py)."""
    return notification_pool


@pytest.fixture
async def notification_schema(admin_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A fresh notification schema, migrated as the owner and granted to qyzmet_notification."""
    async with provisioned_schema(admin_pool, "notification", "tn") as name:
        yield name


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 3, 14, 9, 5, tzinfo=UTC))


def settings_for(smtp_port: int, **overrides: Any) -> NotificationSettings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "retry_initial_s": 60.0,
        "retry_max_s": 600.0,
        "give_up_s": 1800.0,
        "webhook_give_up_s": 1800.0,
        "webhook_timeout_s": 2.0,
        "dispatch_interval_s": 0.05,
        "lease_s": 30.0,
        "smtp_timeout_s": 2.0,
        "sms_provider": "logging",  # these tests follow the SMS channel too
        "webhook_allow_private": True,  # the test's receivers listen on 127.0.0.1
    }
    values.update(overrides)
    return NotificationSettings(**values)


@pytest.fixture
def make_service(
    notification_pool: asyncpg.Pool, notification_schema: str, clock: FakeClock, smtp: tuple[Mailbox, int]
) -> Callable[..., NotificationService]:
    def make(**kwargs: Any) -> NotificationService:
        settings = kwargs.pop("settings", None) or settings_for(smtp[1])
        return NotificationService(notification_pool, notification_schema, settings, clock=clock, **kwargs)

    return make


@pytest.fixture
def service(make_service: Callable[..., NotificationService]) -> NotificationService:
    return make_service()
