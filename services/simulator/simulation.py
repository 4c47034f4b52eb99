"""The simulator's loop: applicants arrive open-loop (a Poisson process at `rate` a second, whatever
the system's answers, as people walk into offices), each application's story runs on its own, a
one-line summary goes out every `report_every_s`, and the run ends after `duration_s` (or on
SIGINT/SIGTERM), letting stories under way go for a short grace period."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from services.simulator.desks import Desks, Urls
from services.simulator.metrics import IN_FLIGHT, RATE
from services.simulator.offers import Offer
from services.simulator.stories import Behaviour, Story
from services.simulator.tally import Tally

MAX_IN_FLIGHT = 2000
"""Stories under way beyond which a new arrival is counted as turned away (memory, not a law)."""


@dataclass(frozen=True)
class SimulationConfig:
    rate: float = 2.0
    duration_s: float | None = None
    report_every_s: float = 10.0
    grace_s: float = 5.0
    ready_wait_s: float = 180.0
    """How long to wait at start for the APIs to answer `/healthz` (a system that is starting)."""
    seed: int | None = None
    behaviour: Behaviour = field(default_factory=Behaviour)


async def simulate(
    urls: Urls,
    secret: str,
    offers: Sequence[Offer],
    config: SimulationConfig,
    *,
    issuer: str = "qyzmet",
    say: Callable[[str], None] = print,
    stop: asyncio.Event | None = None,
) -> Tally:
    """Run until `duration_s`, `stop` or a signal; the counts of everything done."""
    if config.rate <= 0:
        raise ValueError("rate must be positive")
    if not offers:
        raise ValueError("no office can receive any service of the catalog today")
    stop = stop or asyncio.Event()
    signals = _stop_on_signals(stop)
    rng = random.Random(config.seed)
    tally = Tally()
    RATE.set(config.rate)
    desks = Desks(urls, secret, issuer, tally)
    stories: set[asyncio.Task[None]] = set()
    started = time.monotonic()
    reporter = asyncio.create_task(_report(tally, started, config.report_every_s, say, stop))
    try:
        await _wait_ready(desks, config.ready_wait_s, say, stop)
        await _arrivals(desks, offers, config, rng, stories, stop, started)
        if stories:
            await asyncio.wait(stories, timeout=config.grace_s)
    finally:
        stop.set()
        tally.note("unfinished", len(stories))
        for task in stories:
            task.cancel()
        await asyncio.gather(*stories, return_exceptions=True)
        reporter.cancel()
        await asyncio.gather(reporter, return_exceptions=True)
        await desks.close()
        for sig in signals:
            asyncio.get_running_loop().remove_signal_handler(sig)
    say(tally.line(time.monotonic() - started))
    if tally.rejections():
        say("simulator: refused steps: " + ", ".join(tally.rejections()[:8]))
    return tally


async def _wait_ready(
    desks: Desks, timeout_s: float, say: Callable[[str], None], stop: asyncio.Event
) -> None:
    """Until every API answers `/healthz` (then the offices open), `timeout_s` passed, or a stop."""
    bases = (desks.urls.intake, desks.urls.decision, desks.urls.complaints)
    deadline = time.monotonic() + timeout_s
    told = False
    while not stop.is_set() and time.monotonic() < deadline:
        answers = await asyncio.gather(
            *(desks.client.get(f"{base}/healthz", timeout=3.0) for base in bases), return_exceptions=True
        )
        if all(isinstance(a, httpx.Response) and a.status_code == 200 for a in answers):
            return
        if not told:
            say("simulator: waiting for the APIs to answer /healthz")
            told = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def _arrivals(
    desks: Desks,
    offers: Sequence[Offer],
    config: SimulationConfig,
    rng: random.Random,
    stories: set[asyncio.Task[None]],
    stop: asyncio.Event,
    started: float,
) -> None:
    tally = desks.tally
    next_at = time.monotonic()
    while not stop.is_set():
        if config.duration_s is not None and time.monotonic() - started >= config.duration_s:
            return
        next_at += rng.expovariate(config.rate)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.monotonic()))
            return
        if len(stories) >= MAX_IN_FLIGHT:
            tally.note("turned_away")
            continue
        story = Story(desks, rng.choice(offers), random.Random(rng.random()), config.behaviour)
        task = asyncio.create_task(_told(story, tally))
        stories.add(task)
        task.add_done_callback(stories.discard)


async def _told(story: Story, tally: Tally) -> None:
    tally.in_flight += 1
    IN_FLIGHT.inc()
    try:
        await story.run()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug in a story must not end the run: counted, the run goes on
        tally.note(f"story_error {type(exc).__name__}")
    finally:
        tally.in_flight -= 1
        IN_FLIGHT.dec()


async def _report(
    tally: Tally, started: float, every_s: float, say: Callable[[str], None], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
            return
        say(tally.line(time.monotonic() - started))


def _stop_on_signals(stop: asyncio.Event) -> list[signal.Signals]:
    """SIGINT and SIGTERM end the run (the handlers are removed when it ends)."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    return installed
