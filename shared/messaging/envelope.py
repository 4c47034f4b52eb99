"""CloudEvents 1.0 envelopes in Kafka binary content mode.

Attributes travel as `ce_*` headers, the body is the event data as JSON. Extensions carry
the correlation id, causation id, actor, office and region (subscribers such as ЦОН systems
filter by region from the header, without parsing the body). Decoding is strict: anything that is
not a well-formed event raises `PoisonMessage` with the reason, for the dead-letter topic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.contracts.event import ce_type_of
from shared.db.pool import loads
from shared.eventstore.records import StoredEvent

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
_EXTENSIONS = {
    "correlation_id": "ce_correlationid",
    "causation_id": "ce_causationid",
    "actor": "ce_actor",
    "office": "ce_office",
    "region": "ce_region",
}

Headers = list[tuple[str, bytes]]
_SPEC_BYTES = SPEC_VERSION.encode()
_CONTENT_TYPE_BYTES = CONTENT_TYPE.encode()


class PoisonMessage(ValueError):
    """A message that can never be processed; it goes to the dead-letter topic with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(Exception):
    """The message is fine but cannot be handled yet (what it refers to has not arrived): retry
    it with back-off, and dead-letter it with `reason` only after the retry budget is spent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    data: dict[str, Any]
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    office: str | None = None
    region: str | None = None

    def to_headers(self) -> Headers:
        headers: Headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_id", self.id.encode()),
            ("ce_source", self.source.encode()),
            ("ce_type", self.type.encode()),
            ("ce_time", self.time.astimezone(UTC).isoformat().replace("+00:00", "Z").encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]
        if self.subject is not None:
            headers.append(("ce_subject", self.subject.encode()))
        for attr, header in _EXTENSIONS.items():
            value = getattr(self, attr)
            if value is not None:
                headers.append((header, str(value).encode()))
        return headers

    def body(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def envelope_of(event: StoredEvent, source: str) -> Envelope:
    meta = event.metadata
    return Envelope(
        id=str(event.event_id),
        source=source,
        type=ce_type_of(event.event_type, event.schema_version),
        data=event.data,
        time=event.recorded_at,
        subject=event.stream_id,
        correlation_id=meta.get("correlation_id"),
        causation_id=meta.get("causation_id"),
        actor=meta.get("actor"),
        office=meta.get("office"),
        region=meta.get("region"),
    )


def publishable(row: Mapping[str, Any], source: str) -> tuple[bytes, Headers]:
    """Body and headers of a row from `EventStore.read_committed_for_publishing` (the relay's hot path:
    headers are built directly rather than through an `Envelope`)."""
    headers: Headers = [
        ("ce_specversion", _SPEC_BYTES),
        ("ce_id", str(row["event_id"]).encode()),
        ("ce_source", source.encode()),
        ("ce_type", ce_type_of(row["event_type"], row["schema_version"]).encode()),
        ("ce_time", row["recorded_at"].astimezone(UTC).isoformat().replace("+00:00", "Z").encode()),
        ("content-type", _CONTENT_TYPE_BYTES),
        ("ce_subject", row["stream_id"].encode()),
    ]
    for attr, header in _EXTENSIONS.items():
        value = row[attr]
        if value is not None:
            headers.append((header, value.encode()))
    return row["data_json"].encode("utf-8"), headers


def _text(headers: dict[str, bytes], name: str, *, required: bool) -> str | None:
    raw = headers.get(name)
    if raw is None:
        if required:
            raise PoisonMessage(f"missing header {name}")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoisonMessage(f"header {name} is not UTF-8") from exc


def decode(value: bytes | None, headers: Headers | None) -> Envelope:
    """Parse a Kafka record in binary content mode; raise `PoisonMessage` with the reason."""
    by_name = {name: raw for name, raw in (headers or []) if raw is not None}
    spec = _text(by_name, "ce_specversion", required=True)
    if spec != SPEC_VERSION:
        raise PoisonMessage(f"unsupported ce_specversion {spec!r}")
    ce_id = _text(by_name, "ce_id", required=True)
    source = _text(by_name, "ce_source", required=True)
    ce_type = _text(by_name, "ce_type", required=True)
    assert ce_id is not None and source is not None and ce_type is not None
    time_text = _text(by_name, "ce_time", required=False)
    try:
        time = datetime.fromisoformat(time_text) if time_text else datetime.now(UTC)
    except ValueError as exc:
        raise PoisonMessage(f"ce_time {time_text!r} is not an RFC 3339 time") from exc
    if value is None:
        raise PoisonMessage("empty body")
    try:
        data = loads(value)  # orjson, json for what it refuses
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PoisonMessage(f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PoisonMessage(f"body must be a JSON object, got {type(data).__name__}")
    extensions = {attr: _text(by_name, header, required=False) for attr, header in _EXTENSIONS.items()}
    return Envelope(
        id=ce_id,
        source=source,
        type=ce_type,
        data=data,
        time=time,
        subject=_text(by_name, "ce_subject", required=False),
        **extensions,
    )
