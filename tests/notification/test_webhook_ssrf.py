"""Webhooks never go to this installation's own network: a URL whose host resolves to loopback,
link-local (cloud metadata), private or reserved addresses is refused when registered (422
naming `url`) and again at send time, unless NOTIFICATION_WEBHOOK_ALLOW_PRIVATE=true. Answers
never show a URL's user, password or query."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import httpx
import pytest

from services.notification.adapters.webhook_hosts import RefusedHost, check_public, masked
from services.notification.domain.commands import Subscribe
from services.notification.entrypoints.api import create_app
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta

from .conftest import Mailbox, settings_for
from .receiver import Receiver, running
from .test_send_deadline import delivery_log, fan_out
from .test_webhooks import ADMIN, HOOK_SECRET, SECRET


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.1.2.3/hook",
        "http://172.16.0.5/hook",
        "http://192.168.1.10/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
    ],
)
async def test_private_hosts_are_refused(url: str) -> None:
    with pytest.raises(RefusedHost):
        await check_public(url)


async def test_a_public_address_passes() -> None:
    await check_public("https://8.8.8.8/hook")


def test_answers_mask_user_and_query() -> None:
    assert (
        masked("https://user:pw@tson.example.kz:8443/hook?token=abc")
        == "https://***@tson.example.kz:8443/hook?***"
    )
    assert masked("https://tson.example.kz/hook") == "https://tson.example.kz/hook"


async def test_registration_refuses_a_private_url_and_answers_mask_it(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int]
) -> None:
    strict = make_service(settings=settings_for(smtp[1], webhook_allow_private=False))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(strict, token_secret=SECRET)), base_url="http://n"
    ) as http:
        r = await http.post(
            "/v1/webhooks", json={"url": "http://169.254.169.254/x", "secret": HOOK_SECRET}, headers=ADMIN
        )
        assert r.status_code == 422 and "url" in r.text and "link-local" in r.text
        r = await http.post(
            "/v1/webhooks",
            json={"url": "https://u:p@8.8.8.8/hook?key=k", "secret": HOOK_SECRET},
            headers=ADMIN,
        )
        assert r.status_code == 201 and r.json()["url"] == "https://***@8.8.8.8/hook?***"
        [listed] = (await http.get("/v1/webhooks", headers=ADMIN)).json()
        assert listed["url"] == "https://***@8.8.8.8/hook?***" and "key=k" not in str(listed)


async def test_a_host_that_turned_private_is_refused_at_send_time(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int], pool: asyncpg.Pool
) -> None:
    lenient = make_service()  # registered while allowed (or while the host was public)
    async with running(Receiver(HOOK_SECRET)) as receiver:
        await lenient.execute(Subscribe(receiver.url("/x"), HOOK_SECRET), system_meta("admin"))
        await fan_out(lenient)
        strict = make_service(settings=settings_for(smtp[1], webhook_allow_private=False))
        await strict.dispatcher.deliver_webhooks("w1")
    assert not receiver.received
    [entry] = await delivery_log(strict)
    assert entry["state"] == "NOT_DELIVERED" and "refused" in entry["reason"]
