"""`qyzmet serve <service>-api|<service>-worker`: run one process of one service.

Each service provides `services.<service>.entrypoints.api:main` and
`services.<service>.entrypoints.worker:main` (no arguments; configuration from the
environment).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Any

SERVICES = ("intake", "decision", "notification", "complaints")
PROCESSES = tuple(f"{service}-{kind}" for service in SERVICES for kind in ("api", "worker"))


def _serve(args: argparse.Namespace) -> int:
    service, kind = args.process.rsplit("-", 1)
    module_name = f"services.{service}.entrypoints.{kind}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            print(f"qyzmet: {args.process} is not implemented yet ({module_name} missing)", file=sys.stderr)
            return 2
        raise
    module.main()
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run one service process")
    parser.add_argument("process", choices=PROCESSES)
    parser.set_defaults(handler=_serve)
