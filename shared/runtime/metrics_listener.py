"""A worker's `/metrics`: a small HTTP listener (prometheus_client's, in a thread) serving the
process-wide registry, on `QYZMET_METRICS_PORT` (0, the default: any free port) of
`QYZMET_METRICS_HOST` (default 127.0.0.1; `0.0.0.0` in a container).

The address is written to `<data dir>/processes/<process>.json` (`shared.runtime.running`), so
`qyzmet run` records every process's metrics URL in the running-system record. A name another live
process already recorded is not overwritten: this one records as `<name>-2` (then `-3`, ...), so a
standalone `qyzmet simulate` beside the system's simulator leaves the system's entry in place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import structlog
from prometheus_client import start_http_server
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.logging import PROCESS_ENV
from shared.runtime.running import PROCESSES_DIR, record_process, recorded_processes

log = structlog.get_logger(__name__)


class MetricsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    port: int = Field(default=0, ge=0, le=65535, alias="QYZMET_METRICS_PORT")
    host: str = Field(default="127.0.0.1", alias="QYZMET_METRICS_HOST")
    data_dir: Path = Field(default=Path(".data"), alias="QYZMET_DATA_DIR")


def start_metrics_listener(default_name: str, settings: MetricsSettings | None = None) -> str:
    """Serve `/metrics` for this process; its URL. The process's name is `QYZMET_PROCESS` (set by
    `qyzmet serve`), else `default_name`."""
    settings = settings or MetricsSettings()
    server, _ = start_http_server(settings.port, addr=settings.host)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    url = f"http://{host}:{server.server_port}/metrics"
    name = free_process_name(settings.data_dir, os.environ.get(PROCESS_ENV) or default_name)
    record_process(settings.data_dir, name, metrics_url=url)
    log.info("metrics listener", url=url, process=name)
    return url


def free_process_name(data_dir: Path, name: str) -> str:
    """`name`, unless another live process recorded it: then the first free `<name>-<n>` (n >= 2).
    A dead process's record, or this process's own, is taken over."""
    live = recorded_processes(data_dir)
    candidate, n = name, 1
    while candidate in live and _recorded_pid(data_dir, candidate) != os.getpid():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _recorded_pid(data_dir: Path, name: str) -> int | None:
    try:
        return int(json.loads((Path(data_dir) / PROCESSES_DIR / f"{name}.json").read_text("utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
