"""One contract table: the relays' routes, the AsyncAPI document and the created topics agree.

For every event a service can store, the topic its relay sends it to is the channel the AsyncAPI
document lists it on; internal events are in neither. Every topic of the table is created.
"""

from __future__ import annotations

import json

import pytest

from services.decision.bootstrap import consumed_registry, route
from services.intake.bootstrap import APPLICATIONS_TOPIC, application_route
from shared.cli.contracts import render_contract
from shared.contracts.decisions import DECISION_EVENTS, INSPECTION_COMMANDS, CaseOpened
from shared.contracts.event import parse_ce_type
from shared.contracts.routes import Route, UnroutedEvent, route_for
from shared.contracts.topic_names import TOPIC_NAMES
from shared.contracts.topics import CONTRACT_TOPICS, STORED_EVENTS, internal_event_names, topic_names
from shared.messaging.topics import contract_topics, dlq_of


def _documented_channels(publisher: str) -> dict[str, str]:
    """event name -> topic, from the `send` operations of `publisher` in the AsyncAPI document."""
    document = json.loads(render_contract()["asyncapi.json"])
    out: dict[str, str] = {}
    for operation in document["operations"].values():
        if operation["x-publisher"] != publisher:
            continue
        channel = document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        for message_ref in operation["messages"]:
            message_id = message_ref["$ref"].rsplit("/", 1)[-1]
            ce_type = document["components"]["messages"][message_id]["name"]
            name, _ = parse_ce_type(ce_type)
            assert name not in out, f"{publisher} documents {name} on two channels"
            out[name] = channel["address"]
    return out


def _service_routes() -> dict[str, Route]:
    """The routes the services' relays are built with (notification and complaints build theirs
    with `route_for` from the table directly)."""
    return {
        "intake": application_route(APPLICATIONS_TOPIC),
        "decision": route(),
        "notification": route_for("notification"),
        "complaints": route_for("complaints"),
    }


@pytest.mark.parametrize("publisher", sorted(STORED_EVENTS))
def test_relay_route_equals_the_asyncapi_channel_for_every_stored_event(publisher: str) -> None:
    relay = _service_routes()[publisher]
    documented = _documented_channels(publisher)
    internal = internal_event_names(publisher)
    for event in STORED_EVENTS[publisher].classes():
        assert relay(event.event_name) == documented.get(event.event_name), event.event_name
        if event.event_name in internal:
            assert event.event_name not in documented
    assert set(documented) <= {e.event_name for e in STORED_EVENTS[publisher].classes()}


def test_internal_events_are_not_part_of_the_public_contract() -> None:
    files = render_contract()
    internal = {name for publisher in STORED_EVENTS for name in internal_event_names(publisher)}
    assert internal, "the decision service keeps internal events"
    for name in internal:
        assert not any(name in path for path in files), name
        assert f'"{name.replace(".", "_")}' not in files["asyncapi.json"]


def test_every_topic_of_the_table_is_created_with_its_dead_letter_topic() -> None:
    created = {spec.name for spec in contract_topics(prefix="p.")}
    for topic in topic_names():
        assert {"p." + topic, "p." + dlq_of(topic)} <= created
    assert len(topic_names()) == len(set(topic_names())) == len(CONTRACT_TOPICS)


def test_the_topic_names_listed_without_the_models_are_the_tables() -> None:
    """`qyzmet topics list` and topic creation read the names from `topic_names.py` (no event model
    loads): exactly the table's, in its order, and nothing else is created."""
    assert topic_names() == TOPIC_NAMES
    assert [spec.name for spec in contract_topics()] == [
        name for topic in topic_names() for name in (topic, dlq_of(topic))
    ]


def test_routes_carry_the_prefix_and_refuse_an_unknown_event() -> None:
    decision = route_for("decision", prefix="run1.")
    assert decision("inspection.scheduled") == "run1.inspections.v1"
    assert decision("decision.made") == "run1.decisions.v1"
    assert decision(CaseOpened.event_name) is None
    with pytest.raises(UnroutedEvent):
        decision("decision.not_in_the_table")


def test_decision_consumer_decodes_what_its_topics_carry() -> None:
    consumed = {e.event_name for e in consumed_registry().classes()}
    assert {e.event_name for e in INSPECTION_COMMANDS.classes()} <= consumed
    assert "application.submitted" in consumed
    assert not consumed & {e.event_name for e in DECISION_EVENTS.classes()} - {
        e.event_name for e in INSPECTION_COMMANDS.classes()
    }


def test_audit_v1_describes_its_record_and_anchor_messages_and_publishers() -> None:
    """audit.v1 carries no CloudEvents but two JSON messages told apart by a header; the contract
    says which, and who publishes them (every service's audit relay, and `qyzmet audit publish`)."""
    from shared.contracts.topics import contract_of

    audit = contract_of("audit.v1")
    for word in ("audit.record", "audit.anchor", "qyzmet_kind", "<schema>/<chain>", "seq", "hash"):
        assert word in audit.summary, word
    assert {"intake", "decision", "notification", "complaints", "catalog"} <= set(audit.publishers)
    assert audit.events == ()  # no CloudEvents: the relays' routes and AsyncAPI leave it out
