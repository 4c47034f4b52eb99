"""AsyncAPI 3.0 document of the Kafka event contract, generated from the contract table.

One channel per topic that carries events, one message per current event version, and one
`send` operation per publisher of a channel (`x-publisher` names it), so the document says
the same as the relays' routes: both come from `shared.contracts.topics`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.contracts.topics import TopicContract

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


def _channel_id(topic: str) -> str:
    return topic.replace(".", "_")


def asyncapi_document(topics: Iterable[TopicContract], version: str = "1.0.0") -> dict[str, Any]:
    """One channel per topic; one message per current event version (CloudEvents binary mode)."""
    doc_channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for contract in topics:
        topic = contract.topic
        refs: dict[str, Any] = {}
        for event in contract.registry().classes():
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
        channel_id = _channel_id(topic)
        doc_channels[channel_id] = {"address": topic, "description": contract.summary, "messages": refs}
        for publisher in contract.publishers:
            operations[f"{publisher.replace('-', '_')}_sends_{channel_id}"] = {
                "action": "send",
                "x-publisher": publisher,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [
                    {"$ref": f"#/channels/{channel_id}/messages/{message_id}"} for message_id in sorted(refs)
                ],
            }
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
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }
