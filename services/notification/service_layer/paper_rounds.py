"""Paper deliveries of a round together (issue 14): post and pickup send nothing outside - the
letter is a row of the post's manifest or the office's pickup list, written with the DELIVERED
state - so a round's paper notifications are claimed in one statement and recorded in one
transaction (`RecordAttempts`), instead of a claim and a transaction each. Should that
transaction fail, each is recorded on its own, so one broken row does not hold up the others.
E-mail and SMS keep a claim and a record each: they are recorded as soon as each is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import asyncpg
import structlog

from services.notification.adapters.notification_rows import Claimed, Leased
from services.notification.adapters.repository import NotificationStore
from services.notification.adapters.templates import TemplateProblem, Templates
from services.notification.domain import commands as c
from services.notification.domain.delivery import Message, SendOutcome, Stopped
from shared.service_layer import Meta, is_retryable

log = structlog.get_logger(__name__)

PAPER_CHANNELS = frozenset({"post", "pickup"})

Send = Callable[[Leased, Message, Claimed], Awaitable[SendOutcome]]
Record = Callable[[object, Meta], Awaitable[object]]


async def deliver_paper(
    leased: Sequence[Leased],
    *,
    pool: asyncpg.Pool,
    schema: str,
    templates: Templates,
    send: Send,
    record: Record,
    meta: Meta,
    lease: str,
    lease_for: timedelta,
    now: datetime,
) -> list[object]:
    """Compose, claim, 'send' and record the round's paper notifications; the failures of the
    one-by-one recording, if it came to that (as `Dispatcher._bounded` returns them)."""
    messages: dict[uuid.UUID, Message | None] = {}
    outcomes: dict[uuid.UUID, SendOutcome] = {}
    for n in leased:
        try:
            messages[n.notification_id] = templates.render(n.kind, n.language, n.context)
        except TemplateProblem as exc:
            messages[n.notification_id] = None
            outcomes[n.notification_id] = Stopped(exc.reason)
    to_claim = [n.notification_id for n in leased if messages[n.notification_id] is not None]
    claimed: dict[uuid.UUID, Claimed] = {}
    if to_claim:
        async with pool.acquire() as conn:
            store = NotificationStore(schema, conn)
            claimed = await store.claim_all_to_send(to_claim, lease, now, now + lease_for)
    for n in leased:
        message = messages[n.notification_id]
        if message is None:
            continue
        if n.notification_id not in claimed:
            log.info("lease lost before sending", notification_id=str(n.notification_id))
            continue
        outcomes[n.notification_id] = await send(n, message, claimed[n.notification_id])
    attempts = []
    for n in leased:
        outcome = outcomes.get(n.notification_id)
        if outcome is None:
            continue
        log.info(
            "delivery attempt", notification_id=str(n.notification_id), kind=n.kind, channel=n.channel,
            attempt=n.attempt + 1, outcome=type(outcome).__name__,
        )  # fmt: skip
        attempts.append(
            c.RecordAttempt(
                n.notification_id, lease, n.attempt + 1, n.give_up_at, outcome, messages[n.notification_id]
            )
        )
    if not attempts:
        return []
    try:
        await record(c.RecordAttempts(tuple(attempts)), meta)
        return []
    except Exception as exc:
        if is_retryable(exc):
            raise
        log.warning("paper round not recorded together; one by one", error=type(exc).__name__)
    failures: list[object] = []
    for attempt in attempts:
        try:
            await record(attempt, meta)
        except Exception as exc:  # each on its own, as the round above could not be
            failures.append(exc)
    return failures
