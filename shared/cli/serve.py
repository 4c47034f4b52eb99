"""`qyzmet serve <service>-api|<service>-worker`: run one process of one service.

The processes are those the installed services register (`shared.runtime.registry`); each
main takes no arguments and reads its configuration from the environment. Only the process
that runs is imported.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from shared.runtime.registry import load_target, registered_processes


def _serve(args: argparse.Namespace) -> int:
    target = registered_processes().get(args.process)
    if target is None:
        print(f"qyzmet: no installed service provides {args.process!r}", file=sys.stderr)
        return 2
    from shared.logging import PROCESS_ENV
    from shared.runtime.event_loop import install_event_loop

    os.environ[PROCESS_ENV] = args.process  # every log line names the process

    install_event_loop()
    load_target(target)()
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="run one service process")
    parser.add_argument("process", choices=sorted(registered_processes()))
    parser.set_defaults(handler=_serve)
