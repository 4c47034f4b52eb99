"""What becomes of one delivery attempt: the pure rule shared by applicant notifications and
ЦОН webhooks.

A channel answers `Delivered`, `TemporaryFailure` (retried with exponential back-off until the
give-up period has passed, then NOT_DELIVERED) or `PermanentFailure` (NOT_DELIVERED at once:
a mailbox that does not exist, a 4xx from a webhook). A message that cannot be composed (a
template error) is `Stopped` (DELIVERY_STOPPED). Reasons never quote personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

DeliveryState = Literal["ON_DELIVERY", "DELIVERED", "NOT_DELIVERED", "DELIVERY_STOPPED"]
FINAL_STATES: frozenset[str] = frozenset({"DELIVERED", "NOT_DELIVERED", "DELIVERY_STOPPED"})


@dataclass(frozen=True)
class Message:
    """A composed notification: subject line and plain-text body."""

    subject: str
    body: str


@dataclass(frozen=True)
class Delivered:
    note: str | None = None


@dataclass(frozen=True)
class TemporaryFailure:
    reason: str


@dataclass(frozen=True)
class PermanentFailure:
    reason: str


@dataclass(frozen=True)
class Stopped:
    reason: str


SendOutcome = Delivered | TemporaryFailure | PermanentFailure | Stopped


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off: `initial_s` x 2^(attempt-1), at most `max_s`; the give-up period
    counts from the moment the message was queued (GOV.UK Notify gives up after about 4 hours)."""

    initial_s: float = 30.0
    max_s: float = 1800.0
    give_up_s: float = 4 * 3600.0

    def delay(self, attempt: int) -> timedelta:
        return timedelta(seconds=min(self.max_s, self.initial_s * 2 ** max(0, attempt - 1)))

    def give_up_at(self, queued_at: datetime) -> datetime:
        return queued_at + timedelta(seconds=self.give_up_s)


@dataclass(frozen=True)
class Transition:
    """The delivery's next state after an attempt: a final state, or ON_DELIVERY again at
    `next_attempt_at`."""

    state: DeliveryState
    reason: str | None
    attempt: int
    next_attempt_at: datetime | None


def after_attempt(
    outcome: SendOutcome, attempt: int, now: datetime, give_up_at: datetime, backoff: Backoff
) -> Transition:
    """`attempt` is the number of the attempt just made (1 for the first)."""
    match outcome:
        case Delivered():
            return Transition("DELIVERED", outcome.note, attempt, None)
        case PermanentFailure():
            return Transition("NOT_DELIVERED", outcome.reason, attempt, None)
        case Stopped():
            return Transition("DELIVERY_STOPPED", outcome.reason, attempt, None)
        case TemporaryFailure():
            if now >= give_up_at:
                return Transition(
                    "NOT_DELIVERED", f"gave up after {attempt} attempts: {outcome.reason}", attempt, None
                )
            # The last try is made at the give-up moment itself; its failure is final.
            return Transition(
                "ON_DELIVERY", outcome.reason, attempt, min(now + backoff.delay(attempt), give_up_at)
            )
    raise AssertionError(f"unknown outcome {outcome!r}")
