"""Which installation a `qyzmet` command talks to (`shared.runtime.running.current_installation`),
one rule for its database, broker, audit key and anchor file: `QYZMET_DATA_DIR` if set; else a
live system recorded in `./.data`; else the live system the per-user pointer names; else `./.data`.
A stale `./.data` (an old key, a stopped system) never hides a system running elsewhere, and a
command never makes a key beside a running system that took its own from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.audit.keys import KEY_FILE, AuditKeyMissing, command_audit_key, find_audit_key
from shared.cli import checked_database_url
from shared.cli.audit import ANCHOR_FILE, default_anchor_file
from shared.runtime.running import RunningSystem, current_installation, record_running
from shared.secret_files import local_secret_file

LIVE_DB = "postgresql://postgres@127.0.0.1:55432/live"


class Settings:
    database_url: str | None = None


def _dead_pid() -> int:
    probe = [sys.executable, "-c", "import os; print(os.getpid())"]
    ended = subprocess.run(probe, capture_output=True, text=True, check=True)
    return int(ended.stdout)


def _record(data_dir: Path, *, pid: int | None = None, **flags: bool) -> RunningSystem:
    system = RunningSystem(
        pid=pid or os.getpid(), data_dir=str(data_dir), kafka_bootstrap_servers="127.0.0.1:1",
        database_url=LIVE_DB, **flags,
    )  # fmt: skip
    record_running(system)
    return system


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A shell in a project folder of its own, with a pointer of its own and no variables set."""
    for name in ("QYZMET_DATA_DIR", "QYZMET_AUDIT_KEY", "QYZMET_TOKEN_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    here = tmp_path / "project"
    here.mkdir()
    monkeypatch.chdir(here)
    return here


def _stale_local_data(folder: Path) -> bytes:
    """`./.data` of an earlier system: its audit key and a record of a stopped run."""
    old = local_secret_file(folder / ".data", KEY_FILE).encode()
    _record(folder / ".data", pid=_dead_pid())
    return old


def test_a_stale_local_data_dir_does_not_hide_the_live_system(folder: Path, tmp_path: Path) -> None:
    old = _stale_local_data(folder)
    live = tmp_path / "live"
    key = local_secret_file(live, KEY_FILE).encode()
    _record(live)  # started with QYZMET_DATA_DIR=live, named by the pointer

    found = current_installation()
    assert found.data_dir == live and found.system is not None and found.system.data_dir == str(live)
    assert find_audit_key().secret == key != old
    assert command_audit_key().secret == key
    assert default_anchor_file() == live / ANCHOR_FILE
    assert checked_database_url(Settings()) == LIVE_DB


def test_a_live_system_in_local_data_comes_before_the_pointer(folder: Path, tmp_path: Path) -> None:
    _record(tmp_path / "later")
    _record(folder / ".data")
    assert current_installation().data_dir == Path(".data")


def test_qyzmet_data_dir_wins(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local_secret_file(tmp_path / "live", KEY_FILE)
    _record(tmp_path / "live")
    chosen = tmp_path / "chosen"
    monkeypatch.setenv("QYZMET_DATA_DIR", str(chosen))
    found = current_installation()
    assert found.data_dir == chosen and found.system is None  # never the pointer's system
    assert checked_database_url(Settings()) is None
    with pytest.raises(AuditKeyMissing):
        find_audit_key()  # nothing to verify with, and none made
    assert command_audit_key() == command_audit_key()  # with none running: made once, then read
    assert (chosen / KEY_FILE).exists()
    assert default_anchor_file() == chosen / ANCHOR_FILE


def test_nothing_running_is_the_local_data_dir(folder: Path) -> None:
    _stale_local_data(folder)
    found = current_installation()
    assert found.data_dir == Path(".data") and found.system is None


def test_the_environments_key_wins(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _stale_local_data(folder)
    _record(tmp_path / "live", audit_key_from_env=True)
    monkeypatch.setenv("QYZMET_AUDIT_KEY", "the system's key")
    assert command_audit_key().secret == find_audit_key().secret == b"the system's key"


def test_a_system_with_the_environments_key_needs_the_variable(folder: Path, tmp_path: Path) -> None:
    _stale_local_data(folder)
    live = tmp_path / "live"
    _record(live, audit_key_from_env=True)
    for lookup in (command_audit_key, find_audit_key):
        with pytest.raises(AuditKeyMissing, match="set QYZMET_AUDIT_KEY"):
            lookup()
    assert not (live / KEY_FILE).exists()  # no key made beside the running system


def test_a_running_system_without_its_key_file_gets_none_made(folder: Path, tmp_path: Path) -> None:
    """A system recorded before the record said where its key came from."""
    live = tmp_path / "live"
    _record(live)
    with pytest.raises(AuditKeyMissing, match="QYZMET_AUDIT_KEY"):
        command_audit_key()
    assert not (live / KEY_FILE).exists()


def test_params_set_without_the_systems_key_variable_exits_2(folder: Path, tmp_path: Path) -> None:
    live = tmp_path / "live"
    _record(live, audit_key_from_env=True)  # this test's process: alive while the command runs
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    argv = ["params", "set", "poverty_line", "--region", "akmola", "--from", "2026-01-01", "--value", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *argv, "--source", "act", "--actor", "admin@x"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "set QYZMET_AUDIT_KEY" in done.stderr and str(live) in done.stderr
    assert not (live / KEY_FILE).exists() and not (folder / ".data").exists()
