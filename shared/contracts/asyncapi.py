"""AsyncAPI 3.0 document of the Kafka event contract, generated from the event models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.contracts.registry import EventRegistry

_BINDING_HEADERS = {
    "type": "object",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string"},
        "ce_source": {"type": "string"},
        "ce_type": {"type": "string"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "stream id; also the Kafka key"},
        "ce_correlationid": {"type": "string"},
        "ce_causationid": {"type": "string"},
        "ce_actor": {"type": "string"},
        "ce_office": {"type": "string"},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def _message_id(ce_type: str) -> str:
    return ce_type.replace(".", "_")


def asyncapi_document(channels: Mapping[str, EventRegistry], version: str = "1.0.0") -> dict[str, Any]:
    """One channel per topic; one message per current event version (CloudEvents binary mode)."""
    doc_channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for topic, registry in channels.items():
        refs: dict[str, Any] = {}
        for event in registry.classes():
            ce_type = event.ce_type()
            message_id = _message_id(ce_type)
            schema = event.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in schema.pop("$defs", {}).items():
                schemas[name] = definition
            schemas[event.__name__] = schema
            messages[message_id] = {
                "name": ce_type,
                "title": event.__name__,
                "summary": (event.__doc__ or "").strip().splitlines()[0] if event.__doc__ else event.__name__,
                "contentType": "application/json",
                "headers": _BINDING_HEADERS,
                "payload": {"$ref": f"#/components/schemas/{event.__name__}"},
            }
            refs[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        doc_channels[topic.replace(".", "_")] = {"address": topic, "messages": refs}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Qyzmet event contract",
            "version": version,
            "description": "Kafka topics of Qyzmet. CloudEvents 1.0 in binary content mode; key = stream id."
            " Properties marked x-personal-data carry personal data.",
        },
        "defaultContentType": "application/json",
        "channels": doc_channels,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }
