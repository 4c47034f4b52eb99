"""Consumers wait when there is nothing to fetch, whatever the broker does.

A Kafka broker holds an empty fetch for up to `fetch.max.wait.ms`; the local noida-db answers at
once, so aiokafka's background fetcher (ours and faust's alike) sent the next fetch straight
away: an idle worker burnt most of a core (issue 14). After an empty fetch that came back sooner
than the consumer's `fetch_max_wait_ms`, the fetcher now sleeps for the rest of a pause that
starts at `FIRST_EMPTY_WAIT_S` and doubles with each further empty fetch (a record fetched resets
it): up to `BUSY_FETCH_WAIT_S` while records came within the last `ACTIVE_S`, up to
`IDLE_FETCH_WAIT_S` once none came for longer. A busy consumer barely waits, an idle one fetches
a few times a second. The busy cap is for upstreams that publish in bursts (an outbox relay,
every few hundred ms under load): between two bursts the pause grew to 200 ms, and the next
burst waited for it (issue 14: the decision worker's p50 from applications.v1 to its transaction
was 132 ms at 50 applications/s). Against a broker that waits itself, nothing changes (the wait
has already passed).
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from typing import Any

from aiokafka.consumer.fetcher import Fetcher

IDLE_FETCH_WAIT_S = float(os.environ.get("KAFKA_IDLE_FETCH_WAIT_MS", "200")) / 1000
"""Longest pause after empty fetches (operational: trades idle CPU for at most this latency of
the first record after a quiet spell)."""
BUSY_FETCH_WAIT_S = min(0.04, IDLE_FETCH_WAIT_S)
"""Longest pause while records keep coming (the last one within `ACTIVE_S`)."""
ACTIVE_S = 2.0
FIRST_EMPTY_WAIT_S = 0.01
_PAUSE = "_qyzmet_empty_pause"
_LAST_RECORDS = "_qyzmet_last_records"


def longest_pause(since_records: float) -> float:
    """The longest pause after empty fetches, `since_records` seconds after the last record."""
    return BUSY_FETCH_WAIT_S if since_records < ACTIVE_S else IDLE_FETCH_WAIT_S


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
            setattr(self, _LAST_RECORDS, time.monotonic())
            return True
        task = asyncio.current_task()
        if task is not None and task.cancelling():  # unassigned or closing: go at once
            return False
        longest = longest_pause(started - getattr(self, _LAST_RECORDS, -math.inf))
        pause: float = min(getattr(self, _PAUSE, FIRST_EMPTY_WAIT_S), longest)
        setattr(self, _PAUSE, min(pause * 2, longest))
        wait = min(self._fetch_max_wait_ms / 1000, pause) - (time.monotonic() - started)
        if wait > 0:
            try:
                await asyncio.sleep(wait)
            except asyncio.CancelledError:  # as aiokafka's own fetch: a cancelled fetch just ends
                return False
        return False

    Fetcher._proc_fetch_request = fetch_then_wait_if_empty
    setattr(Fetcher, _INSTALLED, True)
