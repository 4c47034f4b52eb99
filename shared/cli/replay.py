"""`qyzmet replay SERVICE|all`: rebuild a service's projections into a fresh schema, from its event
store or (`--source kafka`) from the contract topics from offset 0; `--verify` compares them with
the live projections key by key (exit 1 on any difference). The live schema is never written.

A large replay from the store folds in several processes (`--workers`, one per core by default),
each a share of the streams (`shared.replay.partitions`).

`qyzmet replay decisions --verify`: re-evaluate every recorded decision with its recorded inputs
and the rule edition in force at the time, and list those that would now differ, with why.

Each installed service names its projections in its plugin (`shared.runtime.registry`): a
mapping name -> `shared.replay.spec.ProjectionSpec`; only the services' projection modules are
imported, and only here.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.cli import checked_database_url

if TYPE_CHECKING:  # the replay engine, database and services' code load when a command runs
    from shared.replay.spec import ProjectionSpec
    from shared.settings import PlatformSettings

DECISIONS = "decisions"
MAX_WORKERS = 8
"""A replay's processes at most (each holds three connections and its own row cache)."""


def default_workers() -> int:
    """One replay process per core this process may run on (its CPU affinity), at most `MAX_WORKERS`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def known_projections() -> dict[str, ProjectionSpec]:
    """`<service>.<name>` -> spec, over every installed service."""
    from shared.runtime.registry import registered_services

    specs = (spec for plugin in registered_services() for spec in plugin.load_projections().values())
    return {spec.full_name: spec for spec in specs}


def chosen(projections: dict[str, ProjectionSpec], what: str) -> list[ProjectionSpec]:
    """`all`, a service (all its projections) or `<service>.<projection>`."""
    if what == "all":
        return list(projections.values())
    if what in projections:
        return [projections[what]]
    return [spec for spec in projections.values() if spec.service == what]


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 date or time") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _run(args: argparse.Namespace, specs: list[ProjectionSpec], settings: PlatformSettings) -> int:
    from shared.db.pool import create_pool
    from shared.replay.engine import fresh_schema_name, replay_from_kafka, replay_from_store, verify
    from shared.replay.progress import ProgressBar
    from shared.replay.spec import Parallel, Selection

    parallel = Parallel(settings.database_url or "", args.workers) if args.workers > 1 else None
    selection = Selection(office=args.office, service=args.service, since=args.since, until=args.until)
    pool = await create_pool(settings.database_url or "", min_size=1, max_size=4)
    differing = 0
    try:
        for spec in specs:
            into = args.into if len(specs) == 1 or not args.into else f"{args.into}_{spec.service}"
            target = fresh_schema_name(spec.service, into)
            if args.source == "kafka":
                if spec.from_kafka is None:
                    print(f"{spec.full_name}: skipped: not rebuildable from Kafka ({spec.kafka_note})")
                    continue
                bar = ProgressBar(spec.full_name, None)
                result = await replay_from_kafka(
                    pool, spec, target, settings.kafka_bootstrap_servers or "", settings.topic_prefix,
                    selection, bar,
                )  # fmt: skip
            else:
                totals: list[int] = []
                bar = ProgressBar(spec.full_name, None)

                def progress(count: int, bar: ProgressBar = bar, totals: list[int] = totals) -> None:
                    bar.total = totals[0] if totals else None
                    bar(count)

                result = await replay_from_store(pool, spec, target, selection, progress, totals, parallel)
            bar.close()
            rate = result.events / result.seconds if result.seconds else 0.0
            print(
                f"{spec.full_name}: {result.events} events replayed into schema {result.target}"
                f" in {result.seconds:.1f} s ({rate:,.0f} events/s)"
            )
            if args.verify:
                for table in await verify(pool, spec, result, from_kafka=args.source == "kafka"):
                    differing += table.differing
                    state = "identical" if not table.differing else f"{table.differing} differ"
                    print(f"  {table.table}: {table.compared} keys compared, {state}")
                    for difference in table.shown:
                        print(f"    {difference}")
                    if table.differing > len(table.shown):
                        print(f"    ... and {table.differing - len(table.shown)} more")
    finally:
        await pool.close()
    return 1 if differing else 0


def _replay_command(args: argparse.Namespace) -> int:
    import asyncio

    if args.target == DECISIONS:
        from shared.cli.decision_audit import audit_decisions

        audited: int = audit_decisions(args)
        return audited
    projections = known_projections()
    if args.list or not args.target:
        for name in sorted(projections):
            print(name)
        return 0
    import asyncpg

    from shared.replay.engine import ReplayRefused
    from shared.settings import PlatformSettings

    specs = chosen(projections, args.target)
    if not specs:
        services = sorted({spec.service for spec in projections.values()})
        print(
            f"qyzmet: nothing to replay for {args.target!r}; services: {services}, projections:"
            f" {sorted(projections)}, or 'all' / 'decisions'",
            file=sys.stderr,
        )
        return 2
    settings = PlatformSettings()
    database_url = checked_database_url(settings)
    if database_url is None:
        return 2
    settings = settings.model_copy(update={"database_url": database_url})
    if args.source == "kafka":
        from shared.cli.topics import NO_BROKER, broker_of

        broker = broker_of(settings)  # the environment's, else the running system's
        if broker is None:
            print(NO_BROKER, file=sys.stderr)
            return 2
        settings = settings.model_copy(
            update={"kafka_bootstrap_servers": broker[0], "topic_prefix": broker[1]}
        )
    try:
        return asyncio.run(_run(args, specs, settings))
    except ReplayRefused as exc:
        print(f"qyzmet replay: {exc}", file=sys.stderr)
        return 2
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError) as exc:
        print(
            f"qyzmet replay: {args.target}: the service's tables are missing in this database"
            f" ({type(exc).__name__}); has the service run against it?",
            file=sys.stderr,
        )
        return 2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replay", help="rebuild projections into a fresh schema (and compare them with the live ones)"
    )
    parser.add_argument(
        "target", nargs="?", help="a service, <service>.<projection>, 'all', or 'decisions'; omit to list"
    )
    parser.add_argument("--list", action="store_true", help="list the projections")
    parser.add_argument("--source", choices=("store", "kafka"), default="store", help="event store or topics")
    parser.add_argument("--into", help="the fresh schema (default <service>_replay_<UTC stamp>)")
    parser.add_argument("--from", dest="since", type=_time, help="streams begun at or after (ISO 8601)")
    parser.add_argument("--to", dest="until", type=_time, help="streams begun before (ISO 8601)")
    parser.add_argument("--office", help="streams of this office")
    parser.add_argument("--service", help="streams of this catalog service id")
    parser.add_argument(
        "--verify", action="store_true", help="compare with the live projection; exit 1 if any differ"
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=default_workers(),
        help="processes a large replay from the store is split into (default: one per core, at most"
        f" {MAX_WORKERS}; 1: none)",
    )
    parser.set_defaults(handler=_replay_command)


def _workers(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        workers = 0
    if not 1 <= workers <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes from 1 to {MAX_WORKERS}")
    return workers
