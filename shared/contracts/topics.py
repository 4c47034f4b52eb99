"""The event contract as one table: which events travel on which topic, and who publishes them.

Everything else is derived from this table, so the pieces cannot disagree: the relay's route of
each service (`shared.contracts.routes`), the registries consumers decode with, the JSON Schemas
and the AsyncAPI document (`qyzmet contracts export`), and the topics created on the broker
(`shared.messaging.topics`). Events a service stores but never publishes are listed here too, as
internal: they are not part of the public contract and appear in no document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.contracts.application_progress import INTAKE_INTERNAL_EVENTS, INTAKE_STORED_EVENTS
from shared.contracts.applications import APPLICATION_EVENTS, INTAKE_COMMANDS
from shared.contracts.complaints import COMPLAINT_COMMANDS, COMPLAINT_EVENTS, COMPLAINT_INTERNAL_EVENTS
from shared.contracts.decisions import (
    DECISION_EVENTS,
    ApplicationReopened,
    CaseFlagged,
    CaseOpened,
    CaseWithdrawn,
    DeadlineApproaching,
    DeadlineBreached,
    DecisionDrafted,
    DecisionMade,
    DecisionReturnedForRework,
    DecisionSubmittedForSignature,
    DocumentsChecked,
    EntitlementRestored,
    EntitlementStarted,
    EntitlementSuspended,
    EntitlementTerminated,
    ExecutorAssigned,
    InspectionCompleted,
    InspectionScheduled,
    ReconfirmationDue,
    ReconfirmationReceived,
    TermExtended,
    WithdrawalTooLate,
)
from shared.contracts.event import DomainEvent
from shared.contracts.notifications import NOTIFICATION_EVENTS, NOTIFICATION_INTERNAL_EVENTS
from shared.contracts.registry import EventRegistry

OFFICE_SYSTEMS = "office-systems"
"""Publisher name of the systems outside Qyzmet (ЦОН, regional offices) that send commands."""


@dataclass(frozen=True)
class TopicContract:
    """One topic: what it is for, who may publish on it, and the events that travel on it."""

    topic: str
    summary: str
    publishers: tuple[str, ...]
    events: tuple[type[DomainEvent], ...] = ()

    def registry(self) -> EventRegistry:
        return EventRegistry(self.events)


CONTRACT_TOPICS: tuple[TopicContract, ...] = (
    TopicContract(
        "intake.submissions.v1",
        "Commands from office systems: submit an application.",
        (OFFICE_SYSTEMS,),
        tuple(INTAKE_COMMANDS.classes()),
    ),
    TopicContract(
        "applications.v1",
        "What happened to an application at intake.",
        ("intake",),
        tuple(APPLICATION_EVENTS.classes()),
    ),
    TopicContract(
        "inspections.v1",
        "Inspections of living conditions: scheduled and completed. The decision service publishes"
        " them; office systems also send them as commands.",
        ("decision", OFFICE_SYSTEMS),
        (InspectionScheduled, InspectionCompleted),
    ),
    TopicContract(
        "decisions.v1",
        "The case of an application in the decision service: decisions, deadlines, entitlements.",
        ("decision",),
        (
            ExecutorAssigned,
            DecisionSubmittedForSignature,
            DecisionReturnedForRework,
            DecisionMade,
            CaseFlagged,
            DeadlineApproaching,
            DeadlineBreached,
            TermExtended,
            EntitlementStarted,
            EntitlementSuspended,
            EntitlementRestored,
            EntitlementTerminated,
            ReconfirmationDue,
            ReconfirmationReceived,
            ApplicationReopened,
            CaseWithdrawn,
            WithdrawalTooLate,
        ),
    ),
    TopicContract(
        "notifications.v1",
        "What became of each notification to an applicant (delivery states), and of results waiting"
        " to be collected. No personal data.",
        ("notification",),
        tuple(NOTIFICATION_EVENTS.classes()),
    ),
    TopicContract(
        "complaints.submissions.v1",
        "Commands from office systems: file a complaint.",
        (OFFICE_SYSTEMS,),
        tuple(COMPLAINT_COMMANDS.classes()),
    ),
    TopicContract(
        "complaints.v1",
        "Complaints: registration (the complainant's talon), review deadlines, outcome, escalation.",
        ("complaints",),
        tuple(COMPLAINT_EVENTS.classes()),
    ),
    # No CloudEvents here (so no route, schema or AsyncAPI channel): plain JSON messages of the
    # audit trail (shared.audit.relay, shared.audit.anchors), kept by the compliance side.
    TopicContract(
        "audit.v1",
        "The audit trail, outside the database: UTF-8 JSON messages keyed '<schema>/<chain>' (one"
        " chain in one partition, in order), told apart by the header qyzmet_kind. 'audit.record':"
        " one audit record as appended (kind, schema, chain, seq, recorded_at, actor, role, office,"
        " action, subject, outcome, correlation_id, details, alg, prev_hash, hash = its keyed MAC),"
        " at least once, within about a second of its commit. 'audit.anchor': the head of a chain"
        " at a moment (kind, schema, chain, seq, hash, time), for every chain that grew, every"
        " QYZMET_AUDIT_ANCHOR_INTERVAL_S. `qyzmet audit verify` reads both from offset 0.",
        ("intake", "decision", "notification", "complaints", "catalog"),
    ),
)

INTERNAL_EVENTS: dict[str, tuple[type[DomainEvent], ...]] = {
    "decision": (CaseOpened, DocumentsChecked, DecisionDrafted),
    "intake": INTAKE_INTERNAL_EVENTS,
    "notification": NOTIFICATION_INTERNAL_EVENTS,
    "complaints": COMPLAINT_INTERNAL_EVENTS,
}
"""publisher -> events it stores and never publishes: the household as declared (case opened),
the document check and unsigned drafts stay inside the decision service; what intake learnt of
the case from the decision service's events stays inside intake."""

STORED_EVENTS: dict[str, EventRegistry] = {
    "intake": INTAKE_STORED_EVENTS,
    "decision": DECISION_EVENTS,
    "notification": EventRegistry([*NOTIFICATION_EVENTS.classes(), *NOTIFICATION_INTERNAL_EVENTS]),
    "complaints": EventRegistry([*COMPLAINT_EVENTS.classes(), *COMPLAINT_INTERNAL_EVENTS]),
}
"""publisher -> the registry its event store is decoded with: every event it can store, each of
which must be either on a topic of the table or internal."""


def topic_names() -> tuple[str, ...]:
    """Every topic of the contract, in table order."""
    return tuple(contract.topic for contract in CONTRACT_TOPICS)


def contract_of(topic: str) -> TopicContract:
    for contract in CONTRACT_TOPICS:
        if contract.topic == topic:
            return contract
    raise LookupError(f"{topic!r} is not a topic of the contract; known: {list(topic_names())}")


def registry_of(topics: Iterable[str]) -> EventRegistry:
    """One registry of every event travelling on `topics` (what a consumer of them decodes)."""
    registry = EventRegistry()
    for topic in topics:
        for event in contract_of(topic).events:
            registry.register(event)
    return registry


def published_topics() -> tuple[TopicContract, ...]:
    """The topics that carry at least one defined event: what the contract documents describe."""
    return tuple(contract for contract in CONTRACT_TOPICS if contract.events)


def internal_event_names(publisher: str) -> frozenset[str]:
    return frozenset(event.event_name for event in INTERNAL_EVENTS.get(publisher, ()))
