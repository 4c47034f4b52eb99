"""A system test's `qyzmet run` records itself where the test looks, never in the user's state:
`run_env` gives every run its own XDG_STATE_HOME (the per-user pointer to the running system,
`shared.runtime.running.pointer_path`), unless the test names one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.infra import KafkaHandle
from tests.system.processes import run_env

BROKER = KafkaHandle(bootstrap_servers="127.0.0.1:9", kind="noida")
URL = "postgresql://nobody@127.0.0.1:9/none"


def _pointer(env: dict[str, str]) -> Path:
    """Where a process with `env` (a `qyzmet run`) writes the pointer to the running system."""
    probe = "from shared.runtime.running import pointer_path; print(pointer_path())"
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return Path(result.stdout.strip())


def test_a_runs_pointer_is_in_the_tests_folder_not_the_users_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    env, _ = run_env(URL, BROKER, tmp_path / "data", "p.", "s" * 40)
    pointer = _pointer(env)
    assert pointer.is_relative_to(tmp_path), pointer
    assert not pointer.is_relative_to(Path.home() / ".local" / "state")


def test_a_state_folder_the_test_names_wins(tmp_path: Path) -> None:
    env, _ = run_env(URL, BROKER, tmp_path / "data", "p.", "s" * 40, XDG_STATE_HOME=str(tmp_path / "mine"))
    assert _pointer(env) == tmp_path / "mine" / "qyzmet" / "current"
