"""What the simulated offices did and what the system answered, counted; one summary line.

Every answer is counted by step and status class; nothing an applicant gave (names, ИИН, incomes)
is ever kept here, so the summary can go to any log. Each count is also a Prometheus metric
(`services.simulator.metrics`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from services.simulator.metrics import ANSWERS, count_event, status_class

SUMMARY_ORDER = (
    ("submitted", "submitted"),
    ("accepted", "talons"),
    ("refused_at_intake", "refused at intake"),
    ("resubmitted", "came back with the document"),
    ("withdrawn", "withdrawn"),
    ("assigned", "assigned"),
    ("inspections", "inspections"),
    ("drafted", "drafted"),
    ("returned", "returned"),
    ("signed", "signed"),
    ("decided", "decided"),
    ("complaints", "complaints"),
    ("complaints_resolved", "answered"),
    ("left_to_officers", "left to officers"),
    ("case_not_opened", "cases not opened in time"),
    ("turned_away", "turned away"),
    ("unfinished", "unfinished at stop"),
)


WAITING_FOR_CASE = "case 404"
"""Reading a case the decision service has not opened yet (it follows the talon over Kafka)."""


@dataclass
class Tally:
    events: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    """`<step> <status>` (e.g. `submit 201`, `draft 422`), `<step> transport` for no answer."""
    in_flight: int = 0

    def note(self, what: str, n: int = 1) -> None:
        self.events[what] += n
        count_event(what, n)

    def answered(self, step: str, status: int | None) -> None:
        self.answers[f"{step} {status if status is not None else 'transport'}"] += 1
        ANSWERS.labels(step, status_class(status)).inc()

    def by_class(self) -> Counter[str]:
        classes: Counter[str] = Counter()
        for key, n in self.answers.items():
            status = key.rsplit(" ", 1)[1]
            if key == WAITING_FOR_CASE:
                classes["case not open yet"] += n
            else:
                classes["no answer" if status == "transport" else f"{status[0]}xx"] += n
        return classes

    def line(self, elapsed_s: float) -> str:
        parts = [f"{label} {self.events[key]}" for key, label in SUMMARY_ORDER if self.events[key]]
        errors = sum(n for key, n in self.events.items() if key.startswith("story_error"))
        if errors:
            parts.append(f"simulator errors {errors}")
        classes = self.by_class()
        http = ", ".join(f"{k} {classes[k]}" for k in sorted(classes))
        return (
            f"simulator {elapsed_s:.0f}s: "
            + (", ".join(parts) or "nothing yet")
            + f"; in flight {self.in_flight}; HTTP: {http or 'none'}"
        )

    def rejections(self) -> list[str]:
        """The 4xx answers by step, most frequent first (which step the system refused)."""
        return [
            f"{k} x{n}"
            for k, n in self.answers.most_common()
            if k.rsplit(" ", 1)[1].startswith("4") and k != WAITING_FOR_CASE
        ]
