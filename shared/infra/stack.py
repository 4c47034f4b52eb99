"""Detached local infrastructure for ``make run`` / ``qyzmet infra up|down|status``.

State lives in ``<data_dir>/infra.json`` (``data_dir`` defaults to ``$QYZMET_DATA_DIR`` or
``./.data``): for each of ``postgres`` and ``kafka`` its kind, URL, pid, process group and port.
``infra_up`` reuses what still runs (pid alive, same binary, port answers), starts what is
missing, and returns the environment to export. ``infra_down`` stops what it started and checks
that no process of it remains.

Unlike test fixtures, ``infra_up`` never uses testcontainers even when Docker answers: Ryuk
removes those containers when the starting process exits, and their data would not live in
``data_dir``; for containers use ``docker compose`` and export the two variables yourself.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.infra.errors import InfraError
from shared.infra.kafka import (
    BOOTSTRAP_ENV,
    LOCAL_BROKER_ENV,
    LOCAL_BROKERS,
    LOCAL_PORT_ENV,
    STOP_GRACE_SECONDS,
    STOP_SIGNALS,
    LocalBroker,
    existing_local_broker,
    local_broker_data_dir,
    start_local_broker,
)
from shared.infra.postgres import (
    DATABASE_URL_ENV,
    DEFAULT_DATABASE,
    EMBEDDED_PORT_ENV,
    read_postmaster,
    start_embedded_postgres,
    stop_embedded_postgres,
)
from shared.infra.procs import (
    cmdline,
    cmdline_contains,
    group_members,
    pid_alive,
    port_accepts,
    stop_process_group,
)
from shared.runtime.running import without_password

DATA_DIR_ENV = "QYZMET_DATA_DIR"
STATE_FILE = "infra.json"
DEFAULT_PG_PORT = 55432
DEFAULT_KAFKA_PORT = 59092

Say = Callable[[str], None]
State = dict[str, dict[str, Any]]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_data_dir() -> Path:
    """``$QYZMET_DATA_DIR`` or ``./.data``."""
    return Path(os.environ.get(DATA_DIR_ENV) or ".data")


def resolve_data_dir(data_dir: Path | str | None) -> Path:
    """`data_dir` (a `--data-dir` option), else `$QYZMET_DATA_DIR` or `./.data`, made absolute."""
    return Path(data_dir if data_dir is not None else default_data_dir()).resolve()


def state_path(data_dir: Path | str | None = None) -> Path:
    """Path of the state file."""
    return resolve_data_dir(data_dir) / STATE_FILE


def load_state(data_dir: Path | str | None = None) -> State:
    """The recorded state (empty when there is none or it is unreadable)."""
    try:
        raw = json.loads(state_path(data_dir).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}


def save_state(data_dir: Path | str | None, state: State) -> None:
    """Write the state atomically; remove the file when nothing is recorded."""
    path = state_path(data_dir)
    if not state:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


@dataclass(frozen=True)
class InfraEnv:
    """Where the running infrastructure is."""

    database_url: str
    kafka_bootstrap_servers: str
    started: tuple[str, ...] = ()
    """What this call started itself ("postgres", "kafka"), as opposed to found running or given."""

    def env(self) -> dict[str, str]:
        """As environment variables."""
        return {DATABASE_URL_ENV: self.database_url, BOOTSTRAP_ENV: self.kafka_bootstrap_servers}

    def exports(self) -> str:
        """Shell lines for ``eval "$(qyzmet infra up)"``."""
        return "".join(f"export {k}={shlex.quote(v)}\n" for k, v in self.env().items())


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# --------------------------------------------------------------------------- postgres


def _postgres_up(data_dir: Path, port: int | None, timeout: float, say: Say) -> dict[str, Any]:
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url:
        say(f"postgres: using {DATABASE_URL_ENV} from the environment (not started)")
        return {"kind": "external", "url": without_password(url)}  # infra.json keeps no password
    pgdata = data_dir / "pg"
    wanted = port if port is not None else _env_int(EMBEDDED_PORT_ENV, DEFAULT_PG_PORT)
    handle = start_embedded_postgres(pgdata, port=wanted, database=DEFAULT_DATABASE, timeout=timeout)
    if handle.owned:
        say(f"postgres: started embedded PostgreSQL (pid {handle.pid}) on port {handle.port}, data {pgdata}")
    else:
        say(f"postgres: embedded PostgreSQL already running (pid {handle.pid}) on port {handle.port}")
        if handle.port != wanted:
            say(f"postgres: note: it listens on {handle.port}, not the requested {wanted}")
    started = handle.owned
    handle.detach()
    return {
        "started": started,
        "kind": "embedded",
        "url": handle.url,
        "pid": handle.pid,
        "pgid": handle.pid,
        "port": handle.port,
        "data_dir": str(pgdata),
        "log": str(handle.log_path),
    }


def _postgres_down(data_dir: Path, entry: dict[str, Any] | None, say: Say) -> None:
    if entry is not None and entry.get("kind") == "external":
        say("postgres: external (DATABASE_URL), nothing to stop")
    # Whatever the state says, stop a server still running on our own cluster directory.
    pgdata = Path(entry["data_dir"]) if entry and entry.get("data_dir") else data_dir / "pg"
    info = read_postmaster(pgdata)
    if info is None or not pid_alive(info.pid):
        if entry is not None and entry.get("kind") == "embedded":
            say("postgres: not running")
        return
    stop_embedded_postgres(pgdata)
    say(f"postgres: stopped embedded PostgreSQL (pid {info.pid}) in {pgdata}; no process of it remains")


# --------------------------------------------------------------------------- kafka


def _noida_from_control_file(broker_dir: Path) -> dict[str, Any] | None:
    """A noida-db still running on ``broker_dir`` although infra.json forgot it (read its pid
    from noida's own ``noida.control.json`` and its Kafka port from its command line)."""
    try:
        pid = int(json.loads((broker_dir / "noida.control.json").read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not pid_alive(pid) or not cmdline_contains(pid, "noida-db"):
        return None
    argv = cmdline(pid)
    if str(broker_dir) not in argv or "--kafka-port" not in argv:
        return None
    port = int(argv[argv.index("--kafka-port") + 1])
    return {
        "kind": "noida",
        "bootstrap_servers": f"127.0.0.1:{port}",
        "pid": pid,
        "pgid": pid,
        "port": port,
        "data_dir": str(broker_dir),
        "binary": argv[0],
    }


def _kafka_alive(entry: dict[str, Any]) -> bool:
    kind = entry.get("kind")
    if kind not in LOCAL_BROKERS:
        return False
    return existing_local_broker(kind, entry.get("pid"), entry.get("port"), entry.get("binary"))


def _kafka_up(
    data_dir: Path,
    previous: dict[str, Any] | None,
    port: int | None,
    broker: str | None,
    timeout: float,
    say: Say,
) -> dict[str, Any]:
    servers = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if servers:
        say(f"kafka: using {BOOTSTRAP_ENV} from the environment (not started)")
        return {"kind": "external", "bootstrap_servers": servers}
    kind_text = (broker or os.environ.get(LOCAL_BROKER_ENV) or "noida").strip().lower()
    if kind_text not in LOCAL_BROKERS:
        raise InfraError(f"unknown local broker {kind_text!r}; expected one of {', '.join(LOCAL_BROKERS)}")
    kind: LocalBroker = "noida" if kind_text == "noida" else "tansu"
    if previous is None and kind == "noida":
        previous = _noida_from_control_file(local_broker_data_dir(data_dir, kind).resolve())
    if previous is not None and previous.get("kind") in LOCAL_BROKERS:
        if _kafka_alive(previous) and previous.get("kind") == kind:
            say(f"kafka: {kind} already running (pid {previous['pid']}) at {previous['bootstrap_servers']}")
            return {**previous, "started": False}
        # A different broker kind, or a recorded broker that no longer answers: stop what is left.
        _kafka_down(previous, say, quiet=True)
    wanted = port if port is not None else _env_int(LOCAL_PORT_ENV, DEFAULT_KAFKA_PORT)
    handle = start_local_broker(kind, data_dir, port=wanted, timeout=timeout)
    handle.detach()
    say(f"kafka: started {kind} (pid {handle.pid}) at {handle.bootstrap_servers}, data {handle.data_dir}")
    return {
        "started": True,
        "kind": kind,
        "bootstrap_servers": handle.bootstrap_servers,
        "pid": handle.pid,
        "pgid": handle.pgid,
        "port": handle.port,
        "data_dir": str(handle.data_dir),
        "log": str(handle.log_path),
        "binary": handle.binary,
    }


def _kafka_down(entry: dict[str, Any] | None, say: Say, quiet: bool = False) -> None:
    if entry is None:
        return
    kind = entry.get("kind")
    if kind not in LOCAL_BROKERS:
        if not quiet:
            say(f"kafka: {kind}, nothing to stop")
        return
    pgid = entry.get("pgid")
    pid = entry.get("pid")
    if not isinstance(pgid, int) or not isinstance(pid, int):
        return
    # The group id cannot be reused while the group has members, so whatever is left in it is ours;
    # but only signal a live leader if it is still the broker binary (guards against pid reuse).
    leader_ok = pid_alive(pid) and cmdline_contains(pid, entry.get("binary") or str(kind))
    if not group_members(pgid) or (pid_alive(pid) and not leader_ok):
        if not quiet:
            say(f"kafka: {kind} not running")
        return
    stop_process_group(pgid, sig=STOP_SIGNALS[kind], grace=STOP_GRACE_SECONDS)
    left = group_members(pgid)
    if left:
        raise InfraError(f"kafka: processes {left} of {kind} remain after stop")
    if not quiet:
        say(f"kafka: stopped {kind} (pid {pid}); no process of its group remains")


# --------------------------------------------------------------------------- public


def infra_up(
    data_dir: Path | str | None = None,
    *,
    pg_port: int | None = None,
    kafka_port: int | None = None,
    broker: str | None = None,
    timeout: float = 60.0,
    say: Say = _stderr,
) -> InfraEnv:
    """Start (or reuse) detached PostgreSQL and Kafka for local runs; record them; return where."""
    root = resolve_data_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    state = load_state(root)
    state["postgres"] = _postgres_up(root, pg_port, timeout, say)
    save_state(root, state)
    state["kafka"] = _kafka_up(root, state.get("kafka"), kafka_port, broker, timeout, say)
    save_state(root, state)
    started = tuple(name for name in ("postgres", "kafka") if state[name].pop("started", False))
    save_state(root, state)
    external = state["postgres"]["kind"] == "external"
    return InfraEnv(
        database_url=os.environ[DATABASE_URL_ENV].strip() if external else str(state["postgres"]["url"]),
        kafka_bootstrap_servers=str(state["kafka"]["bootstrap_servers"]),
        started=started,
    )


def infra_down(
    data_dir: Path | str | None = None, *, say: Say = _stderr, only: tuple[str, ...] = ("postgres", "kafka")
) -> None:
    """Stop what ``infra_up`` started (data is kept) and remove the state entries; `only` names
    the parts to stop ("postgres", "kafka")."""
    root = resolve_data_dir(data_dir)
    state = load_state(root)
    if "kafka" in only:
        kafka_entry = state.get("kafka")
        if kafka_entry is None:
            kafka_entry = _noida_from_control_file(local_broker_data_dir(root, "noida"))
        _kafka_down(kafka_entry, say)
        state.pop("kafka", None)
        save_state(root, state)
    if "postgres" in only:
        _postgres_down(root, state.get("postgres"), say)
        state.pop("postgres", None)
        save_state(root, state)


def infra_status(data_dir: Path | str | None = None) -> State:
    """The recorded state, each entry with ``running`` (pid alive and port answering)."""
    state = load_state(data_dir)
    result: State = {}
    for name, entry in state.items():
        entry = dict(entry)
        if entry.get("kind") == "external":
            entry["running"] = None
        elif name == "kafka":
            entry["running"] = _kafka_alive(entry)
        else:
            port = entry.get("port")
            entry["running"] = pid_alive(entry.get("pid")) and isinstance(port, int) and port_accepts(port)
        result[name] = entry
    return result
