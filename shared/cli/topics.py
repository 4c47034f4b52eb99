"""`qyzmet topics create|list`: the event contract's topics, created explicitly."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shared.messaging.topics import contract_topics, ensure_topics
from shared.settings import PlatformSettings


def _create(args: argparse.Namespace) -> int:
    settings = PlatformSettings()
    if not settings.kafka_bootstrap_servers:
        print('qyzmet: KAFKA_BOOTSTRAP_SERVERS is not set (run `eval "$(qyzmet infra up)"`)', file=sys.stderr)
        return 2
    specs = contract_topics(args.partitions or settings.topic_partitions, settings.topic_prefix)
    created = ensure_topics(settings.kafka_bootstrap_servers, specs)
    for spec in specs:
        state = "created" if spec.name in created else "exists"
        print(f"{spec.name:40} partitions={spec.partitions:<3} {state}")
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = PlatformSettings()
    for spec in contract_topics(settings.topic_partitions, settings.topic_prefix):
        print(f"{spec.name:40} partitions={spec.partitions}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("topics", help="topics of the event contract")
    commands = parser.add_subparsers(dest="topics_command", required=True)
    create = commands.add_parser("create", help="create missing topics (never relies on auto-creation)")
    create.add_argument(
        "--partitions", type=int, help="partitions of domain topics (default TOPIC_PARTITIONS)"
    )
    create.set_defaults(handler=_create)
    commands.add_parser("list", help="the topics the contract names").set_defaults(handler=_list)
