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
import json
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the catalog (its models, data and deadline engine) loads when a command runs
    from shared.catalog import AdoptionRecord
    from shared.catalog.catalog import Catalog

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
    import asyncio

    from shared.catalog import load_example_adoptions

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
    from shared.catalog import CatalogError, load_catalog

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
    from shared.catalog import CatalogError, UnknownService, load_catalog
    from shared.cli.catalog_text import describe_service

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
    print("\n".join(describe_service(catalog, service)))
    return 0


# ----------------------------------------------------------------------------- due


def _parse_at(text: str) -> datetime:
    return datetime.fromisoformat(text.strip())


def _due(args: argparse.Namespace) -> int:
    from shared.catalog import (
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
        resolve_term,
    )
    from shared.catalog.deadlines import counting_unit
    from shared.catalog.errors import NoExtensionAllowed

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
