"""The `qyzmet` console entry point: one command for every tool of the platform.

Each sub-command lives in its own module under `shared.cli` and exposes
`register(subparsers)`; modules are imported lazily so that a missing optional part
never breaks the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "shared.cli.infra",
    "shared.cli.catalog",
    "shared.cli.params",
    "shared.cli.token",
    "shared.cli.serve",
    "shared.cli.run",
    "shared.cli.replay",
    "shared.cli.audit",
    "shared.cli.topics",
    "shared.cli.contracts",
    "shared.cli.dlq",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qyzmet", description="Qyzmet platform command line")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    result = handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
