"""Structured JSON logs with correlation ids, and never personal data.

A processor drops the values of keys that name personal data and masks anything shaped
like an ИИН/БИН (twelve digits) in the remaining strings, so a careless log call cannot
leak it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

PERSONAL_KEYS = frozenset(
    {
        "iin",
        "bin",
        "name",
        "full_name",
        "first_name",
        "last_name",
        "patronymic",
        "phone",
        "email",
        "address",
        "income",
        "incomes",
        "applicant",
        "members",
        "family",
        "birth_date",
    }
)
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _TWELVE_DIGITS.sub(REDACTED, value)
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in PERSONAL_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key.lower() in PERSONAL_KEYS:
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


class _StderrLogger:
    """Writes each rendered line to whatever `sys.stderr` is at that moment."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = error = err = critical = fatal = exception = msg


def _stderr_logger(*_: Any) -> _StderrLogger:
    return _StderrLogger()


class _CurrentStderr:
    """A stream that writes to whatever `sys.stderr` is at that moment (tests capture it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


PROCESS_ENV = "QYZMET_PROCESS"
"""The process's name (`intake-api`, ...), set by `qyzmet serve`; every log line carries it."""


def add_process_name(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    name = os.environ.get(PROCESS_ENV)
    if name:
        event_dict.setdefault("process", name)
    return event_dict


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_process_name,
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]


LOG_FORMAT_ENV = "QYZMET_LOG_FORMAT"
"""`json` (the default) or `pretty`; `qyzmet run --pretty` sets it for every process it starts."""


def render_pretty(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> str:
    """One readable line: time, level, process, the event, then the other fields as key=value
    (and an exception's traceback below it). Personal data is already redacted."""
    fields = dict(event_dict)
    stamp = str(fields.pop("timestamp", ""))
    clock = stamp[11:23] if len(stamp) >= 23 else stamp
    level = str(fields.pop("level", "info")).upper()
    process = str(fields.pop("process", "-"))
    event = str(fields.pop("event", ""))
    logger = fields.pop("logger", None)
    exception = fields.pop("exception", None)
    rest = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
    line = f"{clock} {level:<7} {process:<20} {event}"
    if logger:
        line += f"  [{logger}]"
    if rest:
        line += f"  {rest}"
    if exception:
        line += f"\n{exception}"
    return line


def _renderer(pretty: bool) -> Any:
    return render_pretty if pretty else structlog.processors.JSONRenderer(ensure_ascii=False)


def configure_logging(level: str = "INFO", *, pretty: bool | None = None) -> None:
    """structlog's lines and the standard library's (uvicorn, aiokafka, faust with
    `override_logging=False`) in one format on stderr, each with the process name: JSON, or one
    readable line each when `pretty` (default: `QYZMET_LOG_FORMAT=pretty`)."""
    if pretty is None:
        pretty = os.environ.get(LOG_FORMAT_ENV, "json").strip().lower() == "pretty"
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared_processors()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(pretty)],
    )
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.configure(
        processors=[*_shared_processors(), _renderer(pretty)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def bind_correlation(correlation_id: str | None, **extra: Any) -> None:
    structlog.contextvars.bind_contextvars(correlation_id=correlation_id, **extra)
