"""Event contract tooling: types, upcasting, CloudEvents binary mode, JSON Schema export."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cloudevents.v1.kafka import KafkaMessage, from_binary

from shared.contracts.event import DomainEvent, PersonalStr, parse_ce_type
from shared.contracts.registry import EventRegistry, InvalidEventData, UnknownEventType
from shared.contracts.schemas import event_schemas, write_schemas
from shared.messaging.envelope import Envelope, PoisonMessage, decode


class BenefitAssigned(DomainEvent):
    event_name = "test.benefit_assigned"
    event_version = 2
    case_id: str
    amount_tenge: int
    period_months: int
    recipient_iin: PersonalStr


def _registry() -> EventRegistry:
    registry = EventRegistry([BenefitAssigned])

    @registry.upcaster("test.benefit_assigned", 1)
    def v1_to_v2(data: dict) -> dict:  # type: ignore[type-arg]
        # v1 had no period; the v1 contract meant a single month.
        return {**data, "period_months": 1}

    return registry


def test_ce_type_names_event_and_version() -> None:
    assert BenefitAssigned.ce_type() == "kz.qyzmet.test.benefit_assigned.v2"
    assert parse_ce_type("kz.qyzmet.application.submitted.v12") == ("application.submitted", 12)
    with pytest.raises(ValueError, match="version"):
        parse_ce_type("kz.qyzmet.application.submitted")


def test_old_version_is_upcast_on_read() -> None:
    event = _registry().decode(
        "kz.qyzmet.test.benefit_assigned.v1", {"case_id": "c", "amount_tenge": 5, "recipient_iin": "x"}
    )
    assert isinstance(event, BenefitAssigned)
    assert event.period_months == 1


def test_unknown_and_future_versions_are_refused() -> None:
    registry = _registry()
    with pytest.raises(UnknownEventType):
        registry.decode("kz.qyzmet.test.other.v1", {})
    with pytest.raises(UnknownEventType):
        registry.decode("kz.qyzmet.test.benefit_assigned.v3", {})


def test_invalid_data_names_the_field() -> None:
    with pytest.raises(InvalidEventData, match="amount_tenge"):
        _registry().decode(
            BenefitAssigned.ce_type(),
            {"case_id": "c", "amount_tenge": "many", "period_months": 1, "recipient_iin": "x"},
        )


def test_personal_fields_are_marked_in_the_schema() -> None:
    assert BenefitAssigned.personal_fields() == {"recipient_iin"}
    schema = event_schemas(_registry())[BenefitAssigned.ce_type()]
    assert schema["properties"]["recipient_iin"]["x-personal-data"] is True
    assert schema["$id"] == BenefitAssigned.ce_type()


def test_schema_export_writes_one_file_per_event(tmp_path: Path) -> None:
    written = write_schemas(_registry(), tmp_path)
    assert [p.name for p in written] == ["kz.qyzmet.test.benefit_assigned.v2.schema.json"]
    assert json.loads(written[0].read_text())["title"] == "BenefitAssigned"


def test_binary_mode_roundtrip_and_interop_with_cloudevents_sdk() -> None:
    envelope = Envelope(
        id=str(uuid.uuid4()),
        source="/qyzmet/decision",
        type=BenefitAssigned.ce_type(),
        data={"case_id": "c-1", "amount_tenge": 1000, "period_months": 3, "recipient_iin": "x"},
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        subject="case-c-1",
        correlation_id="corr-1",
        office="karaganda-01",
    )
    headers = envelope.to_headers()
    assert decode(envelope.body(), headers) == envelope
    sdk_event = from_binary(KafkaMessage(headers=dict(headers), key=b"case-c-1", value=envelope.body()))
    assert sdk_event["type"] == BenefitAssigned.ce_type()
    assert sdk_event["id"] == envelope.id
    assert sdk_event["correlationid"] == "corr-1"
    assert sdk_event.data["amount_tenge"] == 1000


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"{bad", None, "not valid JSON"),
        (b"[1]", None, "JSON object"),
        (b"{}", [("ce_specversion", b"0.3")], "specversion"),
        (b"{}", "drop:ce_type", "missing header ce_type"),
        (b"{}", [("ce_time", b"yesterday")], "ce_time"),
        (None, None, "empty body"),
    ],
)
def test_poison_messages_are_named(body: bytes | None, headers: object, reason: str) -> None:
    good = Envelope(id="1", source="/s", type="kz.qyzmet.x.v1", data={}).to_headers()
    if isinstance(headers, list):
        names = {name for name, _ in headers}
        good = [h for h in good if h[0] not in names] + headers
    elif headers == "drop:ce_type":
        good = [h for h in good if h[0] != "ce_type"]
    with pytest.raises(PoisonMessage, match=reason):
        decode(body, good)
