"""`qyzmet catalog`: browse the service catalog and compute due dates.

    qyzmet catalog list [--json]
    qyzmet catalog show SERVICE [--json]
    qyzmet catalog due SERVICE --channel CHANNEL --region REGION --at ISO8601 [--subtype S] [--json]

`due` picks the edition with the shipped EXAMPLE adoptions (so it works on today's dates) unless
`--no-adoptions` is given. A naive `--at` is read in the region's time zone.
Exit codes: 0 ok; 2 unknown service / channel / region / subtype or bad arguments; 1 the catalog
cannot answer (no edition in force, no term in the seeds, broken data).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime
from typing import Any

from shared.catalog import (
    AdoptionRecord,
    AmbiguousEdition,
    AmbiguousSla,
    CatalogError,
    ChannelNotOffered,
    NoEditionInForce,
    SlaNotDefined,
    UnknownChannel,
    UnknownRegion,
    UnknownService,
    UnknownSubtype,
    add_term,
    extended_due_at,
    load_catalog,
    load_example_adoptions,
    resolve_term,
)
from shared.catalog.catalog import Catalog
from shared.catalog.deadlines import counting_unit
from shared.catalog.errors import NoExtensionAllowed
from shared.catalog.models import Edition, Service

USAGE_ERROR = 2
CANNOT_ANSWER = 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "catalog",
        help="browse the service catalog and compute due dates",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="catalog_command", required=True)

    listing = commands.add_parser("list", help="list every service")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list)

    show = commands.add_parser(
        "show", help="show a service: editions, documents, SLA, steps, rules, citations"
    )
    show.add_argument("service", help="service id (see `qyzmet catalog list`)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=_show)

    due = commands.add_parser("due", help="compute when an application is due")
    due.add_argument("service", help="service id")
    due.add_argument("--channel", required=True, help="channel id, e.g. department, tson, village_akim")
    due.add_argument(
        "--region", required=True, help="region id, e.g. akmola, karaganda, almaty_region, astana"
    )
    due.add_argument(
        "--at", required=True, help="when the clock starts, ISO 8601 (naive = region local time)"
    )
    due.add_argument("--subtype", help="sub-service id, for services with per-subtype terms")
    due.add_argument(
        "--no-adoptions", action="store_true", help="use only editions really in force (no adoptions)"
    )
    due.add_argument("--json", action="store_true", help="print JSON")
    due.set_defaults(handler=_due)


def _adoptions(catalog: Catalog) -> tuple[AdoptionRecord, ...]:
    """Administrator adoptions stored in PostgreSQL (with the examples they do not replace) when
    DATABASE_URL is set; the shipped examples otherwise."""
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        return load_example_adoptions(catalog)

    async def stored() -> tuple[AdoptionRecord, ...]:
        from shared.catalog.store import CatalogStore
        from shared.db.pool import connect

        conn = await connect(database_url)
        try:
            store = CatalogStore(catalog)
            await store.migrate(conn)
            return tuple(await store.adoptions(conn))
        finally:
            await conn.close()

    return asyncio.run(stored())


def _fail(message: str, code: int) -> int:
    print(f"qyzmet catalog: {message}", file=sys.stderr)
    return code


def _print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


# ----------------------------------------------------------------------------- list


def _list(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        return _fail(str(exc), CANNOT_ANSWER)
    rows = [
        {
            "id": s.id,
            "name_kk": s.name_kk,
            "name_en": s.name_en,
            "name_ru": s.name_ru,
            "category": s.category.value,
            "editions": [
                {
                    "id": e.id,
                    "region": e.region,
                    "effective_from": e.effective_from.isoformat(),
                    "effective_to": e.effective_to.isoformat() if e.effective_to else None,
                    "coverage": e.coverage.value,
                }
                for e in s.editions
            ],
        }
        for s in catalog.services
    ]
    if args.json:
        _print_json(rows)
        return 0
    width = max(len(s.id) for s in catalog.services)
    for s in catalog.services:
        print(f"{s.id:<{width}}  {s.category.value:<30}  {s.name_en}")
    return 0


# ----------------------------------------------------------------------------- show


def _show(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog()
        service = catalog.service(args.service)
    except UnknownService as exc:
        return _fail(f"{exc}; see `qyzmet catalog list`", USAGE_ERROR)
    except CatalogError as exc:
        return _fail(str(exc), CANNOT_ANSWER)
    if args.json:
        _print_json({**service.model_dump(mode="json"), "standard_in_catalog": service.standard_in_catalog})
        return 0
    print("\n".join(_describe_service(catalog, service)))
    return 0


def _describe_service(catalog: Catalog, service: Service) -> list[str]:
    out = [f"{service.id}: {service.name_en}", f"  kk: {service.name_kk}"]
    if service.name_ru:
        out.append(f"  ru: {service.name_ru} (not in the seeds)")
    out.append(f"  category: {service.category.value}")
    if service.subtypes:
        out.append(f"  subtypes: {', '.join(service.subtypes)}")
    out.extend(f"  note: {n}" for n in service.notes)
    missing = service.standard_missing()
    if missing is not None:
        out.append(f"  CANNOT BE APPLIED FOR: {missing} (README, 'Adding an edition')")
    for edition in service.editions:
        out.extend(_describe_edition(catalog, edition))
    return out


def _describe_edition(catalog: Catalog, e: Edition) -> list[str]:
    until = e.effective_to.isoformat() if e.effective_to else "(repeal not in the seeds)"
    out = [
        "",
        f"== edition {e.id} [{e.region}] {e.effective_from.isoformat()} .. {until}",
        f"   {e.doc_type.value}, {e.coverage.value}; act {e.act}: {catalog.legal_act(e.act).issuer} "
        f"No. {catalog.legal_act(e.act).number} of {catalog.legal_act(e.act).date.isoformat()}",
        f"   authority: {e.authority}",
        f"   source: seeds/{e.source.file} {e.source.lines}"
        + (f" (main text {e.source.main_text_lines})" if e.source.main_text_lines else ""),
        f"   in force: {e.in_force_note}",
    ]
    if e.coverage.value == "amendment_only":
        out.append("   (only an amendment of this version is in the seeds: no documents, term or steps)")
    if e.channels:
        out.append(f"   channels: {', '.join(e.channels)}")
    if e.sla is not None:
        sla = e.sla
        base = f"{sla.total} {sla.unit.value}" if sla.total is not None and sla.unit else "not in the seeds"
        if sla.term_parameter:
            base = f"parameter {sla.term_parameter} (per district; `qyzmet params set`)"
        start = sla.starts_at.value if sla.starts_at else "?"
        out.append(
            f"   SLA: {base}, clock starts at {start}"
            + (f"; excludes {', '.join(sla.excludes)}" if sla.excludes else "")
        )
        for c in sla.per_channel:
            term = f"{c.total} {c.unit.value}" if c.total is not None and c.unit else "no term in the seeds"
            out.append(
                f"     via {c.channel}: {term}"
                + (f" (excludes {', '.join(c.excludes)})" if c.excludes else "")
            )
        for s in sla.per_subtype:
            out.append(f"     subtype {s.subtype}: {s.total} {s.unit.value}")
        if sla.extension:
            ext = sla.extension
            out.append(f"     extension: up to {ext.max_total} {ext.unit.value} if {ext.condition}")
        for f in sla.forwarding:
            term = f"{f.max} {f.unit.value}" if f.max and f.unit else (f.cadence or "")
            cited = f" ({f.source})" if f.source else ""
            out.append(f"     forwarding {f.from_channel} -> {f.to}: {term}{cited}")
        if sla.notify_after_decision:
            n = sla.notify_after_decision
            out.append(f"     notify after decision: {n.max} {n.unit.value} ({n.who})")
        if sla.note:
            out.append(f"     note: {sla.note}")
    if e.documents:
        out.append("   documents:")
        for d in e.documents:
            flag = "required" if d.required else "optional"
            cond = f" - when: {d.condition_text}" if d.condition_text else ""
            out.append(f"     - {d.id} ({flag}){cond}")
    if e.representation is not None and e.representation.document is not None:
        rep = e.representation
        out.append(
            f"   representative: power of attorney {rep.document} required,"
            f" notarisation {rep.notarised.value} ({rep.source})"
        )
    if e.steps:
        out.append("   steps:")
        for i, step in enumerate(e.steps, 1):
            dur = f" [{step.duration.max} {step.duration.unit.value}]" if step.duration else ""
            out.append(f"     {i}. {' | '.join(step.actors)}: {step.action}{dur}")
    if e.inspection:
        out.append(f"   inspection: {e.inspection.actor or 'actor not named'}: {e.inspection.what}")
    if e.refusal_grounds:
        out.append("   refusal grounds:")
        out.extend(f"     - {g.id}: {g.text}" for g in e.refusal_grounds)
    if e.termination_grounds:
        out.append("   termination grounds:")
        out.extend(f"     - {g.id} ({g.effect.value}): {g.text}" for g in e.termination_grounds)
    if e.rules:
        out.append("   rules:")
        for r in e.rules:
            params = f" [parameters: {', '.join(r.parameters)}]" if r.parameters else ""
            out.append(f"     - {r.id}: {r.text}{params}")
    if e.complaints:
        out.append(f"   complaints to: {'; '.join(e.complaints.to) or '(no procedure in this text)'}")
        review = e.complaints.review_term
        out.append(f"     review term: parameter {review.parameter} ({review.legal_reference})")
    out.extend(f"   note: {n}" for n in e.notes)
    return out


# ----------------------------------------------------------------------------- due


def _parse_at(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def _due(args: argparse.Namespace) -> int:
    try:
        catalog = load_catalog()
        service = catalog.service(args.service)
        region = catalog.region(args.region)
        catalog.channel(args.channel)
    except (UnknownService, UnknownRegion, UnknownChannel) as exc:
        return _fail(str(exc), USAGE_ERROR)
    except CatalogError as exc:
        return _fail(str(exc), CANNOT_ANSWER)
    try:
        at = _parse_at(args.at)
    except ValueError:
        return _fail(f"--at {args.at!r} is not an ISO 8601 date-time", USAGE_ERROR)
    tz = catalog.time_zone(region.id)
    assumed_local = at.tzinfo is None
    if assumed_local:
        at = at.replace(tzinfo=tz)
    local_date = at.astimezone(tz).date()
    try:
        adoptions = () if args.no_adoptions else _adoptions(catalog)
        choice = catalog.resolve_edition(service.id, region.id, local_date, adoptions)
        edition = choice.edition
        resolved = resolve_term(service, edition, args.channel, args.subtype)
    except (ChannelNotOffered, UnknownSubtype) as exc:
        return _fail(str(exc), USAGE_ERROR)
    except (NoEditionInForce, SlaNotDefined, AmbiguousEdition, AmbiguousSla) as exc:
        return _fail(str(exc), CANNOT_ANSWER)
    except CatalogError as exc:
        return _fail(str(exc), CANNOT_ANSWER)

    policy = catalog.deadline_policy
    due = add_term(at, resolved.term, tz, policy=policy)
    try:
        extended: datetime | None = extended_due_at(
            service, edition, args.channel, at, tz, args.subtype, policy=policy
        )
    except NoExtensionAllowed:
        extended = None
    assert edition.sla is not None
    term = resolved.term
    result: dict[str, Any] = {
        "service": service.id,
        "region": region.id,
        "channel": args.channel,
        "subtype": args.subtype,
        "at": at.astimezone(tz).isoformat(),
        "at_assumed_local_time": assumed_local,
        "time_zone": region.time_zone,
        "edition": edition.id,
        "edition_basis": choice.basis.value,
        "adoption": choice.adoption.model_dump(mode="json") if choice.adoption else None,
        "term": {
            "amount": term.amount,
            "unit": term.unit.value,
            "counted_as": counting_unit(term.unit, policy).value,
            "excludes": sorted(x.value for x in term.excludes),
            "source": resolved.source.value,
            "note": resolved.note,
        },
        "starts_at": edition.sla.starts_at.value if edition.sla.starts_at else None,
        "due": due.isoformat(),
        "due_local": due.astimezone(tz).isoformat(),
        "extended_due": extended.isoformat() if extended else None,
        "policy": policy.model_dump(mode="json"),
        "citation": {"file": edition.source.file, "lines": edition.source.lines},
    }
    if args.json:
        _print_json(result)
        return 0
    print(
        f"{service.id} via {args.channel} in {region.id} ({region.time_zone}), clock started {result['at']}"
    )
    basis = "adopted (example)" if choice.adoption and choice.adoption.example else choice.basis.value
    print(f"  edition: {edition.id} [{basis}], seeds/{edition.source.file} {edition.source.lines}")
    counted = (
        ""
        if term.unit == counting_unit(term.unit, policy)
        else f" (counted as {counting_unit(term.unit, policy).value})"
    )
    source = resolved.source.value
    print(f"  term: {term.amount} {term.unit.value}{counted} from {result['starts_at']} [{source}]")
    print(f"  due: {result['due_local']}  (UTC {result['due']})")
    if extended:
        print(f"  due if extended: {extended.astimezone(tz).isoformat()}")
    return 0
