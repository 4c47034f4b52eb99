"""The simulator's Prometheus metrics (`/metrics` on its own listener, as a worker's: see
`shared.runtime.metrics_listener`): what the simulated offices did and what the system answered.

Labels are the catalog's service ids, the office register's ids, the simulator's step names and
HTTP status classes: bounded, and never anything an applicant gave.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

APPLICATIONS = Counter(
    "qyzmet_simulator_applications_total",
    "Applications the desks handed in, by catalog service, office and outcome"
    " (submitted; accepted: a talon issued; refused: refused at intake)",
    ["service", "office", "outcome"],
)
EVENTS = Counter(
    "qyzmet_simulator_events_total",
    "What the simulated people did, by event (inspections: inspections completed; complaints:"
    " complaints filed; complaints_resolved, assigned, drafted, signed, decided, withdrawn, ...)",
    ["event"],
)
ANSWERS = Counter(
    "qyzmet_simulator_answers_total",
    "The system's answers to the simulator's requests, by step and status class (2xx, 4xx, 5xx;"
    " no_answer: a transport error or timeout)",
    ["step", "status"],
)
ERRORS = Counter(
    "qyzmet_simulator_errors_total",
    "Stories ended by an error in the simulator itself, by exception type",
    ["error"],
)
RATE = Gauge("qyzmet_simulator_rate_per_second", "The arrival rate asked for (--rate), applications a second")
IN_FLIGHT = Gauge("qyzmet_simulator_stories_in_flight", "Applications whose story is under way")

STORY_ERROR = "story_error"
"""The tally's event prefix of a story ended by an error (`story_error <exception type>`)."""


def status_class(status: int | None) -> str:
    return "no_answer" if status is None else f"{status // 100}xx"


def count_event(what: str, n: int) -> None:
    """A tally event, as its metric: a story's error by its type, anything else by its name."""
    if what.startswith(STORY_ERROR):
        ERRORS.labels(what.removeprefix(STORY_ERROR).strip() or "unknown").inc(n)
    else:
        EVENTS.labels(what).inc(n)
