"""The platform's Prometheus metrics, one definition each, shared by every process.

Process-wide metrics live in prometheus_client's default registry (a process runs one worker,
one relay, one scheduler...; labels tell the instances apart): they are served by a worker's
metrics listener (`shared.runtime.metrics_listener`) and, next to the app's own registry, by every
API's `/metrics`. Per-app metrics (HTTP requests) live in the app's registry, so tests that build
many apps in one process never register a name twice.

Names: `qyzmet_<subsystem>_<what>_<unit>`; labels never carry personal data or unbounded ids
(consumer, topic, schema, relay, route template, timer kind).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# -- consumers (shared.messaging.consumer): throughput, handler latency, dead letters
CONSUMER_RECORDS = Counter(
    "qyzmet_consumer_records_total",
    "Records a consumer finished with, by outcome (handled, duplicate, dead_lettered, deferred)",
    ["consumer", "outcome"],
)
CONSUMER_BATCH_SECONDS = Histogram(
    "qyzmet_consumer_batch_seconds",
    "Time to handle one batch of records (decode, handlers, commit), including retries",
    ["consumer"],
    buckets=LATENCY_BUCKETS,
)
DEAD_LETTERED = Counter(
    "qyzmet_dead_lettered_total",
    "Records a consumer put on <topic>.dlq",
    ["consumer", "topic"],
)
DLQ_RECORDS = Gauge(
    "qyzmet_dlq_records",
    "Records on a consumed topic's dead-letter topic (<topic>.dlq), as the broker holds them",
    ["topic"],
)
CONSUMER_LAG = Gauge(
    "qyzmet_consumer_lag_records",
    "Records on the topic not yet committed by the consumer group (end offset - committed offset)",
    ["group", "topic"],
)

# -- outbox relay (shared.messaging.relay): throughput and backlog
RELAY_PUBLISHED = Counter(
    "qyzmet_relay_published_total",
    "Events the relay published and the broker acknowledged",
    ["schema", "relay"],
)
RELAY_BACKLOG = Gauge(
    "qyzmet_relay_backlog_events",
    "Events stored in the outbox (event table) and not yet published",
    ["schema", "relay"],
)

# -- audit relay (shared.audit.relay): kept from leading
AUDIT_RELAY_LOCK_WAIT = Gauge(
    "qyzmet_audit_relay_lock_wait_seconds",
    "Seconds since the schema's audit relay last got its lock row (0 while it leads each round)",
    ["schema"],
)

# -- timers (shared.scheduling.scheduler): deadline warnings and breaches
TIMERS_FIRED = Counter(
    "qyzmet_timers_fired_total",
    "Timers the scheduler fired, by kind",
    ["schema", "kind"],
)
DEADLINE_BREACHES = Counter(
    "qyzmet_deadline_breaches_total",
    "Deadline-breach timers fired (decision SLA `deadline_breached`, complaint `review_breached`)",
    ["schema", "kind"],
)
TIMERS_DUE = Gauge(
    "qyzmet_timers_due",
    "Timers past their firing time and not fired yet (the scheduler's backlog)",
    ["schema"],
)


def is_breach(kind: str) -> bool:
    """A timer kind that stands for a deadline running out (`*_breached`)."""
    return kind.endswith("_breached")


class HttpMetrics:
    """Request throughput and latency of one HTTP app, by method, route template and status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "qyzmet_http_requests_total",
            "HTTP requests answered, by method, route template and status code",
            ["method", "route", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "qyzmet_http_request_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
