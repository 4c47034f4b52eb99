"""Batches of a faust stream as soon as events are there, and no timer while there are none.

faust's `Stream.take_events(n, within)` wakes every `within` seconds even when the topic is
empty, and holds every event until `within` has passed or the buffer is full: with a short
`within` an idle worker spends a few % of a core on wake-ups (issue 14), with a long one every
event waits. `take_ready` fills the same way (a stream processor, the stream drained passively,
acknowledgements switched off and done after each batch, exactly as `take_events`), but the agent
sleeps on a queue until the first event comes, lingers `linger_s` for the rest of a burst, and
takes whatever is there (at most `max_`; the queue holds the drainer back beyond that).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from mode.utils.aiter import aiter


async def take_ready(stream: Any, max_: int, linger_s: float = 0.005) -> AsyncIterator[list[Any]]:
    """Yield lists of 1..`max_` events of `stream`; each batch is acknowledged once handled."""
    waiting: asyncio.Queue[Any] = asyncio.Queue(maxsize=max_)

    async def add_to_queue(value: Any) -> Any:
        event = stream.current_event
        if event is None:
            raise RuntimeError("take_ready found no current event")
        await waiting.put(event)
        return value

    acks = stream.enable_acks
    stream.enable_acks = False
    stream.add_processor(add_to_queue)
    stream._enable_passive(aiter(stream.channel))
    try:
        while not stream.should_stop:
            batch = [await waiting.get()]
            if linger_s > 0 and waiting.qsize() < max_ - 1:
                await asyncio.sleep(linger_s)
            while len(batch) < max_ and not waiting.empty():
                batch.append(waiting.get_nowait())
            try:
                yield batch
            finally:
                for event in batch:
                    await stream.ack(event)
    finally:
        stream.enable_acks = acks
        stream._processors.remove(add_to_queue)
