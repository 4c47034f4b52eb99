"""One `qyzmet run` per data directory (`shared.runtime.run_lock`): a second run on a data
directory a live run holds is refused at once - exit 1 and a message naming the holder - before it
starts anything or touches the first one's `system.json`; the hold ends with its process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.runtime.run_lock import AlreadyRunning, hold_run_lock
from shared.runtime.running import SYSTEM_FILE, RunningSystem, record_running

ROOT = Path(__file__).resolve().parents[2]
HOLD = (
    "import sys, time; from pathlib import Path; from shared.runtime.run_lock import hold_run_lock\n"
    "h = hold_run_lock(Path(sys.argv[1])); print('held', flush=True); time.sleep(60)"
)


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        # were the run to go on, it would fail fast on these rather than start a system
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "QYZMET_NO_DOCKER": "1",
    }


def test_a_second_run_on_a_held_data_directory_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = hold_run_lock(data)  # the first run, alive
    record_running(RunningSystem(pid=os.getpid(), data_dir=str(data), kafka_bootstrap_servers="127.0.0.1:1"))
    recorded = (data / SYSTEM_FILE).read_text()
    try:
        second = subprocess.run(
            [sys.executable, "-m", "shared.cli.main", "run", "--data-dir", str(data), "--no-simulator"],
            env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        first.close()
    assert second.returncode == 1, second.stderr[-2000:]
    assert f"a system already runs from {data.resolve()} (pid {os.getpid()})" in second.stderr
    assert "qyzmet down" in second.stderr
    assert (data / SYSTEM_FILE).read_text() == recorded  # the first one's record is left alone


def test_the_hold_ends_with_its_process(tmp_path: Path) -> None:
    data = tmp_path / "data"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data)],
        env=_env(tmp_path), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning, match=f"pid {holder.pid}"):
            hold_run_lock(data)
    finally:
        holder.kill()
        holder.wait(30)
    hold_run_lock(data).close()  # killed, the lock is free again
