"""The faust Worker a service worker runs under, writing nothing of its own to the terminal.

`quiet=True` silences faust's banner and `say`, but not its progress spinner: when start-up ends
the spinner's `finish()` writes a backspace and the show-cursor code (`\\b\\x1b[?25h`) to stdout
without a newline, whether or not stdout is a terminal, and they were glued to the start of the next
log line (of any process, in `qyzmet run`'s shared output), which then did not parse as JSON.
Without a spinner faust says "Ready" through logging instead, in the one log format."""

from __future__ import annotations

import sys
from typing import IO

import faust


def quiet_worker_shell(app: faust.App, loglevel: str, *, stdout: IO[str] | None = None) -> faust.Worker:
    """`faust.Worker` for `app` with the process's logging kept (no override), no banner, no spinner."""
    shell = faust.Worker(
        app, loglevel=loglevel, override_logging=False, quiet=True, stdout=stdout or sys.stdout
    )
    shell.spinner = None  # its start, stop and finish all check for None
    return shell
