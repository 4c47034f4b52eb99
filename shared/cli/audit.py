"""`qyzmet audit verify|export`: check every audit chain against the key and the kept anchors;
export the records of a period.

export --iin: the records naming the ИИН's pseudonym under the installation's audit keys, the
current and the previous ones (`shared.audit.pseudonyms`): who read that person's data. The ИИН is
never printed or logged.

verify: every chain of every audited schema (or `--schema`), end to end, with the key of the
installation it talks to (`QYZMET_AUDIT_KEY`, else the running system's or the data dir's key file:
`shared.runtime.command_secrets`)
and the anchors published on `audit.v1` (read from offset 0 when a broker is known, and kept in
the anchor file) plus those already in the anchor file, and the records published on `audit.v1`
(a record the topic holds that the database lacks or holds otherwise is a break; one long past
the relay's interval the topic lacks is reported UNPUBLISHED). Exit 1 on any break; exit 3 when no
chain is broken but one has records no anchor covers (the broker away, the anchor file empty:
a cut-off tail could not be seen), unless `--allow-unanchored`; exit 4 when a broker is known but
`audit.v1` could not be read (EVIDENCE MISSING: a tail cut after the last kept anchor would pass),
unless `--allow-missing-evidence` (`--no-kafka` does not read it at all); exit 5 when a chain's
records run on past its newest anchor, the first made more than QYZMET_AUDIT_STALE_AFTER_INTERVALS
anchor intervals (QYZMET_AUDIT_ANCHOR_INTERVAL_S) ago: ANCHORING STALE (`shared.audit.staleness`).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from shared.cli import checked_database_url

if TYPE_CHECKING:  # the audit, database and Kafka code loads when a command runs, not for `--help`
    from shared.audit.anchors import Anchor
    from shared.audit.chain_macs import ChainMacs
    from shared.audit.export import ExportFilter, Writer
    from shared.audit.keyring import AuditKeyRing
    from shared.audit.keys import AuditKey
    from shared.audit.published import Published
    from shared.audit.staleness import StaleChain
    from shared.audit.verify import VerificationResult

AUDIT_TOPIC = "audit.v1"
"""`shared.audit.relay.AUDIT_TOPIC`, named here without importing the relay (a test keeps them equal)."""
CATALOG_SCHEMA = "catalog"
"""`shared.catalog.store.CATALOG_SCHEMA`, named here without importing the catalog (likewise)."""

ANCHOR_FILE = "audit_anchors.jsonl"
UNANCHORED_EXIT = 3
"""`verify`'s exit status when every chain is consistent but one is not anchored."""
EVIDENCE_MISSING_EXIT = 4
"""`verify`'s exit status when no chain is broken but `audit.v1` could not be read."""
STALE_EXIT = 5
"""`verify`'s exit status when no chain is broken but one's anchoring stopped (stale)."""


def default_anchor_file() -> Path:
    """`<data dir>/audit_anchors.jsonl` of the installation the command talks to
    (`shared.runtime.running.current_installation`)."""
    from shared.runtime.running import current_installation

    return current_installation().data_dir / ANCHOR_FILE


def _installation_key_ring() -> AuditKeyRing:
    """The audit key the command verifies with and the installation's previous keys (raises
    `AuditKeyMissing`)."""
    from shared.audit.keyring import audit_key_ring
    from shared.audit.keys import find_audit_key

    return audit_key_ring(find_audit_key(), default_anchor_file().parent)


def _evidence(args: argparse.Namespace) -> tuple[list[Anchor], Published | None, bool]:
    """The anchors kept in the anchor file, plus those on the topic (added to the file); the
    records' MACs published on the topic (None when it was not read); whether reading it failed."""
    from shared.audit.anchors import keep_anchors, read_anchor_file
    from shared.audit.published import published_audit
    from shared.cli.topics import broker_of
    from shared.settings import PlatformSettings

    path = Path(args.anchors) if args.anchors else default_anchor_file()
    records: Published | None = None
    missing = False
    if not args.no_kafka:
        settings = PlatformSettings()
        broker = broker_of(settings)
        if broker is not None:
            bootstrap, prefix = broker
            try:
                published = published_audit(bootstrap, prefix + AUDIT_TOPIC)
                added = keep_anchors(path, published.anchors)
            except Exception as exc:  # the broker away: the kept anchors still count, not enough
                missing = True
                print(
                    f"audit: EVIDENCE MISSING: anchors and records not read from {prefix + AUDIT_TOPIC}"
                    f" ({type(exc).__name__}: {exc}); a tail cut after the last kept anchor cannot be seen",
                    file=sys.stderr,
                )
            else:
                records = published
                print(
                    f"audit: {published.record_count} published records read and {added} new anchors from"
                    f" {prefix + AUDIT_TOPIC} kept in {path}",
                    file=sys.stderr,
                )
        else:
            print("audit: no broker known; only the anchor file's anchors are used", file=sys.stderr)
    return read_anchor_file(path), records, missing


