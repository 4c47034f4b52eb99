"""Recording what a delivery attempt came to: the next state (with its history row and event),
the letter in the post's manifest or the notice on the pickup list, and the audit record of the
contact's use. An attempt whose lease was lost (another worker took over, or the application
was withdrawn meanwhile) changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.notification.adapters.notification_rows import Letter
from services.notification.domain.commands import RecordAttempt, RecordAttempts, RecordWebhookAttempt
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
        state, row = await self._apply(cmd, uow, meta, now)
        if row is not None:
            await publish_states(uow, [row], now, meta)
        return state

    async def record_all(self, cmd: RecordAttempts, uow: NotificationUnit, meta: Meta) -> list[str | None]:
        """Each attempt as `record` has it, the new states' events appended in one statement."""
        now = self.clock()
        states, rows = [], []
        for attempt in cmd.attempts:
            state, row = await self._apply(attempt, uow, meta, now)
            states.append(state)
            if row is not None:
                rows.append(row)
        await publish_states(uow, rows, now, meta)
        return states

    async def _apply(
        self, cmd: RecordAttempt, uow: NotificationUnit, meta: Meta, now: datetime
    ) -> tuple[str | None, dict[str, Any] | None]:
        """The attempt's new state (None: not ours to record) and the row to publish, if any."""
        t = after_attempt(cmd.outcome, cmd.attempt, now, cmd.give_up_at, self.settings.backoff())
        letter = None
        if isinstance(cmd.outcome, Delivered) and cmd.message:  # kept if the channel is paper
            letter = Letter(cmd.message.subject, cmd.message.body)
        row = await uow.notifications.transition(cmd.notification_id, t, now, cmd.worker, letter)
        if row is None:
            return None, None
        if row["channel"] in ("email", "sms", "post"):
            await uow.audit_action(
                meta, "personal_data.used", f"notification/{cmd.notification_id}",
                {"purpose": "delivery", "channel": row["channel"], "attempt": cmd.attempt, "state": t.state},
            )  # fmt: skip
        # A retry is no new state (the history table keeps each attempt).
        return t.state, (row if t.state != "ON_DELIVERY" else None)

    async def record_webhook(
        self, cmd: RecordWebhookAttempt, uow: NotificationUnit, meta: Meta
    ) -> str | None:
        now = self.clock()
        t = after_attempt(cmd.outcome, cmd.attempt, now, cmd.give_up_at, self.settings.webhook_backoff())
        done = await uow.webhooks.transition(cmd.delivery_id, t, now, cmd.worker, cmd.status_code)
        return t.state if done else None
