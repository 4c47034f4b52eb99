"""Render the Kubernetes manifests of every Qyzmet process: `python -m deploy.k8s.render`.

One workload per process type that the installed services register (`qyzmet serve <process>`),
so a new service or process shows up here without hand-copied YAML; `tests/infra/test_deploy.py`
checks that the committed `qyzmet.yaml` is this script's output and valid against the Kubernetes
schemas.

- APIs: a Deployment (replicas behind a Service), readiness and liveness on `/healthz`.
- Workers: a StatefulSet. Kafka static group membership (ARCHITECTURE.md §1, KIP-345) needs a
  stable ordinal per replica (`QYZMET_INSTANCE`); a StatefulSet pod keeps its index across
  restarts (label `apps.kubernetes.io/pod-index`, Kubernetes 1.28+), a Deployment pod does not.
  Replicas scale by consumer group, up to the topics' partition count (more would sit idle):
  a HorizontalPodAutoscaler per worker with `maxReplicas` = partitions.
- Every process type has a PodDisruptionBudget, resource requests and limits, runs as non-root
  with a read-only root file system, and takes configuration from the ConfigMap and credentials
  from the Secret (each service connects with its own database role).
- Kafka and PostgreSQL are external dependencies (see `deploy/README.md`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from shared.runtime.registry import registered_services

NAMESPACE = "qyzmet"
IMAGE = "ghcr.io/qyzmet/qyzmet:1.0.0"
PARTITIONS = 24
"""Partitions per domain topic in production (deploy/README.md: 17 oblasts and 3 cities)."""
REPLICATION = 3
"""Replicas of every topic (`min.insync.replicas` 2 follows: `shared.messaging.topics.new_topic`)."""
METRICS_PORT = 9100
SECRET_NAME = "qyzmet-secrets"  # noqa: S105  (the Secret object's name, not a secret)
OUTPUT = Path(__file__).with_name("qyzmet.yaml")

Manifest = dict[str, Any]


def _labels(process: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "qyzmet", "app.kubernetes.io/component": process}


def _meta(name: str, process: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    meta["labels"] = _labels(process) if process else {"app.kubernetes.io/name": "qyzmet"}
    return meta


def _config_map(plugins: list[Any]) -> Manifest:
    data = {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka-bootstrap.kafka.svc:9092",
        "TOPIC_PARTITIONS": str(PARTITIONS),
        "KAFKA_REPLICATION_FACTOR": str(REPLICATION),
        "QYZMET_LOG_LEVEL": "INFO",
        "QYZMET_DATA_DIR": "/var/lib/qyzmet",
        "QYZMET_METRICS_HOST": "0.0.0.0",  # noqa: S104  (inside the pod)
        "QYZMET_METRICS_PORT": str(METRICS_PORT),
    }
    for plugin in plugins:
        if plugin.api and plugin.api_port_variable:
            data[plugin.api_port_variable.replace("_PORT", "_HOST")] = "0.0.0.0"  # noqa: S104
            data[plugin.api_port_variable] = str(plugin.api_port)
            # How other processes (the console) reach this API: its Service.
            data[f"{plugin.name.upper()}_API_URL"] = f"http://{plugin.name}-api"
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("qyzmet-config"), "data": data}


def _secret(key: str) -> dict[str, Any]:
    return {"secretKeyRef": {"name": SECRET_NAME, "key": key}}


def _database_env(service: str) -> dict[str, Any]:
    """A service process holds its own login role's URL (`<SERVICE>_DATABASE_URL`), never the
    administrator's: with only that variable it migrates nothing and waits for the migrate Job."""
    return {"name": f"{service.upper()}_DATABASE_URL", "valueFrom": _secret(f"{service}-database-url")}


def _env(plugin: Any) -> list[dict[str, Any]]:
    """Each secret only where it is used: the token secret in every process (tokens are checked, and
    keyed hashes derived from it); a database URL and the audit key only in the processes of a
    service with a schema (they append to its audit log). The console holds the token secret alone."""
    token = {"name": "QYZMET_TOKEN_SECRET", "valueFrom": _secret("token-secret")}
    if not plugin.migrations:
        return [token]
    audit = {"name": "QYZMET_AUDIT_KEY", "valueFrom": _secret("audit-key")}
    return [_database_env(plugin.name), token, audit]


