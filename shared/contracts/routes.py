"""The relay's route of a publisher, derived from the contract table.

A route maps a stored event's type (its `event_name`) to the topic it is published on, or to
None for an internal event. It is built from `shared.contracts.topics`, the same table the
AsyncAPI document is generated from, so what the relay does and what the contract says agree.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.contracts.topics import CONTRACT_TOPICS, STORED_EVENTS, internal_event_names

Route = Callable[[str], str | None]
"""Topic for an event type, or None for an event that stays inside the service."""


class UnroutedEvent(LookupError):
    """A stored event the contract table neither routes nor marks internal.

    Raised rather than skipped: skipping would move the relay's checkpoint past an event that
    should have been published (lost for good); raising makes the relay retry, loudly, until a
    version that knows the event takes over."""

    def __init__(self, publisher: str, event_type: str) -> None:
        super().__init__(f"{publisher}: event {event_type!r} is neither on a contract topic nor internal")
        self.publisher = publisher
        self.event_type = event_type


def topics_by_event(publisher: str) -> dict[str, str]:
    """event name -> topic, for every event `publisher` publishes (no prefix)."""
    out: dict[str, str] = {}
    for contract in CONTRACT_TOPICS:
        if publisher not in contract.publishers:
            continue
        for event in contract.events:
            known = out.setdefault(event.event_name, contract.topic)
            if known != contract.topic:
                raise ValueError(
                    f"{publisher} publishes {event.event_name!r} on two topics: {known}, {contract.topic}"
                )
    return out


def check_routes_complete(publisher: str) -> None:
    """Every event `publisher` can store is routed or internal (never both)."""
    routed = topics_by_event(publisher)
    internal = internal_event_names(publisher)
    both = sorted(set(routed) & internal)
    if both:
        raise ValueError(f"{publisher}: events both published and internal: {both}")
    stored = STORED_EVENTS.get(publisher)
    if stored is None:
        return
    missing = sorted(e.event_name for e in stored.classes() if e.event_name not in {*routed, *internal})
    if missing:
        raise ValueError(f"{publisher}: stored events missing from the contract table: {missing}")


def route_for(publisher: str, prefix: str = "") -> Route:
    """The relay route of `publisher` (a service name); `prefix` isolates test runs' topics."""
    check_routes_complete(publisher)
    routed = {name: prefix + topic for name, topic in topics_by_event(publisher).items()}
    internal = internal_event_names(publisher)

    def route(event_type: str) -> str | None:
        topic = routed.get(event_type)
        if topic is not None:
            return topic
        if event_type in internal:
            return None
        raise UnroutedEvent(publisher, event_type)

    return route
