"""What a complaint is about, as the complaints service knows it: the contested application (from
its read model of applications.v1 / decisions.v1) or office, the edition whose act gives the
complaint procedure, and where the complaint is routed. Every refusal names the field and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from services.complaints.adapters.catalog import ComplaintsCatalog
from services.complaints.adapters.read_model import ApplicationFacts
from shared.catalog.complaint_routing import NoProcedure, Routed
from shared.catalog.errors import CatalogError
from shared.catalog.models import Edition
from shared.contracts.complaints import FileComplaint
from shared.domain.errors import InvalidInput


@dataclass(frozen=True)
class Contested:
    service_id: str
    edition: Edition
    office_id: str
    region: str
    at_tson: bool


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


async def contested(
    cmd: FileComplaint,
    conn: asyncpg.Connection,
    facts: ApplicationFacts,
    catalog: ComplaintsCatalog,
    on: date,
) -> Contested:
    """The contested case; a complaint about a decision needs a decided application, about a
    refusal at intake a refused one; about an official, the application or a known office."""
    if cmd.application_id is None:
        if cmd.subject in ("decision", "intake_refusal"):
            raise refused(
                "application_id",
                f"a complaint about a {cmd.subject.replace('_', ' ')} must name the application",
            )
        return await _about_office(cmd, conn, facts, catalog, on)
    known = await facts.application(conn, cmd.application_id)
    if known is None:
        raise not_yet_known("application_id", "no such application is known to the complaints service")
    if cmd.subject == "decision" and known.state != "decided":
        raise not_yet_known(
            "application_id", f"no decision has been made on this application (it is {known.state})"
        )
    if cmd.subject == "intake_refusal" and known.state != "refused_at_intake":
        raise refused("application_id", "this application was not refused at intake")
    if cmd.service_id is not None and cmd.service_id != known.service_id:
        raise refused("service_id", "differs from the service of the application")
    if cmd.subject in ("decision", "intake_refusal") and cmd.office_id != known.office_id:
        raise refused("office_id", "differs from the office that handled the application")
    office = await facts.office(conn, cmd.office_id)
    region = known.region or (office.region if office else None)
    if region is None:
        raise refused("application_id", "the application's region is not known to the complaints service")
    edition = _edition(catalog, known.service_id, known.edition_id, region, on)
    return Contested(known.service_id, edition, cmd.office_id, region, bool(office and office.tson))


async def _about_office(
    cmd: FileComplaint,
    conn: asyncpg.Connection,
    facts: ApplicationFacts,
    catalog: ComplaintsCatalog,
    on: date,
) -> Contested:
    if cmd.service_id is None:
        raise refused(
            "service_id", "name the service or the application: routing depends on the service's act"
        )
    office = await facts.office(conn, cmd.office_id)
    if office is None:
        raise refused("office_id", "this office is not known to the complaints service; name the application")
    edition = _edition(catalog, cmd.service_id, None, office.region, on)
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
