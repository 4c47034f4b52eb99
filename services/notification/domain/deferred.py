"""What is kept of an event that arrived before its application's (or complaint's) registration:
only what planning its notifications reads, so `deferred_triggers` holds as little personal data
as it can until the registration arrives (or the row expires, `NOTIFICATION_DEFERRED_KEEP_S`)."""

from __future__ import annotations

from shared.contracts.decisions import DecisionMade, EligibilityInputs, Evaluation
from shared.contracts.event import DomainEvent


def trimmed(event: DomainEvent) -> DomainEvent:
    """What is kept of an event waiting for its registration: what planning reads. A decision's
    evaluation (household members, incomes, facts) is cut down to the fields its model
    requires, with no inputs beyond the application's date, region and channel."""
    if not isinstance(event, DecisionMade):
        return event
    e = event.evaluation
    stub = Evaluation(
        service_id=e.service_id,
        edition_id=e.edition_id,
        rule_ids=(),
        computable=e.computable,
        inputs=EligibilityInputs(
            application_date=e.inputs.application_date, region=e.inputs.region, channel=e.inputs.channel
        ),
        outcome=e.outcome,
    )
    return event.model_copy(update={"evaluation": stub})
