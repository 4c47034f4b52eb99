"""JSON Schema export of the event contract, so a contract change is always deliberate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.contracts.registry import EventRegistry


def event_schemas(registry: EventRegistry) -> dict[str, dict[str, Any]]:
    """ce_type -> JSON Schema of its data, for every current event version."""
    out: dict[str, dict[str, Any]] = {}
    for event in registry.classes():
        schema = event.model_json_schema()
        schema["$id"] = event.ce_type()
        out[event.ce_type()] = schema
    return out


def write_schemas(registry: EventRegistry, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for ce_type, schema in event_schemas(registry).items():
        path = folder / f"{ce_type}.schema.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n", "utf-8")
        written.append(path)
    return written
