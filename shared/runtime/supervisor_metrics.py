"""The supervisor's `/metrics` (`qyzmet run`): its children as Prometheus sees them, read from the
supervisor's own state when scraped (no second copy of it to keep in step).

- `qyzmet_supervisor_processes_running`: children running now;
- `qyzmet_supervisor_process_up{process}`: 1 while that child runs;
- `qyzmet_supervisor_restarts_total{process}`: restarts after a crash;
- `qyzmet_supervisor_crashes_total{process}`: exits other than a clean one (0) or a stop;
- `qyzmet_supervisor_given_up{process}`: 1 once it crash-looped and is no longer restarted.

A scrape runs in the listener's thread: it reads return codes already collected by the
supervisor's own `poll()`, never polls a child itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.runtime.supervisor import Child, Supervisor


def _running(child: Child) -> bool:
    return child.process is not None and child.process.returncode is None


class SupervisorCollector(Collector):
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor

    def collect(self) -> Iterator[Metric]:
        children = list(self.supervisor.children.values())
        up = GaugeMetricFamily(
            "qyzmet_supervisor_process_up", "1 while the supervised process runs", labels=["process"]
        )
        restarts = CounterMetricFamily(
            "qyzmet_supervisor_restarts",
            "Restarts of a supervised process after it crashed",
            labels=["process"],
        )
        crashes = CounterMetricFamily(
            "qyzmet_supervisor_crashes",
            "Exits of a supervised process other than a clean one or a stop",
            labels=["process"],
        )
        given_up = GaugeMetricFamily(
            "qyzmet_supervisor_given_up",
            "1 once a supervised process crash-looped and is no longer restarted",
            labels=["process"],
        )
        for child in children:
            up.add_metric([child.name], int(_running(child)))
            restarts.add_metric([child.name], child.restarts)
            crashes.add_metric([child.name], child.crash_count)
            given_up.add_metric([child.name], int(child.gave_up))
        yield GaugeMetricFamily(
            "qyzmet_supervisor_processes_running",
            "Supervised processes running now",
            value=sum(_running(child) for child in children),
        )
        yield from (up, restarts, crashes, given_up)
