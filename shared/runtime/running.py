"""Where the running system is: `qyzmet run` writes it down, other `qyzmet` commands read it.

`qyzmet run` records its data directory, database and broker addresses and API URLs in
`<data dir>/system.json`, and the data directory of the system started last in a per-user
pointer (`$XDG_STATE_HOME/qyzmet/current`, default `~/.local/state/qyzmet/current`). A command
run in a second shell, or from another folder, finds the system there: `qyzmet token` signs with
the secret the services use, `qyzmet topics read` reads from the broker the system uses, and
`qyzmet status`, `replay`, `report`, `audit` read its database. The environment
(`QYZMET_DATA_DIR`, `DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`, `QYZMET_TOKEN_SECRET`) always wins.
No password is written down: the database's address is kept without it (`without_password`; the
embedded PostgreSQL needs none, an external one's comes from libpq's `PGPASSWORD` or `~/.pgpass`),
otherwise only the broker address, ports and paths.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

SYSTEM_FILE = "system.json"
DATA_DIR_ENV = "QYZMET_DATA_DIR"
LOCAL_DATA_DIR = Path(".data")
"""The data directory of a command run with neither `--data-dir` nor `QYZMET_DATA_DIR`."""


@dataclass(frozen=True)
class RunningSystem:
    pid: int
    data_dir: str
    kafka_bootstrap_servers: str
    topic_prefix: str = ""
    api_urls: dict[str, str] = field(default_factory=dict)
    metrics_urls: dict[str, str] = field(default_factory=dict)
    """process name -> its Prometheus `/metrics` URL (APIs on their port, workers' own listeners)."""
    database_url: str = ""
    """The administrator's database address, without its password (`without_password`); empty
    when the address given was not a URL."""
    token_secret_from_env: bool = False
    """The run took its token secret from `QYZMET_TOKEN_SECRET` (no file in its data directory;
    a command must be given the same variable). The value itself is never written down."""
    audit_key_from_env: bool = False
    """Likewise for the audit key (`QYZMET_AUDIT_KEY`)."""

    @property
    def alive(self) -> bool:
        return _pid_alive(self.pid)


SECRET_QUERY_KEYS = frozenset({"password", "sslpassword"})


def without_password(url: str) -> str:
    """A `postgresql://` URL with no password left in it (neither `user:password@` nor a
    `password=` parameter): what may be written down. Empty for anything that is not such a URL
    (a libpq `key=value` string could hide a password anywhere)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("postgresql", "postgres") or not url.strip().startswith(f"{parts.scheme}://"):
        return ""
    userinfo, _, hosts = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = parts.query
    if any(key in SECRET_QUERY_KEYS for key, _ in query):
        kept = urlencode([(key, value) for key, value in query if key not in SECRET_QUERY_KEYS])
    return f"{parts.scheme}://{user + '@' if user else ''}{hosts}{parts.path}" + (f"?{kept}" if kept else "")


def pointer_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    state_home = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "qyzmet" / "current"


def record_running(system: RunningSystem) -> None:
    data_dir = Path(system.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SYSTEM_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(system), indent=2), encoding="utf-8")
    tmp.replace(path)
    pointer = pointer_path()
    try:
        pointer.parent.mkdir(parents=True, exist_ok=True)
        pointer.write_text(str(data_dir.resolve()), encoding="utf-8")
    except OSError:
        pass  # a read-only home: commands from other folders need QYZMET_DATA_DIR then


PROCESSES_DIR = "processes"


def record_process(data_dir: Path | str, name: str, *, metrics_url: str) -> None:
    """A process writes down where its metrics are (`<data dir>/processes/<name>.json`)."""
    folder = Path(data_dir) / PROCESSES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "metrics_url": metrics_url}), encoding="utf-8")
    tmp.replace(path)


def recorded_processes(data_dir: Path | str) -> dict[str, str]:
    """process name -> metrics URL, of the processes that wrote theirs down and still run."""
    found: dict[str, str] = {}
    for path in sorted((Path(data_dir) / PROCESSES_DIR).glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            pid, url = int(raw["pid"]), str(raw["metrics_url"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _pid_alive(pid):
            found[path.stem] = url
    return found


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_running(data_dir: Path | str) -> None:
    (Path(data_dir) / SYSTEM_FILE).unlink(missing_ok=True)


def _read(data_dir: Path) -> RunningSystem | None:
    try:
        raw = json.loads((data_dir / SYSTEM_FILE).read_text(encoding="utf-8"))
        system = RunningSystem(**raw)
    except (OSError, ValueError, TypeError):
        return None
    return system if system.alive else None


@dataclass(frozen=True)
class Installation:
    """The installation a command talks to: the data directory whose token secret, audit key and
    anchor file it uses, and the live system recorded there (its database and broker), if any."""

    data_dir: Path
    system: RunningSystem | None


def current_installation(
    data_dir: Path | str | None = None, env: Mapping[str, str] | None = None
) -> Installation:
    """The one rule every command follows: `data_dir` (a `--data-dir` option), else
    `QYZMET_DATA_DIR`, with the system running there if one does; else the live system recorded in
    `./.data`; else the live system the per-user pointer names (started last, from any folder);
    else `./.data` with none running. A stale `./.data` (an old key or secret, a stopped system)
    never hides a system running elsewhere."""
    env = os.environ if env is None else env
    chosen = data_dir if data_dir is not None else env.get(DATA_DIR_ENV) or None
    if chosen:
        return Installation(Path(chosen), _read(Path(chosen)))
    here = _read(LOCAL_DATA_DIR)
    if here is not None:
        return Installation(LOCAL_DATA_DIR, here)
    try:
        named = pointer_path(env).read_text(encoding="utf-8").strip()
    except OSError:
        named = ""
    system = _read(Path(named)) if named else None
    return Installation(Path(named), system) if system is not None else Installation(LOCAL_DATA_DIR, None)
