"""Commands to intake (plain frozen data). Submissions are the contract's `SubmitApplication`
(office systems send it on Kafka too); the rest are built by the entrypoints."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.contracts.application_progress import CaseProgressRecorded
from shared.contracts.applications import IntakeProblem, PresentedDocument


@dataclass(frozen=True)
class WithdrawApplication:
    application_id: str
    reason: str | None = None


@dataclass(frozen=True)
class SupplementDocuments:
    application_id: str
    documents: tuple[PresentedDocument, ...]


@dataclass(frozen=True)
class RecordMalformedSubmission:
    """A submission refused before it could be read as one (fields missing or malformed): it
    still counts as a refused application in the quality indicators."""

    office_id: str
    service_id: str
    channel: str
    idempotency_key: str
    """Empty when the body gave no usable key (then every retry is a refusal of its own)."""
    problems: tuple[IntakeProblem, ...]
    body_digest: str | None = None
    """The body's hash (`body_hash`), to claim the key as `SubmitApplication` does."""


@dataclass(frozen=True)
class LookUpByIin:
    """Which applications one applicant has (a personal-data read: audited)."""

    iin: str = field(repr=False)  # never printed, even by accident


@dataclass(frozen=True)
class ReadApplications:
    """Reading the status view (one application, lists): a query, in the policy table too."""


@dataclass(frozen=True)
class RecordCaseProgress:
    """A step of the application's case, translated from an event another service published
    (`entrypoints/kafka_case_progress.py`): recorded on the application's stream."""

    progress: CaseProgressRecorded
