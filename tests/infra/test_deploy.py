"""The Kubernetes manifests in deploy/k8s: current, valid against the Kubernetes schemas
(offline, kubernetes-validate), and complete for every process the services register."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.k8s import render
from shared.runtime.registry import registered_services

K8S = Path(render.__file__).parent
KUBERNETES_VERSION = "1.30"


def _docs(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")) if doc]


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_committed_manifests_are_the_renderers_output() -> None:
    assert (K8S / "qyzmet.yaml").read_text(encoding="utf-8") == render.render(), (
        "deploy/k8s/qyzmet.yaml is stale: run `python -m deploy.k8s.render`"
    )


@pytest.mark.parametrize("name", ["qyzmet.yaml", "secrets.example.yaml"])
def test_every_manifest_is_valid_against_the_kubernetes_schemas(name: str) -> None:
    docs = _docs(name)
    assert docs
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validation_catches_a_broken_manifest() -> None:
    deployment = next(doc for doc in _docs("qyzmet.yaml") if doc["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}  # a misspelt field
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSION, strict=True)


def test_every_process_has_a_workload_with_probes_resources_and_a_disruption_budget() -> None:
    docs = _docs("qyzmet.yaml")
    workloads = {**_by_kind(docs, "Deployment"), **_by_kind(docs, "StatefulSet")}
    budgets = _by_kind(docs, "PodDisruptionBudget")
    processes = {p for plugin in registered_services() for p in plugin.processes()}
    assert processes and processes <= set(workloads)
    for process in processes:
        workload = workloads[process]
        container = workload["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["serve", process]
        assert container["livenessProbe"] and (
            container.get("readinessProbe") or container.get("startupProbe")
        )
        assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
        assert container["securityContext"]["runAsNonRoot"] is True
        assert (
            budgets[process]["spec"]["selector"]["matchLabels"] == workload["spec"]["selector"]["matchLabels"]
        )


def test_a_migrate_job_alone_holds_the_administrators_url_and_runs_db_setup() -> None:
    job = _by_kind(_docs("qyzmet.yaml"), "Job")["qyzmet-migrate"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["db", "setup"]
    [topics] = job["spec"]["template"]["spec"]["initContainers"]
    assert topics["args"] == ["topics", "create"], "topics exist before any process (auto-creation is off)"
    config = _by_kind(_docs("qyzmet.yaml"), "ConfigMap")["qyzmet-config"]["data"]
    assert int(config["KAFKA_REPLICATION_FACTOR"]) >= 3, "no acknowledged record on one broker only"
    names = {e["name"] for e in container["env"]}
    assert "DATABASE_URL" in names
    assert {f"{p.name.upper()}_DATABASE_URL" for p in registered_services() if p.migrations} <= names


def test_workers_scale_by_consumer_group_up_to_the_partition_count_with_stable_ordinals() -> None:
    docs = _docs("qyzmet.yaml")
    autoscalers = _by_kind(docs, "HorizontalPodAutoscaler")
    config = _by_kind(docs, "ConfigMap")["qyzmet-config"]["data"]
    for name, worker in _by_kind(docs, "StatefulSet").items():
        assert autoscalers[name]["spec"]["maxReplicas"] == int(config["TOPIC_PARTITIONS"])
        env = {e["name"]: e for e in worker["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert "pod-index" in env["QYZMET_INSTANCE"]["valueFrom"]["fieldRef"]["fieldPath"]


def test_configuration_and_credentials_are_separate() -> None:
    docs = _docs("qyzmet.yaml")
    assert not _by_kind(docs, "Secret"), "no credentials in the committed bundle"
    config = _by_kind(docs, "ConfigMap")["qyzmet-config"]["data"]
    assert not any("password" in value or "@" in value for value in config.values())
    secret_keys = set(_docs("secrets.example.yaml")[0]["stringData"])
    with_schema = {plugin.name: bool(plugin.migrations) for plugin in registered_services()}
    for workload in [*_by_kind(docs, "Deployment").values(), *_by_kind(docs, "StatefulSet").values()]:
        container = workload["spec"]["template"]["spec"]["containers"][0]
        refs = [
            e["valueFrom"]["secretKeyRef"]["key"]
            for e in container["env"]
            if "secretKeyRef" in e.get("valueFrom", {})
        ]
        assert set(refs) <= secret_keys
        service = container["args"][1].rsplit("-", 1)[0]
        # Each secret only where it is used: the token secret everywhere; the audit key and a
        # database URL only with a schema (the console holds the token secret alone).
        expected = (
            {"token-secret", "audit-key", f"{service}-database-url"}
            if with_schema[service]
            else {"token-secret"}
        )
        assert sorted(refs) == sorted(expected), f"{container['args'][1]} holds {refs}"
        names = {e["name"]: e for e in container["env"]}
        assert "DATABASE_URL" not in names, "no service process holds the administrator's URL"
        if with_schema[service]:
            db = names[f"{service.upper()}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"]
            assert db == f"{service}-database-url", "each service connects with its own role"
        else:
            assert not any(name.endswith("_DATABASE_URL") for name in names), f"{service} has no database"
        # APIs listen on all interfaces inside the pod, or the Service could not reach them.
        if workload["kind"] == "Deployment":
            assert config[f"{service.upper()}_API_HOST"] == "0.0.0.0"  # noqa: S104
