"""Which database a `qyzmet` command works on (`shared.cli.checked_database_url`): `DATABASE_URL`
always wins; else the running system's, recorded in the data directory or (from any other
folder) found through the per-user pointer; else none, said on stderr. The record never holds a
password (`without_password`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.cli import NO_DATABASE_URL, checked_database_url
from shared.runtime.running import SYSTEM_FILE, RunningSystem, record_running, without_password

RECORDED = "postgresql://postgres@127.0.0.1:55432/qyzmet"


@dataclass(frozen=True)
class Settings:
    database_url: str | None


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A pointer of this test's own (never the user's), and a folder of its own to run in."""
    home = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    monkeypatch.delenv("QYZMET_DATA_DIR", raising=False)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return home


def _data_dir(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("QYZMET_DATA_DIR", str(data_dir))


def _record(data_dir: Path, database_url: str = RECORDED, pid: int | None = None) -> None:
    record_running(
        RunningSystem(
            pid=pid or os.getpid(), data_dir=str(data_dir), kafka_bootstrap_servers="127.0.0.1:1",
            database_url=database_url,
        )
    )  # fmt: skip


def test_the_environment_wins_over_a_running_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _record(tmp_path / "data")
    _data_dir(monkeypatch, tmp_path / "data")
    given = "postgresql://admin@db.example:5432/qyzmet"
    assert checked_database_url(Settings(given)) == given


def test_the_system_recorded_in_the_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _record(tmp_path / "data")
    _data_dir(monkeypatch, tmp_path / "data")
    assert checked_database_url(Settings(None)) == RECORDED
    assert f"using the running system's database {RECORDED}" in capsys.readouterr().err


def test_from_another_folder_the_system_started_last(tmp_path: Path) -> None:
    _record(tmp_path / "data", "postgresql://postgres@127.0.0.1:6000/other")
    _record(tmp_path / "later")  # the pointer names the one started last
    assert checked_database_url(Settings(None)) == RECORDED  # from a folder with no .data


def test_the_data_directory_comes_before_the_one_started_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = "postgresql://postgres@127.0.0.1:6000/here"
    _record(tmp_path / "data", here)
    _record(tmp_path / "later")
    _data_dir(monkeypatch, tmp_path / "data")
    assert checked_database_url(Settings(None)) == here
    monkeypatch.delenv("QYZMET_DATA_DIR")
    _record(tmp_path / "elsewhere" / ".data", here)  # ./.data of the folder the command runs in
    _record(tmp_path / "latest")
    assert checked_database_url(Settings(None)) == here


def test_a_stopped_system_or_none_is_said_and_gives_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _data_dir(monkeypatch, tmp_path / "data")
    assert checked_database_url(Settings(None)) is None
    assert NO_DATABASE_URL in capsys.readouterr().err
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    _record(tmp_path / "data", pid=int(ended.stdout))
    assert checked_database_url(Settings(None)) is None


def test_a_record_without_a_database_gives_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A record written before the database was recorded (or of an address that was no URL)."""
    data = tmp_path / "data"
    data.mkdir()
    old = {"pid": os.getpid(), "data_dir": str(data), "kafka_bootstrap_servers": "127.0.0.1:1"}
    (data / SYSTEM_FILE).write_text(json.dumps(old), encoding="utf-8")
    _data_dir(monkeypatch, data)
    assert checked_database_url(Settings(None)) is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (RECORDED, RECORDED),
        ("postgresql://admin:s3cr%40t@db.example:5432/q", "postgresql://admin@db.example:5432/q"),
        (
            "postgresql://admin@db.example/q?sslmode=require&password=s3cr3t&sslpassword=k3y",
            "postgresql://admin@db.example/q?sslmode=require",
        ),
        ("postgres://u:s3cr3t@h1:1,h2:2/d?host=/tmp", "postgres://u@h1:1,h2:2/d?host=/tmp"),
        ("postgresql://:s3cr3t@h/d", "postgresql://h/d"),
        ("postgresql:///d?host=/var/run/postgresql", "postgresql:///d?host=/var/run/postgresql"),
        ("host=db password=s3cr3t dbname=q", ""),  # not a URL: nothing written down
    ],
)
def test_the_recorded_address_has_no_password(given: str, kept: str) -> None:
    assert without_password(given) == kept
