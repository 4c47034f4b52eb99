"""`qyzmet replay`: lists the services' projections; a database the service never ran on gets a
clear message, not a traceback."""

from __future__ import annotations

import uuid

import pytest

from shared.cli.main import main as cli_main
from shared.infra import create_database, drop_database


def test_replay_lists_every_projection(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["replay", "--list"]) == 0
    assert set(capsys.readouterr().out.split()) >= {"intake.applications", "decision.cases"}


def test_replay_on_a_database_without_the_service_is_a_clear_error(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"qyzmet_replay_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    try:
        monkeypatch.setenv("DATABASE_URL", url)
        assert cli_main(["replay", "decision.cases"]) == 2
        assert "tables are missing" in capsys.readouterr().err
        assert cli_main(["replay", "no.such"]) == 2
    finally:
        drop_database(database_url, name)


@pytest.mark.parametrize("workers", ["0", "9", "two"])
def test_replay_refuses_a_number_of_processes_out_of_range(
    workers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        cli_main(["replay", "intake", "--workers", workers])
    assert refused.value.code == 2
    assert f"{workers!r} is not a number of processes from 1 to 8" in capsys.readouterr().err
