"""One log format for every line a process writes: structlog's own lines and the libraries' (uvicorn,
aiokafka, faust) are JSON with the same fields, each naming the process (`qyzmet serve` sets it),
and personal data is redacted in both."""

from __future__ import annotations

import json
import logging
import re

import pytest
import structlog

from shared.logging import REDACTED, configure_logging


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]


def test_library_and_own_lines_share_one_json_format_with_the_process_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QYZMET_PROCESS", "intake-api")
    configure_logging("INFO")
    structlog.get_logger("t").info("submitted", application_id="a-1")
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    logging.getLogger("aiokafka.consumer").warning("heartbeat failed for %s", "900101300123")
    own, uvicorn, kafka = _lines(capsys)[-3:]
    for line in (own, uvicorn, kafka):
        assert line["process"] == "intake-api"
        assert {"timestamp", "level", "event"} <= set(line)
    assert uvicorn["event"] == "Application startup complete." and uvicorn["logger"] == "uvicorn.error"
    assert kafka["level"] == "warning" and kafka["event"] == f"heartbeat failed for {REDACTED}"


def test_pretty_lines_are_readable_and_name_the_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QYZMET_PROCESS", "decision-worker")
    monkeypatch.setenv("QYZMET_LOG_FORMAT", "pretty")
    try:
        configure_logging("INFO")
        structlog.get_logger("t").info("case opened", application_id="a-2", iin="900101300123")
        logging.getLogger("aiokafka.consumer").warning("lag on %s", "applications.v1")
        own, kafka = capsys.readouterr().err.strip().splitlines()[-2:]
    finally:
        monkeypatch.delenv("QYZMET_LOG_FORMAT")
        configure_logging("INFO")
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} INFO +decision-worker +case opened  application_id=a-2 iin=\[redacted\]", own
    ), own
    assert re.fullmatch(
        r"\S+ WARNING +decision-worker +lag on applications\.v1  \[aiokafka\.consumer\]", kafka
    ), kafka
    assert "900101300123" not in own


def test_the_format_follows_the_argument_over_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QYZMET_PROCESS", "intake-api")
    monkeypatch.setenv("QYZMET_LOG_FORMAT", "pretty")
    configure_logging("INFO", pretty=False)
    structlog.get_logger("t").info("json after all")
    monkeypatch.delenv("QYZMET_LOG_FORMAT")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "json after all" and line["process"] == "intake-api"
