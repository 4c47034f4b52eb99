"""The names of the contract's topics, in the table's order, without the table's event models:
what `qyzmet topics list` and topic creation (`shared.messaging.topics`) need, so neither loads
every event model. The table itself is `shared.contracts.topics`; a test keeps the two equal."""

from __future__ import annotations

TOPIC_NAMES: tuple[str, ...] = (
    "intake.submissions.v1",
    "applications.v1",
    "inspections.v1",
    "decisions.v1",
    "notifications.v1",
    "complaints.submissions.v1",
    "complaints.v1",
    "audit.v1",
)
