"""ЦОН webhook subscriptions: which decision events a subscriber gets, and the body it gets.

A subscription filters by region and service (empty = all) and names the decisions.v1 event
types it wants (`decision.made` by default). The body is the CloudEvents structured form of the
event whose `data` is built from an explicit allow-list (`WEBHOOK_FIELDS`): ids, service, office,
region, outcome, grounds (id, text, text_kk), amount, currency, period, dates. Everything else is
left out - the decision's `evaluation` entirely (its conditions quote incomes, its inputs hold
household members and facts), free texts (`reason`, `message`) and who did what, but the head who
signed. A field the contract adds later reaches subscribers only once it is added here.
"""

from __future__ import annotations

import functools
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

WEBHOOK_FIELDS = frozenset(
    {
        # DecisionMade
        "application_id", "result_id", "service_id", "edition_id", "office_id", "region", "channel",
        "outcome", "grounds", "amount", "currency", "period_start", "period_end", "decided_at",
        "signed_by", "on_time", "due_at", "automated",
        # the other events of decisions.v1: ids and dates only
        "complaint_id", "ground", "previous_due_at", "new_due_at", "extended_at", "reopened_at",
        "withdrawn_at", "closed_at", "fired_at", "share", "start", "reconfirm_by", "effective", "until",
        "due_by", "received_on", "next_due_by", "assigned_at", "submitted_at", "returned_at", "flagged_at",
        "on_date",
    }
)  # fmt: skip
"""The event fields a webhook body carries (an allow-list: nothing else leaves)."""

GROUND_FIELDS = ("id", "text", "text_kk")
"""What a ground carries in a webhook body."""


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


@functools.cache
def _public_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of `model` the contract does not mark as personal data (a model's fields are
    fixed: worked out once per model, not for every event)."""
    return tuple(name for name in model.model_fields if not _is_personal(model, name))


@functools.cache
def _webhook_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The allow-listed fields of `model` that are not personal data, in the model's order."""
    return tuple(name for name in _public_fields(model) if name in WEBHOOK_FIELDS)


def without_personal_data(value: Any) -> Any:
    """The JSON form of `value` (a contract model, or lists of them) minus personal fields."""
    if isinstance(value, BaseModel):
        return {name: without_personal_data(getattr(value, name)) for name in _public_fields(type(value))}
    if isinstance(value, list | tuple):
        return [without_personal_data(item) for item in value]
    if isinstance(value, dict):
        return {key: without_personal_data(item) for key, item in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _ground(value: Any) -> dict[str, Any]:
    found = {name: getattr(value, name, None) for name in GROUND_FIELDS}
    return {name: item for name, item in found.items() if item is not None or name != "text_kk"}


def allowed_data(event: DomainEvent) -> dict[str, Any]:
    """The event's data for a webhook: the allow-listed fields only (and never one the contract
    marks as personal data)."""
    data: dict[str, Any] = {}
    for name in _webhook_fields(type(event)):
        value = getattr(event, name)
        if name == "grounds":
            data[name] = [_ground(g) for g in value]
        elif name == "ground":
            data[name] = _ground(value)
        else:
            data[name] = without_personal_data(value)
    return data


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
        "data": allowed_data(event),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str)


def matching(
    subscriptions: Sequence[Subscription], event_type: str, region: str | None, service_id: str | None
) -> list[Subscription]:
    return [s for s in subscriptions if s.wants(event_type, region, service_id)]
