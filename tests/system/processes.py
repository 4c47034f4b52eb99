"""Start `qyzmet run` for a system test and stop it with everything it started, even when the
test fails: the run gets a session of its own, and the teardown ends that whole process group
(a plain kill of the parent would leave its children, e.g. the console and the simulator, running)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from typing import IO, Any


def start_run(
    argv: Sequence[str], env: Mapping[str, str], log: IO[Any], **kwargs: Any
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(argv), env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
    )


def stop_run(process: subprocess.Popen[bytes], grace_s: float = 60.0) -> None:
    """Ctrl-C (the run stops its children and the servers it started), then SIGKILL to the group."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
    if process.poll() is None:
        process.wait()
