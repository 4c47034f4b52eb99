"""Which registry of events travels on which topic: the whole public contract in one place."""

from __future__ import annotations

import importlib

from shared.contracts.registry import EventRegistry

TOPIC_CONTRACTS: dict[str, str] = {
    "intake.submissions.v1": "shared.contracts.applications:INTAKE_COMMANDS",
    "applications.v1": "shared.contracts.applications:APPLICATION_EVENTS",
    "inspections.v1": "shared.contracts.decisions:INSPECTION_COMMANDS",
    "decisions.v1": "shared.contracts.decisions:DECISION_EVENTS",
}


def contract_registries() -> dict[str, EventRegistry]:
    """topic -> registry, for every contract module that exists."""
    out: dict[str, EventRegistry] = {}
    for topic, target in TOPIC_CONTRACTS.items():
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        registry = getattr(module, attribute, None)
        if isinstance(registry, EventRegistry):
            out[topic] = registry
    return out
