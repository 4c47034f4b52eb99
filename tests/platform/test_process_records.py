"""Each process's metrics address is recorded under a name no other live process holds: a
standalone `qyzmet simulate` beside the system's simulator leaves the system's entry in place."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.logging import PROCESS_ENV
from shared.runtime.metrics_listener import MetricsSettings, start_metrics_listener
from shared.runtime.running import recorded_processes


@pytest.fixture
def other_process() -> Iterator[int]:
    """The pid of a live process that is not this one (the system's simulator, say)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


def _record(data_dir: Path, name: str, pid: int, url: str) -> None:
    folder = data_dir / "processes"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({"pid": pid, "metrics_url": url}), encoding="utf-8")


def _settings(data_dir: Path) -> MetricsSettings:
    return MetricsSettings().model_copy(update={"data_dir": data_dir, "port": 0, "host": "127.0.0.1"})


def test_a_second_process_of_the_same_name_records_beside_the_live_one(
    tmp_path: Path, other_process: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PROCESS_ENV, raising=False)
    system_url = "http://127.0.0.1:1/metrics"
    _record(tmp_path, "simulator", other_process, system_url)  # the system's simulator
    assert recorded_processes(tmp_path) == {"simulator": system_url}

    url = start_metrics_listener("simulator", _settings(tmp_path))
    assert recorded_processes(tmp_path) == {"simulator": system_url, "simulator-2": url}
    again = start_metrics_listener("simulator", _settings(tmp_path))  # this process again: its own entry
    assert recorded_processes(tmp_path) == {"simulator": system_url, "simulator-2": again}


def test_a_dead_processs_name_is_taken_over(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PROCESS_ENV, raising=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _record(tmp_path, "simulator", dead.pid, "http://127.0.0.1:1/metrics")
    url = start_metrics_listener("simulator", _settings(tmp_path))
    assert recorded_processes(tmp_path) == {"simulator": url}
