"""Durable timers: rows written with the events that set them, leased and fired by schedulers.

`TimerTable` is a service's `timers` table (keyed by its stream: an application, a complaint);
`TimerScheduler` leases due timers and fires each one through the service's bus. Any number of
schedulers may run; a timer that came due while none ran fires at the next start, once.
"""

from shared.scheduling.scheduler import FireTimer, TimerScheduler
from shared.scheduling.timers import DueTimer, TimerTable

__all__ = ["DueTimer", "FireTimer", "TimerScheduler", "TimerTable"]
