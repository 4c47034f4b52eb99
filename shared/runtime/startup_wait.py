"""When `qyzmet run` may say the system is running: once every API answers `/healthz` (as
`qyzmet up --detach` waits), naming meanwhile any process that stopped before that."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Mapping

from shared.runtime.supervisor import Supervisor

Probe = Callable[[str], bool]


def api_root(url: str) -> str:
    """The root of an API from its recorded URL (its `/docs` page or its root)."""
    return url.removesuffix("/docs").rstrip("/")


def answers_healthz(url: str, timeout_s: float = 1.0) -> bool:
    """GET `<API>/healthz` (the API's URL, its `/docs` page or its root) answers 200."""
    base = api_root(url)
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=timeout_s) as answer:  # noqa: S310 - our own http URL
            return bool(answer.status == 200)
    except OSError:
        return False


class StartupWait:
    """The APIs still to answer, probed at most every `interval_s`; the processes that stopped
    (crashed, gave up or finished) before they all did, each reported once."""

    def __init__(
        self,
        api_urls: Mapping[str, str],
        *,
        probe: Probe = answers_healthz,
        interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pending = dict(api_urls)
        self.probe = probe
        self.interval_s = interval_s
        self.clock = clock
        self._next_probe = 0.0
        self._reported: set[str] = set()

    @property
    def ready(self) -> bool:
        return not self.pending

    def check(self) -> bool:
        """Probe the APIs not yet answering (when the interval has passed); True once all did."""
        now = self.clock()
        if self.pending and now >= self._next_probe:
            self._next_probe = now + self.interval_s
            for name in [name for name, url in self.pending.items() if self.probe(url)]:
                del self.pending[name]
        return self.ready

    def stopped_early(self, supervisor: Supervisor) -> list[str]:
        """Children that exited since the last call, before every API answered."""
        if self.ready:
            return []
        stopped = [
            name
            for name, child in supervisor.children.items()
            if name not in self._reported and (child.crash_count or child.gave_up or child.finished)
        ]
        self._reported.update(stopped)
        return stopped