async def _verify(
    url: str,
    schemas: list[str],
    key: AuditKeyRing,
    evidence: tuple[list[Anchor], Published | None, bool],
    legacy: bool,
) -> tuple[list[VerificationResult], list[StaleChain]]:
    from shared.audit.staleness import StalenessSettings, stale_chains
    from shared.audit.verify import audited_schemas, verify_schema
    from shared.db.pool import connect

    anchors, published, _ = evidence

    def macs(schema: str) -> dict[str, ChainMacs] | None:
        return None if published is None else published.of_schema(schema)

    conn = await connect(url)
    try:
        names = schemas or sorted({*await audited_schemas(conn), *(a.schema for a in anchors)})
        results = [
            await verify_schema(conn, name, key, anchors, accept_legacy=legacy, published=macs(name))
            for name in names
        ]
        reports = [chain for result in results for chain in result.chains]
        after = StalenessSettings().stale_after
        return results, await stale_chains(conn, reports, anchors, now=datetime.now(UTC), stale_after=after)
    finally:
        await conn.close()


def _audit_verify(args: argparse.Namespace) -> int:
    import asyncio

    from shared.audit.keys import AuditKeyMissing
    from shared.settings import PlatformSettings

    url = checked_database_url(PlatformSettings())
    if not url:
        return 2
    try:
        key = _installation_key_ring()
    except AuditKeyMissing as exc:
        print(f"qyzmet: {exc}", file=sys.stderr)
        return 2
    evidence = _evidence(args)
    results, stale = asyncio.run(_verify(url, args.schema or [], key, evidence, args.accept_legacy))
    chains = [chain for result in results for chain in result.chains]
    if args.json:
        print(json.dumps([asdict(chain) for chain in chains]))
    for chain in chains if not args.json else []:
        where = f"{chain.schema}/{chain.chain}"
        if chain.broken is not None:
            print(f"{where}: BROKEN at record {chain.broken.seq}: {chain.broken.reason}")
        elif not chain.anchored:
            print(
                f"{where}: NOT ANCHORED ({chain.checked} records, no anchor covers them: consistent"
                " in the database, but a cut-off tail or a rewrite with the key could not be seen)"
            )
        else:
            print(
                f"{where}: intact ({chain.checked} records, {chain.anchors} anchors and"
                f" {chain.published} published records matched)"
            )
        if chain.unpublished:
            print(
                f"{where}: UNPUBLISHED: {chain.unpublished} records long past the relay's interval are not"
                f" on {AUDIT_TOPIC} (the first: record {chain.first_unpublished_seq}); is the relay running?"
            )
    for late in stale:
        print(late.describe(), file=sys.stderr if args.json else sys.stdout)
    broken = sum(chain.broken is not None for chain in chains)
    unanchored = sum(chain.broken is None and not chain.anchored for chain in chains)
    if evidence[2]:
        print(f"audit: EVIDENCE MISSING: {AUDIT_TOPIC} was not read", file=sys.stderr)
    print(
        f"audit: {len(chains)} chains, {broken} broken, {unanchored} not anchored, {len(stale)} stale,"
        f" key {key.current.kid}"
        + (f" (previous {', '.join(k.kid for k in key.previous)})" if key.previous else ""),
        file=sys.stderr,
    )
    if broken:
        return 1
    if evidence[2] and not args.allow_missing_evidence:
        return EVIDENCE_MISSING_EXIT
    if stale:
        return STALE_EXIT
    return UNANCHORED_EXIT if unanchored and not args.allow_unanchored else 0


async def _export(
    url: str, schemas: list[str], where: ExportFilter, writer: Writer, iin: str | None, keys: list[AuditKey]
) -> int:
    """The records of `schemas` (all audited ones when empty) that `where` selects; with `iin`,
    only that person's (their applications looked up in every audited schema)."""
    from shared.audit.export import exported_rows
    from shared.audit.person import person_marks
    from shared.audit.verify import audited_schemas
    from shared.db.pool import connect

    conn = await connect(url)
    written = 0
    try:
        every = await audited_schemas(conn)
        if iin is not None:
            person = await person_marks(conn, every, keys, iin)
            if not person.applicant_indexes:
                print(
                    "audit: no applicant index (intake's status view) is visible to this login: only"
                    " records holding the person's pseudonym are exported, not those of their applications",
                    file=sys.stderr,
                )
            where = dataclasses.replace(where, person=person)
        async for row in exported_rows(conn, schemas or every, where):
            writer.write(row)
            written += 1
    finally:
        await conn.close()
    return written


