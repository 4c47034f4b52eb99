"""One log format for every line a process writes: structlog's own lines and the libraries' (uvicorn,
aiokafka, faust) are JSON with the same fields, each naming the process (`qyzmet serve` sets it),
and personal data is redacted in both."""

from __future__ import annotations

import json
import logging

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
