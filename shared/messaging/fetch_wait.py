"""Consumers wait when there is nothing to fetch, whatever the broker does.

A Kafka broker holds an empty fetch for up to `fetch.max.wait.ms`; the local noida-db answers at
once, so aiokafka's background fetcher (ours and faust's alike) sent the next fetch straight
away: an idle worker burnt most of a core (issue 14). After an empty fetch that came back sooner
than the consumer's `fetch_max_wait_ms`, the fetcher now sleeps for the rest of a pause that
starts at `FIRST_EMPTY_WAIT_S` and doubles with each further empty fetch up to
`IDLE_FETCH_WAIT_S` (a record fetched resets it): a busy consumer barely waits, an idle one
fetches a few times a second. Against a broker that waits itself, nothing changes (the wait has
already passed).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from aiokafka.consumer.fetcher import Fetcher

IDLE_FETCH_WAIT_S = float(os.environ.get("KAFKA_IDLE_FETCH_WAIT_MS", "200")) / 1000
"""Longest pause after empty fetches (operational: trades idle CPU for at most this latency of
the first record after a quiet spell)."""
FIRST_EMPTY_WAIT_S = 0.01
_PAUSE = "_qyzmet_empty_pause"

_INSTALLED = "_qyzmet_waits_when_idle"


def install() -> None:
    """Patch aiokafka's fetcher once per process (idempotent)."""
    if getattr(Fetcher, _INSTALLED, False):
        return
    fetch = Fetcher._proc_fetch_request

    async def fetch_then_wait_if_empty(self: Any, assignment: Any, node_id: int, request: Any) -> bool:
        started = time.monotonic()
        got_records: bool = await fetch(self, assignment, node_id, request)
        if got_records:
            setattr(self, _PAUSE, FIRST_EMPTY_WAIT_S)
            return True
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # unassigned or closing: go at once
            return False
        pause: float = getattr(self, _PAUSE, FIRST_EMPTY_WAIT_S)
        setattr(self, _PAUSE, min(pause * 2, IDLE_FETCH_WAIT_S))
        wait = min(self._fetch_max_wait_ms / 1000, pause) - (time.monotonic() - started)
        if wait > 0:
            try:
                await asyncio.sleep(wait)
            except asyncio.CancelledError:  # as aiokafka's own fetch: a cancelled fetch just ends
                return False
        return False

    Fetcher._proc_fetch_request = fetch_then_wait_if_empty
    setattr(Fetcher, _INSTALLED, True)
