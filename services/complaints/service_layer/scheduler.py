"""The review timer scheduler (`shared.scheduling.TimerScheduler`): each leased timer fires as a
`FireReviewTimer` command through the service's bus, in the service's own name; a timer that
came due while no worker ran fires at the next start (it is a row, not a sleeping task)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg

from services.complaints.adapters.timers import TimerStore
from services.complaints.domain.commands import FireReviewTimer
from services.complaints.service_layer.handlers import TimerGone
from services.complaints.service_layer.unit_of_work import PgComplaintsUnit
from services.complaints.settings import ComplaintsSettings
from shared.domain.actor import SYSTEM_ROLE, Actor
from shared.scheduling import DueTimer, TimerScheduler
from shared.service_layer import MessageBus, Meta

SYSTEM = Actor("complaints-service", SYSTEM_ROLE, "system")


def timer_scheduler(
    pool: asyncpg.Pool,
    schema: str,
    bus: MessageBus[PgComplaintsUnit],
    settings: ComplaintsSettings,
    clock: Callable[[], datetime],
) -> TimerScheduler:
    async def fire(timer: DueTimer, worker: str) -> None:
        command = FireReviewTimer(timer.id, timer.key, timer.kind, worker)
        await bus.handle(command, Meta(SYSTEM, causation_id=f"timer:{timer.id}"))

    return TimerScheduler(
        pool,
        TimerStore(schema),
        fire,
        clock,
        batch=settings.scheduler_batch,
        lease_s=settings.timer_lease_s,
        max_backoff_s=settings.timer_max_backoff_s,
        interval_s=settings.scheduler_interval_s,
        gone=(TimerGone,),
    )
