"""Recording what a delivery attempt came to: the next state (with its history row and event),
the letter in the post's manifest or the notice on the pickup list, and the audit record of the
contact's use. An attempt whose lease was lost (another worker took over, or the application
was withdrawn meanwhile) changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.notification.adapters.notification_rows import Letter
from services.notification.domain.commands import RecordAttempt, RecordWebhookAttempt
from services.notification.domain.delivery import Delivered, after_attempt
from services.notification.service_layer.publishing import publish_states
from services.notification.service_layer.unit_of_work import NotificationUnit
from services.notification.settings import NotificationSettings
from shared.service_layer import Meta

Clock = Callable[[], datetime]


class AttemptHandlers:
    def __init__(self, settings: NotificationSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    async def record(self, cmd: RecordAttempt, uow: NotificationUnit, meta: Meta) -> str | None:
        now = self.clock()
        t = after_attempt(cmd.outcome, cmd.attempt, now, cmd.give_up_at, self.settings.backoff())
        letter = None
        if isinstance(cmd.outcome, Delivered) and cmd.message:  # kept if the channel is paper
            letter = Letter(cmd.message.subject, cmd.message.body)
        row = await uow.notifications.transition(cmd.notification_id, t, now, cmd.worker, letter)
        if row is None:
            return None
        if row["channel"] in ("email", "sms", "post"):
            await uow.audit_action(
                meta, "personal_data.used", f"notification/{cmd.notification_id}",
                {"purpose": "delivery", "channel": row["channel"], "attempt": cmd.attempt, "state": t.state},
            )  # fmt: skip
        if t.state != "ON_DELIVERY":  # a retry is no new state (the history table keeps each attempt)
            await publish_states(uow, [row], now, meta)
        return t.state

    async def record_webhook(
        self, cmd: RecordWebhookAttempt, uow: NotificationUnit, meta: Meta
    ) -> str | None:
        now = self.clock()
        t = after_attempt(cmd.outcome, cmd.attempt, now, cmd.give_up_at, self.settings.webhook_backoff())
        done = await uow.webhooks.transition(cmd.delivery_id, t, now, cmd.worker, cmd.status_code)
        return t.state if done else None