def _migrate_job(plugins: list[Any]) -> Manifest:
    """`qyzmet db setup` once per release (before the new pods): the owner and login roles, every
    schema migrated as the owner. The only pod that holds the administrator's URL."""
    env = [{"name": "DATABASE_URL", "valueFrom": _secret("admin-database-url")}]
    env += [_database_env(plugin.name) for plugin in plugins if plugin.migrations]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta("qyzmet-migrate", "migrate"),
        "spec": {
            "backoffLimit": 6,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": _labels("migrate")},
                "spec": {
                    "restartPolicy": "OnFailure",
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    # Topics first (partitions, replication, retention; auto-creation is off), then roles
                    # and schemas; the broker's address comes from the ConfigMap.
                    "initContainers": [
                        {
                            "name": "topics",
                            "image": IMAGE,
                            "args": ["topics", "create"],
                            "envFrom": [{"configMapRef": {"name": "qyzmet-config"}}],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                            "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
                        }
                    ],
                    "containers": [
                        {
                            "name": "migrate",
                            "image": IMAGE,
                            "args": ["db", "setup"],
                            "envFrom": [{"configMapRef": {"name": "qyzmet-config"}}],
                            "env": env,
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                            "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
                        }
                    ],
                },
            },
        },
    }


def _container(process: str, plugin: Any, port: int | None) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": process,
        "image": IMAGE,
        "args": ["serve", process],
        "envFrom": [{"configMapRef": {"name": "qyzmet-config"}}],
        "env": _env(plugin),
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/qyzmet"},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108  (an emptyDir of its own)
        ],
    }
    if port is not None:
        probe = {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10, "timeoutSeconds": 3}
        container["ports"] = [{"name": "http", "containerPort": port}]
        container["readinessProbe"] = probe
        container["livenessProbe"] = {**probe, "initialDelaySeconds": 20, "failureThreshold": 6}
    else:
        # A worker exits by itself when it stalls (shared.runtime.liveness); its metrics listener
        # answering is the liveness signal here.
        probe = {"httpGet": {"path": "/metrics", "port": "metrics"}, "periodSeconds": 15, "timeoutSeconds": 5}
        container["ports"] = [{"name": "metrics", "containerPort": METRICS_PORT}]
        container["env"] = [
            *container["env"],
            {
                "name": "QYZMET_INSTANCE",
                "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}},
            },
        ]
        container["startupProbe"] = {**probe, "failureThreshold": 30}
        container["livenessProbe"] = {**probe, "failureThreshold": 4}
    return container


def _pod(process: str, plugin: Any, port: int | None) -> dict[str, Any]:
    return {
        "metadata": {
            "labels": _labels(process),
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(port or METRICS_PORT)},
        },
        "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "fsGroup": 10001},
            "terminationGracePeriodSeconds": 30,
            "containers": [_container(process, plugin, port)],
            "volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
        },
    }


def _api(process: str, plugin: Any, port: int) -> list[Manifest]:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(process, process),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": _labels(process)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": _pod(process, plugin, port),
        },
    }
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(process, process),
        "spec": {"selector": _labels(process), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }
    return [deployment, svc, _pdb(process, {"minAvailable": 1})]


def _worker(process: str, plugin: Any) -> list[Manifest]:
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(process, process),
        "spec": {
            "serviceName": process,
            "replicas": 2,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": _labels(process)},
            "template": _pod(process, plugin, None),
        },
    }
    headless = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(process, process),
        "spec": {
            "clusterIP": "None",
            "selector": _labels(process),
            "ports": [{"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"}],
        },
    }
    autoscaler = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(process, process),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": process},
            "minReplicas": 2,
            "maxReplicas": PARTITIONS,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }
    return [statefulset, headless, autoscaler, _pdb(process, {"maxUnavailable": 1})]


def _pdb(process: str, budget: dict[str, int]) -> Manifest:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(process, process),
        "spec": {**budget, "selector": {"matchLabels": _labels(process)}},
    }


def manifests() -> list[Manifest]:
    plugins = registered_services()
    docs: list[Manifest] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        _config_map(plugins),
        _migrate_job(plugins),
    ]
    for plugin in plugins:
        for process in plugin.processes():
            if process.endswith("-api") and plugin.api_port:
                docs += _api(process, plugin, plugin.api_port)
            else:
                docs += _worker(process, plugin)
    return docs


def render() -> str:
    header = "# Generated by `python -m deploy.k8s.render`; edit render.py, not this file.\n"
    return header + yaml.safe_dump_all(manifests(), sort_keys=False, width=120)


def main() -> int:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
