"""`qyzmet token` signs with the secret the running system's services accept, found by the one rule
of `shared.runtime.running.current_installation`: never a stale `./.data/token_secret` while a
system runs elsewhere, never a new secret made beside a running system that took its own from
`QYZMET_TOKEN_SECRET` (the command stops, exit 2, naming the variable)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.auth.tokens import SECRET_FILE, local_secret
from shared.cli.token import token_secret
from shared.runtime.command_secrets import SecretNotFound
from shared.runtime.running import RunningSystem, record_running

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A shell in a project folder of its own, with a pointer of its own and no variables set."""
    for name in ("QYZMET_DATA_DIR", "QYZMET_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    here = tmp_path / "project"
    here.mkdir()
    monkeypatch.chdir(here)
    return here


def _record(data_dir: Path, **flags: bool) -> None:
    record_running(
        RunningSystem(pid=os.getpid(), data_dir=str(data_dir), kafka_bootstrap_servers="127.0.0.1:1", **flags)
    )


def _token(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "token", "--role", "clerk", "--office", "kar-dept-01"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=cwd, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_a_stale_local_secret_does_not_win_over_the_running_system(folder: Path, tmp_path: Path) -> None:
    stale = local_secret(folder / ".data")
    live = tmp_path / "live"
    accepted = local_secret(live)
    _record(live)
    assert token_secret() == accepted != stale


def test_the_environments_secret_wins(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _record(tmp_path / "live", token_secret_from_env=True)
    monkeypatch.setenv("QYZMET_TOKEN_SECRET", "the system's secret")
    assert token_secret() == "the system's secret"


def test_a_system_with_the_environments_secret_needs_the_variable(folder: Path, tmp_path: Path) -> None:
    live = tmp_path / "live"
    _record(live, token_secret_from_env=True)  # this test's process: alive while the command runs
    with pytest.raises(SecretNotFound, match="set QYZMET_TOKEN_SECRET"):
        token_secret()
    done = _token(folder)
    assert done.returncode == 2 and not done.stdout, done.stderr
    assert "set QYZMET_TOKEN_SECRET" in done.stderr and str(live) in done.stderr
    assert not (live / SECRET_FILE).exists() and not (folder / ".data").exists()  # no secret made


def test_with_none_running_a_secret_is_made_and_said(folder: Path) -> None:
    done = _token(folder)
    assert done.returncode == 0 and done.stdout.count(".") == 2, done.stderr
    assert "made a new token secret" in done.stderr
    assert (folder / ".data" / SECRET_FILE).exists()
    again = _token(folder)
    assert again.returncode == 0 and "made a new" not in again.stderr
