"""Service processes run on uvloop unless QYZMET_EVENT_LOOP=asyncio says otherwise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.runtime.event_loop import install_event_loop

PROBE = (
    "import asyncio\n"
    "from shared.runtime.event_loop import install_event_loop\n"
    "print(install_event_loop())\n"
    "async def main():\n"
    "    print(type(asyncio.get_running_loop()).__module__.split('.')[0])\n"
    "asyncio.run(main())\n"
)


def _probe(loop: str | None) -> list[str]:
    env = {"PATH": "/usr/bin:/bin"} | ({} if loop is None else {"QYZMET_EVENT_LOOP": loop})
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_a_process_runs_on_uvloop_by_default() -> None:
    assert _probe(None) == ["uvloop", "uvloop"]


def test_the_standard_loop_on_request() -> None:
    assert _probe("asyncio") == ["asyncio", "asyncio"]


def test_an_unknown_loop_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="QYZMET_EVENT_LOOP"):
        install_event_loop({"QYZMET_EVENT_LOOP": "trio"})
