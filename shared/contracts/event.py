"""Base class of every domain event: a versioned, frozen pydantic model.

Each concrete event names itself with `event_name` (e.g. "application.submitted") and
`event_version`; its CloudEvents type is `kz.qyzmet.<event_name>.v<version>`. Fields
that carry personal data are declared with `PersonalData[...]` so that schemas, logs and
access checks can see them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

CE_TYPE_PREFIX = "kz.qyzmet."

PERSONAL_DATA_MARK = "x-personal-data"


def _personal(schema: dict[str, Any]) -> None:
    schema[PERSONAL_DATA_MARK] = True


PersonalStr = Annotated[str, Field(json_schema_extra=_personal)]
"""A string holding personal data (ИИН, a name, a phone number)."""


def unstorable_reason(text: str) -> str | None:
    """Why PostgreSQL cannot store `text` (a NUL character, an unpaired surrogate), or None."""
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (no unpaired surrogates)"
    return None


def storable_text(text: str, limit: int) -> str:
    """`text` cut to `limit` characters without what cannot be stored (NUL, unpaired surrogates)."""
    if unstorable_reason(text) is None:
        return text[:limit]
    cleaned = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return cleaned[:limit]


_COLLECTIONS = (list, tuple, set, frozenset)
"""A tuple, not `list | tuple | ...`: that expression builds a new union on every call, and this
check runs for every field of every contract model (issue 14: most of its cost)."""


_SCALARS = frozenset({type(None), bool, int, float, Decimal, datetime, date, UUID})
"""Values that hold no text (nested models check their own fields)."""


def reject_nul(value: Any) -> Any:
    """PostgreSQL cannot store NUL or unpaired surrogates in text or jsonb: refuse them at the
    edge, with the field's name. Strings inside lists and mappings are checked too; nested
    models check their own fields."""
    if isinstance(value, str):
        # ASCII text (a flag CPython keeps) holds no surrogate: only a NUL needs looking for.
        if "\x00" in value or not value.isascii():
            reason = unstorable_reason(value)
            if reason:
                raise ValueError(reason)
    elif isinstance(value, _COLLECTIONS):
        for item in value:
            if item.__class__ not in _SCALARS and not isinstance(item, BaseModel):
                reject_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key)
            reject_nul(item)
    return value


class ContractModel(BaseModel):
    """Base of every model of the contract (events, commands and their parts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # `reject_nul`, with its most frequent cases inline (this runs for every field of every
        # contract model validated: a second call per field cost more than the checks, issue 14)
        kind = value.__class__
        if kind is str:
            if ("\x00" in value or not value.isascii()) and (reason := unstorable_reason(value)):
                raise ValueError(reason)
            return value
        if kind in _SCALARS or isinstance(value, BaseModel):
            return value
        return reject_nul(value)


class DomainEvent(ContractModel):
    event_name: ClassVar[str]
    event_version: ClassVar[int] = 1

    @classmethod
    def ce_type(cls) -> str:
        return ce_type_of(cls.event_name, cls.event_version)

    @classmethod
    def personal_fields(cls) -> frozenset[str]:
        schema = cls.model_json_schema()
        return frozenset(
            name for name, prop in schema.get("properties", {}).items() if prop.get(PERSONAL_DATA_MARK)
        )


def ce_type_of(event_name: str, version: int) -> str:
    return f"{CE_TYPE_PREFIX}{event_name}.v{version}"


def parse_ce_type(ce_type: str) -> tuple[str, int]:
    """Split `kz.qyzmet.application.submitted.v2` into ("application.submitted", 2)."""
    if not ce_type.startswith(CE_TYPE_PREFIX):
        raise ValueError(f"event type {ce_type!r} does not start with {CE_TYPE_PREFIX!r}")
    name, _, version = ce_type[len(CE_TYPE_PREFIX) :].rpartition(".v")
    if not name or not version.isdigit():
        raise ValueError(f"event type {ce_type!r} does not end with a version such as '.v1'")
    return name, int(version)
