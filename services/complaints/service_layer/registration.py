"""What a complaint is about, as the complaints service knows it: the contested application (from
its read model of applications.v1 / decisions.v1) or office, the edition whose act gives the
complaint procedure, and where the complaint is routed. Every refusal names the field and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from services.complaints.adapters.catalog import ComplaintsCatalog
from services.complaints.adapters.read_model import ApplicationFacts
from shared.catalog.complaint_routing import NoProcedure, Routed
from shared.catalog.errors import CatalogError
from shared.catalog.models import Edition
from shared.contracts.complaints import FileComplaint
from shared.domain.errors import InvalidInput

GCVP_BRANCH = "gcvp_head"
"""The routing body of the ГЦВП branch (complaint_routing.yaml)."""


@dataclass(frozen=True)
class Contested:
    service_id: str
    edition: Edition
    office_id: str
    region: str
    at_tson: bool
    decided_at: datetime | None = None
    """For a complaint about a decision: when the decision in force was made (the one contested)."""


class NotYetKnown(InvalidInput):
    """The complaint names an application (or its decision) the read model has not learnt of yet.
    Over HTTP it is refused like any invalid input (422); a Kafka command is retried for a while,
    since the application's events may simply not have arrived yet (topics are not ordered)."""


def refused(
    field: str, reason: str, title: str = "Complaint cannot be registered", **extra: object
) -> InvalidInput:
    return InvalidInput(reason, title=title, errors=[{"field": field, "reason": reason}], **extra)


def not_yet_known(field: str, reason: str) -> NotYetKnown:
    return NotYetKnown(
        reason, title="Complaint cannot be registered", errors=[{"field": field, "reason": reason}]
    )


FINAL_UNDECIDED = frozenset({"refused_at_intake", "withdrawn"})
"""States in which no decision will ever be made: a complaint about a decision is refused at once."""


async def contested(
    cmd: FileComplaint,
    conn: asyncpg.Connection,
    facts: ApplicationFacts,
    catalog: ComplaintsCatalog,
    at: datetime,
) -> Contested:
    """The contested case; a complaint about a decision needs a decided application, about a
    refusal at intake a refused one; about an official, the application or a known office. The
    edition is looked up on the region's local day of `at`."""
    if cmd.application_id is None:
        if cmd.subject in ("decision", "intake_refusal"):
            raise refused(
                "application_id",
                f"a complaint about a {cmd.subject.replace('_', ' ')} must name the application",
            )
        return await _about_office(cmd, conn, facts, catalog, at)
    known = await facts.application(conn, cmd.application_id)
    if known is None:
        raise not_yet_known("application_id", "no such application is known to the complaints service")
    if cmd.subject == "decision" and known.state != "decided":
        reason = f"no decision has been made on this application (it is {known.state})"
        if known.state in FINAL_UNDECIDED:
            raise refused("application_id", reason)
        raise not_yet_known("application_id", reason)
    if cmd.subject == "intake_refusal" and known.state != "refused_at_intake":
        raise refused("application_id", "this application was not refused at intake")
    if cmd.service_id is not None and cmd.service_id != known.service_id:
        raise refused("service_id", "differs from the service of the application")
    office = await facts.office(conn, cmd.office_id)
    if cmd.subject in ("official_action", "official_inaction") and office is None:
        raise refused("office_id", "this office is not known to the complaints service")
    region = known.region or (office.region if office else None)
    if region is None:
        raise refused("application_id", "the application's region is not known to the complaints service")
    edition = _edition(catalog, known.service_id, known.edition_id, region, _local_day(catalog, region, at))
    decided_at = known.decided_at if cmd.subject == "decision" else None
    if cmd.subject in ("decision", "intake_refusal") and cmd.office_id != known.office_id:
        receiving = await facts.office(conn, known.office_id)
        case = Contested(
            known.service_id, edition, known.office_id, region, bool(receiving and receiving.tson), decided_at
        )
        if not _names_the_deciding_branch(cmd, case, catalog):
            raise refused("office_id", "differs from the office that handled the application")
    return Contested(
        known.service_id, edition, cmd.office_id, region, bool(office and office.tson), decided_at
    )


def _names_the_deciding_branch(cmd: FileComplaint, case: Contested, catalog: ComplaintsCatalog) -> bool:
    """A ГЦВП decision on an application received at a ЦОН was made by the region's ГЦВП branch:
    the complainant may name the branch instead of the receiving office."""
    routed = catalog.routing.route(
        case.edition, case.service_id, cmd.subject, region=case.region, office=case.office_id,
        at_tson=case.at_tson,
    )  # fmt: skip
    return isinstance(routed, Routed) and routed.body == GCVP_BRANCH and routed.office == cmd.office_id


def _local_day(catalog: ComplaintsCatalog, region: str, at: datetime) -> date:
    return at.astimezone(catalog.time_zone(region)).date()


async def _about_office(
    cmd: FileComplaint,
    conn: asyncpg.Connection,
    facts: ApplicationFacts,
    catalog: ComplaintsCatalog,
    at: datetime,
) -> Contested:
    if cmd.service_id is None:
        raise refused(
            "service_id", "name the service or the application: routing depends on the service's act"
        )
    office = await facts.office(conn, cmd.office_id)
    if office is None:
        raise refused("office_id", "this office is not known to the complaints service; name the application")
    edition = _edition(catalog, cmd.service_id, None, office.region, _local_day(catalog, office.region, at))
    return Contested(cmd.service_id, edition, cmd.office_id, office.region, office.tson)


def _edition(
    catalog: ComplaintsCatalog, service_id: str, edition_id: str | None, region: str, on: date
) -> Edition:
    try:
        if edition_id is not None:
            return catalog.catalog.service(service_id).edition(edition_id)
        return catalog.edition_for(service_id, region, on)
    except CatalogError as exc:
        raise refused("service_id", f"the catalog has no edition of this service here: {exc}") from exc


def route(cmd: FileComplaint, case: Contested, catalog: ComplaintsCatalog) -> Routed:
    routed = catalog.routing.route(
        case.edition,
        case.service_id,
        cmd.subject,
        region=case.region,
        office=case.office_id,
        at_tson=case.at_tson,
    )
    if isinstance(routed, NoProcedure):
        raise refused("subject", routed.reason, title="No complaint procedure", citation=routed.citation)
    return routed
