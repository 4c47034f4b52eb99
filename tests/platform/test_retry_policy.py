"""RetryPolicy.run: the first attempt is a plain call; only a retryable failure starts the
retries, within what is left of the policy's attempts and time budget (issue 14: tenacity's
machinery cost every command ~0.1 ms of CPU even when nothing failed)."""

from __future__ import annotations

import asyncio
import random

import pytest

from shared.eventstore.errors import ConcurrencyConflict
from shared.service_layer import retry as retry_module
from shared.service_layer.retry import RetryPolicy

FAST = RetryPolicy(attempts=4, budget_s=5.0, initial_wait_s=0.0, max_wait_s=0.0)


class Flaky:
    def __init__(self, failures: int, error: BaseException | None = None, took_s: float = 0.0) -> None:
        self.failures, self.calls, self.took_s = failures, 0, took_s
        self.error = error or ConcurrencyConflict("s", 1, 2)

    async def __call__(self) -> int:
        self.calls += 1
        await asyncio.sleep(self.took_s)
        if self.calls <= self.failures:
            raise self.error
        return self.calls


async def test_a_first_success_is_one_call_without_the_retry_machinery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_retrying(*_: object) -> None:
        raise AssertionError("tenacity was set up for a command that succeeded")

    monkeypatch.setattr(RetryPolicy, "retrying", no_retrying)
    attempt = Flaky(0)
    assert await FAST.run(attempt) == 1 and attempt.calls == 1


async def test_retryable_failures_run_again_until_success() -> None:
    attempt = Flaky(2)
    assert await FAST.run(attempt) == 3


async def test_the_attempts_count_the_first_one() -> None:
    attempt = Flaky(10)
    with pytest.raises(ConcurrencyConflict):
        await FAST.run(attempt)
    assert attempt.calls == FAST.attempts


async def test_an_error_that_is_not_retryable_is_raised_at_once() -> None:
    attempt = Flaky(1, ValueError("refused"))
    with pytest.raises(ValueError, match="refused"):
        await FAST.run(attempt)
    assert attempt.calls == 1


async def test_one_attempt_allowed_is_one_call() -> None:
    attempt = Flaky(1)
    with pytest.raises(ConcurrencyConflict):
        await RetryPolicy(attempts=1, initial_wait_s=0.0, max_wait_s=0.0).run(attempt)
    assert attempt.calls == 1


async def test_the_time_budget_counts_the_first_attempt() -> None:
    slow = Flaky(10, took_s=0.3)
    with pytest.raises(ConcurrencyConflict):
        await RetryPolicy(attempts=50, budget_s=0.5, initial_wait_s=0.0, max_wait_s=0.0).run(slow)
    assert slow.calls == 2  # the second attempt ends past the budget: no third (a fresh budget: 2)
    spent = Flaky(10, took_s=0.12)
    with pytest.raises(ConcurrencyConflict):
        await RetryPolicy(attempts=50, budget_s=0.1, initial_wait_s=0.0, max_wait_s=0.0).run(spent)
    assert spent.calls == 1  # the first attempt used the whole budget


async def test_the_back_off_windows_double_from_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """As one tenacity loop over all the attempts gave: up to 1x, 2x, 4x... the initial wait."""
    waits: list[float] = []

    async def recorded(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(random, "uniform", lambda low, high: high)  # the window's upper end
    policy = RetryPolicy(attempts=6, initial_wait_s=0.01, max_wait_s=0.05, sleep=recorded)
    assert await policy.run(Flaky(5)) == 6
    assert waits == pytest.approx([0.01, 0.02, 0.04, 0.05, 0.05])


async def test_a_cancelled_attempt_is_not_retried() -> None:
    class Cancelled(Flaky):
        async def __call__(self) -> int:
            self.calls += 1
            raise asyncio.CancelledError

    attempt = Cancelled(0)
    with pytest.raises(asyncio.CancelledError):
        await FAST.run(attempt)
    assert attempt.calls == 1


async def test_the_first_retry_is_logged_as_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[int] = []
    monkeypatch.setattr(retry_module, "_log_retry_of", lambda attempt, error: logged.append(attempt))
    await FAST.run(Flaky(3))
    assert logged == [1, 2, 3]
