"""The audit key: never in the database; one per system even when its processes start at once;
found by commands from any folder, as the token secret is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.audit.keys import KEY_FILE, AuditKeyMissing, AuditSettings, find_audit_key, service_audit_key
from shared.runtime.running import RunningSystem, record_running

PROBE = "from shared.audit.keys import service_audit_key; print(service_audit_key().kid)"


def test_processes_starting_at_once_share_one_key(tmp_path: Path) -> None:
    env = {**os.environ, "QYZMET_DATA_DIR": str(tmp_path / "data")}
    env.pop("QYZMET_AUDIT_KEY", None)
    probes = [
        subprocess.Popen([sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    kids = {probe.communicate(timeout=60)[0].strip() for probe in probes}
    assert len(kids) == 1 and "" not in kids
    key_file = tmp_path / "data" / KEY_FILE
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in (tmp_path / "data").iterdir()] == [KEY_FILE]  # no temporary files left


def test_a_command_finds_the_running_systems_key_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QYZMET_AUDIT_KEY", raising=False)
    monkeypatch.delenv("QYZMET_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    system_dir = tmp_path / "system"
    made = service_audit_key(AuditSettings(QYZMET_DATA_DIR=system_dir))
    with pytest.raises(AuditKeyMissing):
        find_audit_key()  # no running system yet: never a new key to verify with
    record_running(RunningSystem(pid=os.getpid(), data_dir=str(system_dir), kafka_bootstrap_servers="x:1"))
    assert find_audit_key() == made
    assert not (tmp_path / "elsewhere" / ".data").exists()
    monkeypatch.setenv("QYZMET_AUDIT_KEY", "from the environment")
    assert find_audit_key().secret == b"from the environment"
