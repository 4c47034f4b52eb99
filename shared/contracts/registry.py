"""Registry of event classes and upcasters from old versions to the current one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from shared.contracts.event import DomainEvent, parse_ce_type

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    def __init__(self, ce_type: str) -> None:
        super().__init__(f"unknown event type {ce_type!r}")
        self.ce_type = ce_type


class InvalidEventData(ValueError):
    def __init__(self, ce_type: str, error: ValidationError) -> None:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in error.errors()
        )
        super().__init__(f"{ce_type}: invalid data: {details}")
        self.ce_type = ce_type


class EventRegistry:
    def __init__(self, events: Iterable[type[DomainEvent]] = ()) -> None:
        self._current: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for event in events:
            self.register(event)

    def register(self, event: type[DomainEvent]) -> type[DomainEvent]:
        known = self._current.get(event.event_name)
        if known is not None and known is not event:
            raise ValueError(f"event {event.event_name!r} is registered twice")
        self._current[event.event_name] = event
        return event

    def upcaster(self, event_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register a function turning version `from_version` data into the next version."""

        def wrap(func: Upcaster) -> Upcaster:
            self._upcasters[(event_name, from_version)] = func
            return func

        return wrap

    def classes(self) -> list[type[DomainEvent]]:
        return sorted(self._current.values(), key=lambda cls: cls.event_name)

    def resolve(self, ce_type: str) -> type[DomainEvent]:
        try:
            name, _ = parse_ce_type(ce_type)
        except ValueError as exc:
            raise UnknownEventType(ce_type) from exc
        event = self._current.get(name)
        if event is None:
            raise UnknownEventType(ce_type)
        return event

    def decode(self, ce_type: str, data: dict[str, Any]) -> DomainEvent:
        """Validate `data` of type `ce_type`, upcasting an old version to the current one."""
        event = self.resolve(ce_type)
        _, version = parse_ce_type(ce_type)
        if version > event.event_version:
            raise UnknownEventType(ce_type)
        while version < event.event_version:
            upcast = self._upcasters.get((event.event_name, version))
            if upcast is None:
                raise UnknownEventType(ce_type)
            data = upcast(data)
            version += 1
        try:
            return event.model_validate(data)
        except ValidationError as exc:
            raise InvalidEventData(ce_type, exc) from exc
