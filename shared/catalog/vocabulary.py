"""Closed vocabularies of the catalog: the enum values the code gives meaning to.

Descriptive vocabularies (receipt types, form fields, complaint addressees) stay free text in
the data; only values that the software acts on (units, clock starts, outcomes, effects) are
closed here, so a typo in a data file fails loading instead of being silently ignored.
"""

from __future__ import annotations

from enum import StrEnum

NATIONAL = "national"
"""Pseudo-region of editions that apply in every region (national standards)."""


class ServiceCategory(StrEnum):
    EMPLOYMENT = "employment"
    DISABILITY = "disability"
    SOCIAL_CARE = "social_care"
    SOCIAL_ASSISTANCE = "social_assistance"
    FAMILY_AND_CHILDREN = "family_and_children"
    PENSIONS_AND_STATE_BENEFITS = "pensions_and_state_benefits"
    SOCIAL_INSURANCE = "social_insurance"
    REGISTRATION_AND_CERTIFICATES = "registration_and_certificates"


class DocType(StrEnum):
    STANDARD = "standard"
    REGULATION = "regulation"
    STANDARD_AMENDMENT = "standard_amendment"


class Coverage(StrEnum):
    FULL = "full"
    AMENDMENT_ONLY = "amendment_only"


class Automation(StrEnum):
    NON_AUTOMATED = "non_automated"
    PARTIALLY_AUTOMATED = "partially_automated"
    FULLY_AUTOMATED = "fully_automated"


class SlaUnit(StrEnum):
    """Units of a total service term."""

    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS_UNSPECIFIED = "days_unspecified"
    """The seed says "days" without saying which kind; see DeadlinePolicy.days_unspecified_as."""


class DurationUnit(StrEnum):
    """Units of step durations, extensions, forwarding and storage terms."""

    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    MINUTES = "minutes"
    HOURS = "hours"
    DAYS_UNSPECIFIED = "days_unspecified"
    MONTHS = "months"
    SAME_DAY = "same_day"


class ClockStart(StrEnum):
    """What starts the SLA clock (`sla.starts_at`)."""

    DOCUMENTS_SUBMITTED = "documents_submitted"
    APPLICATION_MADE = "application_made"
    REGISTERED_OR_ELECTRONIC_REQUEST = "registered_or_electronic_request"
    CASE_FILE_TRANSFERRED = "case_file_transferred"
    REGISTERED_AT_BRANCH = "registered_at_branch"


class DayExclusion(StrEnum):
    ACCEPTANCE_DAY = "acceptance_day"
    """The day the documents were accepted is not counted."""
    ISSUE_DAY = "issue_day"
    """The day the result is issued is not counted (the result is issued the day after the term)."""


class Outcome(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    INFO = "info"


class GroundEffect(StrEnum):
    REFUSE = "refuse"
    TERMINATE = "terminate"
    SUSPEND = "suspend"
    DEPRIVE_FOR_PERIOD = "deprive_for_period"
    RESTORE = "restore"


class IncomePeriod(StrEnum):
    """The period whose income an income test counts, as an edition states it."""

    PRECEDING_QUARTER = "quarter_preceding_application_quarter"


class ResultDelivery(StrEnum):
    IN_PERSON = "in_person"
    POST = "post"
    REPRESENTATIVE = "representative"
    VIA_VILLAGE_AKIM = "via_village_akim"
    VIA_TSON = "via_tson"
    PORTAL_CABINET = "portal_cabinet"
    EMAIL = "email"
    BANK_TRANSFER = "bank_transfer"
    ORAL = "oral"


class RegionKind(StrEnum):
    OBLAST = "oblast"
    CITY = "city"
    """City of republican significance (Astana, Almaty, Shymkent)."""


class DocumentAgeUnit(StrEnum):
    MONTHS = "months"
    YEARS = "years"
