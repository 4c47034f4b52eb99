"""The `qyzmet` console entry point: one command for every tool of the platform.

Each sub-command lives in its own module under `shared.cli` and exposes
`register(subparsers)`; installed packages add commands through the `qyzmet.commands` entry
points (`name = "package.plugin:register"`, a module that imports only argparse at start).

Start-up stays fast (`qyzmet --help` well under a second): the table below gives every built-in
command's name and one-line help, so the top-level help imports no command module, and a
command line imports only the module of the command it names. `build_parser()` without
arguments registers every command in full (for documentation and tests).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "infra": ("shared.cli.infra", "start/stop local PostgreSQL and Kafka for `make run`"),
    "catalog": ("shared.cli.catalog", "browse the service catalog and compute due dates"),
    "params": ("shared.cli.params", "effective-dated parameter values (audited)"),
    "adoptions": ("shared.cli.params", "which edition a region applies from when (audited)"),
    "token": ("shared.cli.token", "print a bearer token the services accept"),
    "serve": ("shared.cli.serve", "run one service process"),
    "run": ("shared.cli.run", "run the whole system locally until Ctrl-C"),
    "up": ("shared.cli.up", "start the whole system (`--detach`: in the background)"),
    "down": ("shared.cli.up", "stop the system `qyzmet up --detach` started, and wait"),
    "replay": (
        "shared.cli.replay",
        "rebuild projections into a fresh schema (and compare them with the live ones)",
    ),
    "status": ("shared.cli.status", "an application as it stood at a moment (--as-of)"),
    "audit": ("shared.cli.audit", "audit-trail tools"),
    "topics": ("shared.cli.topics", "topics of the event contract"),
    "contracts": ("shared.cli.contracts", "the event contract documents"),
    "dlq": ("shared.cli.dlq", "dead-letter topics"),
    "db": ("shared.cli.db", "database roles of least privilege and migrations"),
    "report": ("shared.cli.report", "reports from the event logs"),
}
"""command -> (module that registers it, its one-line help)."""

ENTRY_POINT_GROUP = "qyzmet.commands"


def _register_module(
    module_name: str, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]
) -> None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return  # an optional part that is not there: the others still work
        raise
    module.register(subparsers)


def _register_plugins(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from importlib.metadata import entry_points  # reads every installed package's entry points

    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in subparsers.choices:
            entry.load()(subparsers)


def _chosen(argv: Sequence[str]) -> str | None:
    """The command a command line names (its first word that is not an option)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: in full for the command it names, one help line for the others
    (plugins' commands only when it names none of the table's: reading the installed packages'
    entry points is a good part of a built-in command's start); every command in full when `argv`
    is None."""
    parser = argparse.ArgumentParser(prog="qyzmet", description="Qyzmet platform command line")
    subparsers = parser.add_subparsers(dest="command", required=True)
    chosen = None if argv is None else _chosen(argv)
    if argv is None:
        for module_name in dict.fromkeys(module for module, _ in COMMANDS.values()):
            _register_module(module_name, subparsers)
        _register_plugins(subparsers)
        return parser
    if chosen in COMMANDS:
        _register_module(COMMANDS[chosen][0], subparsers)
    for name, (_, help_text) in COMMANDS.items():
        if name not in subparsers.choices:
            subparsers.add_parser(name, help=help_text)
    if chosen not in COMMANDS:  # the top-level help, a plugin's command, or a word to refuse
        _register_plugins(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    args = parser.parse_args(words)
    handler = getattr(args, "handler", None)
    if handler is None:  # a built-in command whose module is not installed
        parser.error(f"command {args.command!r} is not available in this installation")
    result = handler(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
