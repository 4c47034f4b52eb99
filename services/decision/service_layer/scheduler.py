"""The decision service's timer scheduler (`shared.scheduling.TimerScheduler`): each leased timer
fires as a `FireDueTimer` command through the service's bus, in the service's own name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

import asyncpg

from services.decision.adapters.timers import TimerStore
from services.decision.domain import commands as c
from services.decision.service_layer.handlers import FireDueTimer, TimerGone
from services.decision.service_layer.unit_of_work import PgDecisionUnit
from services.decision.settings import DecisionSettings
from shared.contracts.decisions import TimerKind
from shared.scheduling import DueTimer, TimerScheduler
from shared.service_layer import MessageBus, Meta


def timer_scheduler(
    pool: asyncpg.Pool,
    schema: str,
    bus: MessageBus[PgDecisionUnit],
    settings: DecisionSettings,
    clock: Callable[[], datetime],
) -> TimerScheduler:
    async def fire(timer: DueTimer, worker: str) -> None:
        command = FireDueTimer(timer.id, timer.key, cast(TimerKind, timer.kind), timer.target, worker)
        await bus.handle(command, Meta(c.SYSTEM, causation_id=f"timer:{timer.id}"))

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
