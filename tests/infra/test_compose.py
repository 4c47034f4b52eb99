"""docker-compose.yml, checked offline: the same system `make run` starts, against Apache Kafka (KRaft)
and PostgreSQL, every process reachable from outside its container and watched by a health check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from services.simulator.plugin import SERVICES as SIMULATED
from shared.runtime.registry import registered_services

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded


def test_infrastructure_is_apache_kafka_in_kraft_mode_and_postgresql_with_health_checks(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert services["postgres"]["image"].startswith("postgres:")
    for name in ("kafka", "postgres"):
        assert services[name]["healthcheck"]["test"]


def test_the_brokers_log_dirs_are_on_its_volume(compose: dict[str, Any]) -> None:
    """apache/kafka writes to /tmp/kraft-combined-logs unless told otherwise: topics, offsets and the
    audit.v1 anchors must live on the mounted volume to outlive `docker compose down && up`."""
    kafka = compose["services"]["kafka"]
    mounts = {
        mount.split(":")[1]: mount.split(":")[0] for mount in kafka["volumes"] if isinstance(mount, str)
    }
    log_dirs = kafka["environment"].get("KAFKA_LOG_DIRS")
    assert log_dirs, "KAFKA_LOG_DIRS unset: the broker writes to /tmp inside the container"
    for log_dir in log_dirs.split(","):
        volume = next(
            (name for path, name in mounts.items() if log_dir == path or log_dir.startswith(path + "/")),
            None,
        )
        assert volume in compose["volumes"], f"{log_dir} is on no named volume"


def test_every_registered_process_runs_from_the_one_image_with_a_health_check(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    processes = {p: plugin for plugin in registered_services() for p in plugin.processes()}
    assert processes
    for process, plugin in processes.items():
        assert process in services, f"docker-compose.yml lacks {process}"
        service = services[process]
        assert service["command"] == ["serve", process]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["healthcheck"]["test"][0] == "CMD"
        env = service["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092", "the real broker, not an embedded one"
        assert "DATABASE_URL" not in env, "service processes never hold the administrator's URL"
        if plugin.migrations:  # a service with a schema connects as its own role
            own = env[f"{plugin.name.upper()}_DATABASE_URL"]
            assert own.startswith(f"postgresql://qyzmet_{plugin.name}:") and "@postgres:5432/" in own
        else:
            assert not any(key.endswith("_DATABASE_URL") for key in env), f"{process} needs no database"
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
        if process.endswith("-api"):
            variable = plugin.api_port_variable
            assert variable is not None
            # Bound to every interface inside the container, or nothing outside could reach it.
            assert env[variable.replace("_PORT", "_HOST")] == "0.0.0.0"  # noqa: S104
            port = env[variable]
            assert env["API_PORT"] == port, "the health check probes the API's own port"
            assert f"{port}:{port}" in service["ports"]
        else:
            assert env["QYZMET_INSTANCE"].isdigit(), "workers need a static membership ordinal"


def test_the_migrate_step_sets_up_every_services_role_with_the_administrators_url(
    compose: dict[str, Any],
) -> None:
    migrate = compose["services"]["migrate"]
    assert "qyzmet db setup" in " ".join(migrate["entrypoint"])
    env = migrate["environment"]
    assert env["DATABASE_URL"].startswith("postgresql://postgres:")
    for plugin in (p for p in registered_services() if p.migrations):
        assert (
            env[f"{plugin.name.upper()}_DATABASE_URL"]
            == compose["services"][f"{plugin.name}-api"]["environment"][f"{plugin.name.upper()}_DATABASE_URL"]
        )


def test_the_dockerfile_runs_qyzmet_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["qyzmet"]' in dockerfile
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")


def test_the_audit_key_and_token_secret_have_no_public_default() -> None:
    """A published default would let anyone forge tokens and rechain the audit log: compose
    refuses to start without them."""
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for variable in ("QYZMET_AUDIT_KEY", "QYZMET_TOKEN_SECRET"):
        assert f"{variable}: ${{{variable}:?" in text, f"{variable} must be required (${{{variable}:?...}})"
        assert f"${{{variable}:-" not in text


def _secrets(env: dict[str, Any]) -> set[str]:
    return {key for key in env if key in ("QYZMET_TOKEN_SECRET", "QYZMET_AUDIT_KEY", "DATABASE_URL")} | {
        key for key in env if key.endswith("_DATABASE_URL")
    }


def test_no_secret_reaches_a_process_that_does_not_need_it(compose: dict[str, Any]) -> None:
    """The token secret where tokens are checked, signed or keyed from (every service process, the
    simulator); the audit key and a database URL only in the processes of a service with a schema
    (they append to its audit log); the console and the simulator hold the token secret alone, the
    one-shot migrate step no token secret or audit key."""
    services = compose["services"]
    for plugin in registered_services():
        for process in plugin.processes():
            expected = {"QYZMET_TOKEN_SECRET"}
            if plugin.migrations:
                expected |= {"QYZMET_AUDIT_KEY", f"{plugin.name.upper()}_DATABASE_URL"}
            assert _secrets(services[process]["environment"]) == expected, process
    assert _secrets(services["console-api"]["environment"]) == {"QYZMET_TOKEN_SECRET"}
    assert _secrets(services["simulator"]["environment"]) == {"QYZMET_TOKEN_SECRET"}
    migrate = _secrets(services["migrate"]["environment"])
    assert "QYZMET_AUDIT_KEY" not in migrate and "QYZMET_TOKEN_SECRET" not in migrate


def test_the_simulated_offices_run_as_make_run_starts_them_and_can_be_switched_off(
    compose: dict[str, Any],
) -> None:
    """`make run` starts the regional-office simulator with the system; so does `docker compose up`:
    same image, `qyzmet simulate` at the APIs by their compose host names, once they answer, with
    tokens signed by the secret the services check; `QYZMET_SIMULATOR_REPLICAS=0` (or
    `--scale simulator=0`) is `--no-simulator`."""
    services = compose["services"]
    simulator = services["simulator"]
    assert simulator["build"]["dockerfile"] == "deploy/Dockerfile"
    assert simulator["image"] == services["intake-api"]["image"]
    command = simulator["command"]
    assert command[0] == "simulate"
    assert command[command.index("--rate") + 1] == "${QYZMET_SIMULATOR_RATE:-2}"
    urls = dict(command[i + 1].split("=", 1) for i, word in enumerate(command) if word == "--url")
    apis = {plugin.name: plugin for plugin in registered_services()}
    assert set(urls) == set(SIMULATED)
    for name, url in urls.items():
        port = services[f"{name}-api"]["environment"][apis[name].api_port_variable]
        assert url == f"http://{name}-api:{port}"
        assert simulator["depends_on"][f"{name}-api"]["condition"] == "service_healthy"
    env = simulator["environment"]
    assert env["QYZMET_TOKEN_SECRET"] == services["intake-api"]["environment"]["QYZMET_TOKEN_SECRET"]
    assert not {"DATABASE_URL", "QYZMET_AUDIT_KEY", "KAFKA_BOOTSTRAP_SERVERS"} & set(env), (
        "the simulator is an office outside: only the APIs and a token secret"
    )
    assert not any(key.endswith("_DATABASE_URL") for key in env)
    assert simulator["deploy"]["replicas"] == "${QYZMET_SIMULATOR_REPLICAS:-1}"
    assert simulator["healthcheck"]["test"][0] == "CMD"
    assert "profiles" not in simulator, "`docker compose up` starts it, as `make run` does"