def _moment(text: str) -> datetime:
    """An ISO 8601 date or time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _iin(text: str) -> str:
    """An ИИН for `export --iin`; refused without repeating it (personal data stays off screens and logs)."""
    from shared.identity import is_valid_iin

    if not is_valid_iin(text):
        raise argparse.ArgumentTypeError("not a valid ИИН (12 digits, valid birth date and check digit)")
    return text


def _audit_export(args: argparse.Namespace) -> int:
    import asyncio

    from shared.audit.export import ExportFilter, Writer
    from shared.audit.keys import AuditKeyMissing
    from shared.settings import PlatformSettings

    url = checked_database_url(PlatformSettings())
    if not url:
        return 2
    try:  # the ИИН's pseudonyms under the installation's current and previous audit keys
        keys = list(_installation_key_ring().keys) if args.iin else []
    except AuditKeyMissing as exc:
        print(f"qyzmet: {exc}", file=sys.stderr)
        return 2
    where = ExportFilter(args.start, args.end, args.office, args.actor)
    with open(args.out, "w", encoding="utf-8", newline="") if args.out else _stdout() as out:
        written = asyncio.run(
            _export(url, args.schema or [], where, Writer(out, args.format), args.iin, keys)
        )
    print(f"audit: {written} records exported", file=sys.stderr)
    return 0


def _stdout() -> contextlib.nullcontext[TextIO]:
    return contextlib.nullcontext(sys.stdout)


async def publish_schemas(database_url: str, schemas: list[str]) -> str:
    """Publish the schemas' pending audit records and anchors; a line saying what went out."""
    from shared.audit.relay import publish_pending
    from shared.cli.topics import broker_of
    from shared.db.pool import connect
    from shared.settings import PlatformSettings

    settings = PlatformSettings()
    broker = broker_of(settings)
    if broker is None:
        return "audit: no broker known; the records go out with the next publish"
    bootstrap, prefix = broker
    conn = await connect(database_url)
    try:
        done = [
            await publish_pending(conn, schema, bootstrap, prefix + AUDIT_TOPIC,
                                  idempotent=settings.kafka_idempotent_producer)
            for schema in schemas
        ]  # fmt: skip
    finally:
        await conn.close()
    records, anchors = sum(d[0] for d in done), sum(d[1] for d in done)
    return f"audit: {records} records and {anchors} anchors published on {prefix + AUDIT_TOPIC}"


def _audit_publish(args: argparse.Namespace) -> int:
    import asyncio

    from shared.settings import PlatformSettings

    url = checked_database_url(PlatformSettings())
    if not url:
        return 2
    print(asyncio.run(publish_schemas(url, args.schema or [CATALOG_SCHEMA])), file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="audit-trail tools")
    commands = parser.add_subparsers(dest="audit_command", required=True)
    verify = commands.add_parser("verify", help="verify every audit chain end to end and against its anchors")
    verify.add_argument("--schema", action="append", help="only this service schema (repeatable)")
    verify.add_argument("--anchors", help=f"the anchor file kept (default <system data dir>/{ANCHOR_FILE})")
    verify.add_argument(
        "--no-kafka", action="store_true", help=f"read neither anchors nor records from {AUDIT_TOPIC}"
    )
    verify.add_argument(
        "--accept-legacy", action="store_true", help="accept unkeyed records made before keyed chains"
    )
    verify.add_argument(
        "--allow-unanchored",
        action="store_true",
        help=f"exit 0, not {UNANCHORED_EXIT}, when a consistent chain has no anchor (still reported)",
    )
    verify.add_argument(
        "--allow-missing-evidence",
        action="store_true",
        help=f"exit 0, not {EVIDENCE_MISSING_EXIT}, when {AUDIT_TOPIC} could not be read (still reported)",
    )
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=_audit_verify)
    publish = commands.add_parser(
        "publish", help="publish the pending audit records and anchors of schemas no worker relays"
    )
    publish.add_argument("--schema", action="append", help=f"schema (repeatable; default {CATALOG_SCHEMA})")
    publish.set_defaults(handler=_audit_publish)
    export = commands.add_parser("export", help="the audit records of a period (streamed)")
    when = "ISO 8601 date or time (no zone: UTC)"
    export.add_argument("--from", dest="start", type=_moment, required=True, help=f"{when}, inclusive")
    export.add_argument("--to", dest="end", type=_moment, required=True, help=f"{when}, exclusive")
    export.add_argument("--office")
    export.add_argument("--actor")
    export.add_argument(
        "--iin",
        type=_iin,
        help="only this person's records: reads by or of their ИИН (matched by its pseudonym under the"
        " audit keys, current and previous) and actions on their applications (found in intake's"
        " status view); the ИИН is never printed",
    )
    export.add_argument("--schema", action="append", help="only this service schema (repeatable)")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.set_defaults(handler=_audit_export)
