"""A service worker's faust shell writes nothing to the terminal of its own: no spinner, no
cursor codes glued to the next log line (every line of `qyzmet run`'s output is JSON)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import faust

from shared.runtime.faust_shell import quiet_worker_shell


def test_the_worker_shell_writes_no_terminal_codes_at_start_or_stop(tmp_path: Path) -> None:
    app = faust.App("t-quiet-shell", broker="kafka://127.0.0.1:9", datadir=str(tmp_path), web_enabled=False)
    out = io.StringIO()
    shell = quiet_worker_shell(app, "info", stdout=out)
    asyncio.run(shell.on_execute())
    shell._on_startup_end_spinner()  # what faust does when start-up ends
    shell.on_worker_shutdown()
    shell._flag_as_shutdown_by_signal()
    assert out.getvalue() == "", repr(out.getvalue())
