"""An event that overtakes its registration is kept trimmed (a decision without its evaluation's
household, incomes and facts) and planned when the registration arrives; one whose registration
never arrives is forgotten after NOTIFICATION_DEFERRED_KEEP_S."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta

import asyncpg

from services.notification.domain.commands import NotifyOn
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta
from shared.contracts.event import DomainEvent

from .conftest import FakeClock, Mailbox, settings_for
from .events import decided, submitted
from .helpers import notify, states


async def kept(pool: asyncpg.Pool, schema: str) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT data::text AS data FROM {schema}.deferred_triggers")
    return [r["data"] for r in rows]


async def test_a_kept_decision_is_trimmed_and_planned_on_registration(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    app = submitted()
    await notify(service, decided(app, "refused"))  # decisions.v1 overtook applications.v1
    [data] = await kept(pool, notification_schema)
    assert "Айгүл" not in data and "85000" not in data and "household" in data  # an empty household
    assert '"household": []' in data
    await notify(service, app)
    assert await kept(pool, notification_schema) == []
    found = await states(service, app.application_id)
    assert ("decision_made", "email") in found and ("decision_made", "pickup") in found


async def test_a_kept_event_whose_registration_never_arrives_is_forgotten(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int], clock: FakeClock,
    pool: asyncpg.Pool, notification_schema: str,
) -> None:  # fmt: skip
    service = make_service(settings=settings_for(smtp[1], deferred_keep_s=3600.0))
    await notify(service, decided(submitted()))
    clock.now += timedelta(minutes=59)
    await service.dispatcher.run_once("w1")
    assert len(await kept(pool, notification_schema)) == 1
    clock.now += timedelta(minutes=2)
    await service.dispatcher.run_once("w1")
    assert await kept(pool, notification_schema) == []


async def _held_open(
    service: NotificationService, pool: asyncpg.Pool, first: DomainEvent, second: DomainEvent
) -> None:
    """`first` handled in a consumer's transaction that stays open while `second` is handled in a
    transaction of its own (two topics' partitions are handled at once), then committed."""
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await service.execute(
            NotifyOn(first, str(uuid.uuid4()), getattr(first, "region", None)), system_meta("c1"), conn=conn
        )
        other = asyncio.create_task(notify(service, second))
        await asyncio.sleep(0.3)  # the other transaction goes as far as it can meanwhile
        await transaction.commit()
    await asyncio.wait_for(other, 10)


async def test_a_decision_kept_while_its_registration_is_handled_at_once_is_planned(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    """The registration's transaction waits for the keeping one to commit, then takes the event
    (before, it committed first without seeing it, and the decision was kept for nobody)."""
    app = submitted()
    await _held_open(service, pool, decided(app, "refused"), app)
    assert await kept(pool, notification_schema) == []
    assert ("decision_made", "email") in await states(service, app.application_id)


async def test_a_decision_arriving_while_its_registration_commits_is_planned(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    """The decision's transaction, not seeing the uncommitted registration, waits for it before
    keeping the event, then finds the recipient and plans at once (before, it kept it forever)."""
    app = submitted()
    await _held_open(service, pool, app, decided(app, "refused"))
    assert await kept(pool, notification_schema) == []
    assert ("decision_made", "email") in await states(service, app.application_id)
