"""The service catalog: the law as data.

Load it with `load_catalog()`; see `Catalog` for lookups and edition selection, `deadlines`
for due dates, `parameters` for effective-dated parameter values and `conditions` for the
machine-evaluable document conditions.
"""

from shared.catalog.catalog import Catalog, CatalogHeader, CatalogSettings
from shared.catalog.conditions import ApplicationFacts, Requirement
from shared.catalog.deadlines import (
    DEFAULT_DEADLINE_POLICY,
    DeadlinePolicy,
    ResolvedTerm,
    Term,
    add_term,
    application_due_at,
    clock_start,
    due_at,
    extended_due_at,
    forwarding_due_at,
    notification_due_at,
    resolve_term,
)
from shared.catalog.editions import AdoptionRecord, EditionBasis, EditionChoice, select_edition
from shared.catalog.errors import (
    AmbiguousEdition,
    AmbiguousSla,
    CatalogError,
    CatalogIssue,
    CatalogLoadError,
    ChannelNotOffered,
    ConflictingParameterValues,
    InvalidParameterRecord,
    NoEditionInForce,
    NoExtensionAllowed,
    ParameterNotInForce,
    SlaNotDefined,
    UnknownChannel,
    UnknownEdition,
    UnknownParameter,
    UnknownRegion,
    UnknownService,
    UnknownSubtype,
)
from shared.catalog.loader import (
    load_catalog,
    load_example_adoptions,
    load_example_parameter_records,
    load_parameter_book,
)
from shared.catalog.models import Document, Edition, Region, Service, Sla
from shared.catalog.parameters import ParameterBook, ParameterDefinition, ParameterRecord, TermValue
from shared.catalog.working_calendar import DEFAULT_CALENDAR, KazakhstanCalendar, WorkingCalendar

__all__ = [
    "DEFAULT_CALENDAR",
    "DEFAULT_DEADLINE_POLICY",
    "AdoptionRecord",
    "AmbiguousEdition",
    "AmbiguousSla",
    "ApplicationFacts",
    "Catalog",
    "CatalogError",
    "CatalogHeader",
    "CatalogIssue",
    "CatalogLoadError",
    "CatalogSettings",
    "ChannelNotOffered",
    "ConflictingParameterValues",
    "DeadlinePolicy",
    "Document",
    "Edition",
    "EditionBasis",
    "EditionChoice",
    "InvalidParameterRecord",
    "KazakhstanCalendar",
    "NoEditionInForce",
    "NoExtensionAllowed",
    "ParameterBook",
    "ParameterDefinition",
    "ParameterNotInForce",
    "ParameterRecord",
    "Region",
    "Requirement",
    "ResolvedTerm",
    "Service",
    "Sla",
    "SlaNotDefined",
    "Term",
    "TermValue",
    "UnknownChannel",
    "UnknownEdition",
    "UnknownParameter",
    "UnknownRegion",
    "UnknownService",
    "UnknownSubtype",
    "WorkingCalendar",
    "add_term",
    "application_due_at",
    "clock_start",
    "due_at",
    "extended_due_at",
    "forwarding_due_at",
    "load_catalog",
    "load_example_adoptions",
    "load_example_parameter_records",
    "load_parameter_book",
    "notification_due_at",
    "resolve_term",
    "select_edition",
]
