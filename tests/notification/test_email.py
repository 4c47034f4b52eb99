"""E-mail to a real SMTP server (aiosmtpd) in the applicant's language; exactly one notification
per event and channel; an unreachable server is retried, then NOT_DELIVERED with the reason; a
template error stops the message and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg

from services.notification.adapters.templates import TEMPLATE_DIR, Templates, _sources
from services.notification.domain.commands import RecordAttempt
from services.notification.service import NotificationService
from shared.infra.procs import free_port

from .conftest import FakeClock, Mailbox, settings_for
from .events import contacts, decided, submitted
from .helpers import deliver, notify, states


async def test_talon_goes_by_email_in_kazakh_and_sms_once(
    service: NotificationService, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    app = submitted(language="kk")
    trigger = await notify(service, app)
    await notify(service, app, trigger)  # the consumer's redelivery: no second notification
    assert await deliver(service) == 2
    assert await deliver(service) == 0

    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mailbox.recipients == [["aigul.nurlanova@example.kz"]]
    assert mail["Subject"] == f"Өтінішіңіз қабылданды: № {app.registration_number}"
    assert mail["Content-Language"] == "kk"
    body = mail.get_content()
    assert body.startswith("Құрметті өтініш беруші!")
    assert f"Тіркеу нөмірі (талон): {app.registration_number}." in body
    assert "Нәтижені беру күні: 17.03.2025." in body

    found = await states(service, app.application_id)
    assert set(found) == {("talon_issued", "email"), ("talon_issued", "sms")}
    email = found[("talon_issued", "email")]
    assert email["state"] == "DELIVERED"
    assert [h["state"] for h in email["history"]] == ["ON_DELIVERY", "DELIVERED"]


async def test_decision_in_russian_with_pickup_notice_and_keeping(
    service: NotificationService, smtp: tuple[Mailbox, int], pool: asyncpg.Pool, notification_schema: str
) -> None:
    mailbox, _ = smtp
    app = submitted(language="ru")
    await notify(service, app)
    await notify(service, decided(app, "approved"))
    await deliver(service)

    subjects = [m["Subject"] for m in mailbox.messages]
    assert f"По Вашему заявлению принято решение: № {app.registration_number}" in subjects
    decision_mail = next(m for m in mailbox.messages if "решение" in m["Subject"])
    body = decision_mail.get_content()
    assert "Ваше заявление удовлетворено, государственная услуга оказана." in body
    assert "Назначенная сумма: 48960.00 тенге, период: 01.04.2025 – 31.12.2025." in body
    assert "Результат можно получить по месту подачи заявления" in body
    assert "Айгүл" not in body  # no name in the letter data

    found = await states(service, app.application_id)
    assert found[("decision_made", "pickup")]["state"] == "DELIVERED"
    async with pool.acquire() as conn:
        notice = await conn.fetchrow(
            f"SELECT language, body FROM {notification_schema}.pickup_notices WHERE application_id = $1",
            app.application_id,
        )
        keeping = await conn.fetchrow(
            f"SELECT kept_until, state, keeping_basis, storage_step FROM {notification_schema}.result_keeping"
            " WHERE application_id = $1",
            app.application_id,
        )
    assert notice is not None and notice["language"] == "ru" and "Дата решения: 14.03.2025." in notice["body"]
    assert keeping is not None and keeping["state"] == "waiting"
    assert str(keeping["kept_until"]) == "2025-04-17"  # due 17 March + 1 month (result_storage)
    assert "1 months" in keeping["keeping_basis"] and "L696-700" in keeping["storage_step"]


async def test_unreachable_smtp_is_retried_then_not_delivered_and_nothing_else_is_lost(
    make_service: Callable[..., NotificationService], clock: FakeClock
) -> None:
    dead_port = free_port()  # nothing listens there
    service = make_service(settings=settings_for(dead_port, retry_initial_s=60, give_up_s=300))
    app = submitted(language="kk")
    await notify(service, app)
    await deliver(service)
    found = await states(service, app.application_id)
    assert found[("talon_issued", "sms")]["state"] == "DELIVERED"  # the other channel is not held up
    email = found[("talon_issued", "email")]
    assert email["state"] == "ON_DELIVERY" and email["attempt"] == 1
    assert "smtp: ConnectionRefusedError" in email["reason"]

    assert await deliver(service) == 0  # not due yet: back-off
    for _ in range(10):
        clock.now += timedelta(seconds=120)
        await deliver(service)
    email = (await states(service, app.application_id))[("talon_issued", "email")]
    assert email["state"] == "NOT_DELIVERED"
    assert email["reason"].startswith("gave up after ") and "smtp: ConnectionRefusedError" in email["reason"]
    assert 2 <= email["attempt"] <= 6
    assert [h["state"] for h in email["history"]][-1] == "NOT_DELIVERED"
    assert await deliver(service) == 0


async def test_template_error_stops_that_message_only(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    sources = _sources(TEMPLATE_DIR)
    sources["kk/talon_issued.body"] = "Құрметті {{ applicant_name }}!"  # a variable the data never has
    service = make_service(templates=Templates(sources))
    app = submitted(language="kk")
    await notify(service, app)
    await notify(service, decided(app, "refused"))
    await deliver(service)
    found = await states(service, app.application_id)
    talon = found[("talon_issued", "email")]
    assert talon["state"] == "DELIVERY_STOPPED"
    assert talon["reason"] == "template kk/talon_issued.body: 'applicant_name' is undefined"
    assert found[("decision_made", "email")]["state"] == "DELIVERED"
    [mail] = mailbox.messages
    assert mail["Subject"].startswith("Мемлекеттік қызмет көрсетуден бас тарту туралы шешім")
    assert "Негіздемесі:\n- Not all para-11 documents submitted" in mail.get_content()


async def test_an_outcome_that_cannot_be_recorded_does_not_stop_the_others(
    service: NotificationService, smtp: tuple[Mailbox, int], monkeypatch: Any
) -> None:
    mailbox, _ = smtp
    handle = service.bus.handle

    async def broken_for_sms(command: Any, meta: Any, **kwargs: Any) -> Any:
        if isinstance(command, RecordAttempt):
            rows = await service.notifications_of(app.application_id)
            if next(r for r in rows if r["notification_id"] == command.notification_id)["channel"] == "sms":
                raise ValueError("a bug in recording")
        return await handle(command, meta, **kwargs)

    monkeypatch.setattr(service.bus, "handle", broken_for_sms)
    app = submitted()
    await notify(service, app)
    assert await deliver(service) == 2  # no exception: the loop goes on
    found = await states(service, app.application_id)
    assert found[("talon_issued", "email")]["state"] == "DELIVERED" and len(mailbox.messages) == 1
    assert found[("talon_issued", "sms")]["state"] == "ON_DELIVERY"  # leased; tried again when the lease ends


async def test_two_workers_at_once_send_each_message_once(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int]
) -> None:
    mailbox, port = smtp
    first = make_service(settings=settings_for(port, dispatch_batch=3))
    second = make_service(settings=settings_for(port, dispatch_batch=3))
    apps = [submitted(applicant_contacts=contacts(phone=None)) for _ in range(12)]
    for app in apps:
        await notify(first, app)
    while sum(await asyncio.gather(deliver(first, "w1"), deliver(second, "w2"))):
        pass
    numbers = sorted(str(m["Subject"]).rsplit("№ ", 1)[1] for m in mailbox.messages)
    assert numbers == sorted(app.registration_number for app in apps)
