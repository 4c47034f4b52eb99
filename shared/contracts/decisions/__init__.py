"""The decision contract: case events of the Decision service.

`DecisionMade` on `decisions.v1` is what ЦОН systems consume: the outcome, the legal grounds
(ids from the catalog), the amount and period where applicable, who signed, and the full
evaluation (rule edition, inputs, the result of every condition with its citation) so that a
decision can always be re-evaluated and shown. Inspection events travel on `inspections.v1`;
office systems also send `InspectionScheduled` / `InspectionCompleted` there as commands.

The contract is split by what it describes (`parts`, `case_events`, `deadline_events`,
`entitlement_events`); every name is importable from here, with the registries of the topics.
"""

from __future__ import annotations

from shared.contracts.decisions.case_events import (
    ApplicationReopened,
    CaseEvent,
    CaseFlagged,
    CaseOpened,
    CaseWithdrawn,
    DecisionDrafted,
    DecisionMade,
    DecisionReturnedForRework,
    DecisionSubmittedForSignature,
    DocumentsChecked,
    ExecutorAssigned,
    InspectionCompleted,
    InspectionScheduled,
    WithdrawalTooLate,
)
from shared.contracts.decisions.deadline_events import (
    DeadlineApproaching,
    DeadlineBreached,
    TermExtended,
    TimerKind,
)
from shared.contracts.decisions.entitlement_events import (
    EntitlementRestored,
    EntitlementStarted,
    EntitlementSuspended,
    EntitlementTerminated,
    ReconfirmationDue,
    ReconfirmationReceived,
)
from shared.contracts.decisions.parts import (
    Conclusion,
    ConditionResult,
    DecisionOutcome,
    EligibilityInputs,
    Employment,
    Evaluation,
    Exemption,
    Ground,
    HouseholdMember,
    IncomeCounting,
    InspectionAct,
    Money,
    ParameterUsed,
)
from shared.contracts.registry import EventRegistry

DECISION_EVENTS = EventRegistry(
    [
        CaseOpened,
        ExecutorAssigned,
        DocumentsChecked,
        InspectionScheduled,
        InspectionCompleted,
        DecisionDrafted,
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
    ]
)
"""Every event of a case stream."""

INSPECTION_COMMANDS = EventRegistry([InspectionScheduled, InspectionCompleted])
"""What office systems may send on `inspections.v1`."""

__all__ = [
    "DECISION_EVENTS",
    "INSPECTION_COMMANDS",
    "ApplicationReopened",
    "CaseEvent",
    "CaseFlagged",
    "CaseOpened",
    "CaseWithdrawn",
    "Conclusion",
    "ConditionResult",
    "DeadlineApproaching",
    "DeadlineBreached",
    "DecisionDrafted",
    "DecisionMade",
    "DecisionOutcome",
    "DecisionReturnedForRework",
    "DecisionSubmittedForSignature",
    "DocumentsChecked",
    "EligibilityInputs",
    "Employment",
    "EntitlementRestored",
    "EntitlementStarted",
    "EntitlementSuspended",
    "EntitlementTerminated",
    "Evaluation",
    "ExecutorAssigned",
    "Exemption",
    "Ground",
    "HouseholdMember",
    "IncomeCounting",
    "InspectionAct",
    "InspectionCompleted",
    "InspectionScheduled",
    "Money",
    "ParameterUsed",
    "ReconfirmationDue",
    "ReconfirmationReceived",
    "TermExtended",
    "TimerKind",
    "WithdrawalTooLate",
]
