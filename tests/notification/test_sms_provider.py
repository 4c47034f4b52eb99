"""No SMS provider configured (the default): the `sms` channel is not offered, so no SMS is
planned and none is counted DELIVERED that no one sent. `logging` (development) offers it."""

from __future__ import annotations

from collections.abc import Callable

from services.notification.service import NotificationService, default_channels
from services.notification.settings import NotificationSettings

from .conftest import Mailbox, settings_for
from .events import submitted
from .helpers import deliver, notify, states


def test_the_default_offers_no_sms() -> None:
    settings = NotificationSettings()
    assert settings.sms_provider == "none"
    assert "sms" not in settings.offered_channels and "sms" not in default_channels(settings)
    logging = NotificationSettings(sms_provider="logging")
    assert "sms" in logging.offered_channels and "sms" in default_channels(logging)


async def test_without_an_sms_provider_no_sms_is_planned(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int]
) -> None:
    service = make_service(settings=settings_for(smtp[1], sms_provider="none"))
    app = submitted()
    await notify(service, app)
    await deliver(service)
    found = await states(service, app.application_id)
    assert set(found) == {("talon_issued", "email")}
    assert found[("talon_issued", "email")]["state"] == "DELIVERED"
