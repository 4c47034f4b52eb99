"""ЦОН webhook subscriptions: which decision events a subscriber gets, and the body it gets.

A subscription filters by region and service (empty = all) and names the decisions.v1 event
types it wants (`decision.made` by default). The body is the CloudEvents structured form of the
event with every field the contract marks as personal data removed (household names and
incomes, inspection findings): a ЦОН system learns the outcome, grounds, amount and period.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from shared.contracts.event import PERSONAL_DATA_MARK, DomainEvent

DEFAULT_EVENT_TYPES = ("decision.made",)


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    url: str
    regions: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    event_types: tuple[str, ...] = DEFAULT_EVENT_TYPES
    active: bool = True

    def wants(self, event_type: str, region: str | None, service_id: str | None) -> bool:
        if not self.active or event_type not in self.event_types:
            return False
        if self.regions and region not in self.regions:
            return False
        return not (self.services and service_id not in self.services)


def _marks_personal(extra: Any) -> bool:
    if callable(extra):
        probe: dict[str, Any] = {}
        extra(probe)
        return bool(probe.get(PERSONAL_DATA_MARK))
    return isinstance(extra, dict) and bool(extra.get(PERSONAL_DATA_MARK))


def _annotation_is_personal(annotation: Any) -> bool:
    """`PersonalStr`, also inside `Optional[...]` / unions (the mark sits on the inner FieldInfo)."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, FieldInfo) and _marks_personal(meta.json_schema_extra):
            return True
    if get_origin(annotation) in (Union, UnionType):
        return any(_annotation_is_personal(arg) for arg in get_args(annotation))
    return False


def _is_personal(model: type[BaseModel], name: str) -> bool:
    field = model.model_fields[name]
    return _marks_personal(field.json_schema_extra) or _annotation_is_personal(field.annotation)


def without_personal_data(value: Any) -> Any:
    """The JSON form of `value` (a contract model, or lists of them) minus personal fields."""
    if isinstance(value, BaseModel):
        model = type(value)
        return {
            name: without_personal_data(getattr(value, name))
            for name in model.model_fields
            if not _is_personal(model, name)
        }
    if isinstance(value, list | tuple):
        return [without_personal_data(item) for item in value]
    if isinstance(value, dict):
        return {key: without_personal_data(item) for key, item in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def webhook_body(
    event: DomainEvent,
    *,
    event_id: str,
    source: str,
    time: datetime,
    subject: str | None,
    region: str | None,
) -> str:
    document = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": event.ce_type(),
        "time": time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "subject": subject,
        "region": region,
        "datacontenttype": "application/json",
        "data": without_personal_data(event),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)


def matching(
    subscriptions: Sequence[Subscription], event_type: str, region: str | None, service_id: str | None
) -> list[Subscription]:
    return [s for s in subscriptions if s.wants(event_type, region, service_id)]
