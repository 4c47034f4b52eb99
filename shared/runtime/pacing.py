"""How often a polling loop (outbox relay, projector) looks again when it found nothing.

Busy, it looks again at once; just idle, after `busy_sleep` (a new event waits at most that
long); idle for `idle_after_s`, only every `idle_sleep`: an idle system costs next to no CPU
(issue 14: under 2 % of a core per process), and the first event after a quiet spell waits at
most `idle_sleep`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class IdlePacing:
    busy_sleep: float = 0.05
    idle_sleep: float = 0.5
    idle_after_s: float = 2.0
    _idle_since: float | None = field(default=None, init=False)

    def pause_after(self, found_work: bool) -> float:
        """Seconds to wait before the next look (0: look again at once)."""
        if found_work:
            self._idle_since = None
            return 0.0
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        return self.idle_sleep if now - self._idle_since >= self.idle_after_s else self.busy_sleep
