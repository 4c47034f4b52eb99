"""Named, effective-dated, per-region parameters (poverty line, food-basket cost, ...).

The seeds name these values but never give them. `parameters.yaml` defines them (type, scope,
who sets them); values come as `ParameterRecord`s: the clearly labelled EXAMPLE values shipped in
`example_parameters.yaml`, plus records an administrator stores (persisted elsewhere).
`ParameterBook` is a pure in-memory index over both.

Selection of the value in force for (parameter, region, date), among records whose
[effective_from, effective_to) contains the date and whose region is the asked region or
"national" (asked for a district, "<region>/<district>", also the district's own records):
  1. a real (non-example) record beats an example;
  2. a district's record beats its region's, and a region-specific record beats a national one;
  3. the record with the latest effective_from wins (a newer decision replaces an older one);
  4. the record recorded last wins (a correction replaces the corrected record).
Two records still tied with different values raise `ConflictingParameterValues` (never guess).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from shared.catalog.errors import (
    ConflictingParameterValues,
    InvalidParameterRecord,
    ParameterNotInForce,
    UnknownParameter,
    UnknownRegion,
)
from shared.catalog.vocabulary import NATIONAL, DurationUnit


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterValueType(StrEnum):
    MONEY = "money"
    """Amount in tenge (KZT), a Decimal."""
    DECIMAL = "decimal"
    INTEGER = "integer"
    TEXT = "text"
    TEXT_LIST = "text_list"
    CHOICE = "choice"
    """One of the definition's `choices`."""
    TERM = "term"
    """A duration: {amount: N, unit: calendar_days|working_days|...}."""
    PERCENT_TABLE = "percent_table"
    """Mapping of ids (e.g. quality indicator ids) to percentages."""


class ParameterScope(StrEnum):
    REGION = "region"
    """Set per region; a "national" record serves as fallback for regions without their own."""
    NATIONAL = "national"
    """One value for the whole country; only "national" records are allowed."""
    DISTRICT = "district"
    """Set per district or city (its maslikhat): records keyed "<region>/<district>", with the
    region's and the national records as fallbacks."""


DISTRICT_SEPARATOR = "/"
_DISTRICT = re.compile(r"^[a-z][a-z0-9_]*$")


def district_key(region: str, district: str | None) -> str:
    """The key of a district's records ("karaganda/karaganda_city"), or the region without one."""
    return region if district is None else f"{region}{DISTRICT_SEPARATOR}{district}"


def split_key(key: str) -> tuple[str, str | None]:
    """("karaganda", "karaganda_city") for "karaganda/karaganda_city"; (key, None) for a region."""
    region, sep, district = key.partition(DISTRICT_SEPARATOR)
    return (region, district) if sep else (key, None)


class ParameterDefinition(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name_en: str
    set_by: str
    period: str
    value_type: ParameterValueType
    scope: ParameterScope
    unit: str | None = None
    choices: tuple[str, ...] = ()
    used_by: tuple[str, ...] = ()
    """Service ids whose rules use the parameter."""
    used_by_note: str | None = None
    value_in_seeds: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _choices(self) -> Self:
        if (self.value_type is ParameterValueType.CHOICE) != bool(self.choices):
            raise ValueError("choices are given exactly when value_type is 'choice'")
        return self


class TermValue(_Strict):
    amount: PositiveInt
    unit: DurationUnit


ParameterValue = Decimal | int | str | tuple[str, ...] | TermValue | Mapping[str, Decimal]


class ParameterRecord(_Strict):
    """One value of one parameter for one region over one period, as recorded."""

    parameter: str
    region: str
    """Region id, "national", or "<region>/<district>" for a district-scope parameter."""
    effective_from: date
    effective_to: date | None = None
    """Exclusive end; None = until further notice."""
    value: object
    """Raw value; decoded against the parameter's value_type by ParameterBook."""
    example: bool = False
    """True for illustrative values that are NOT legal data."""
    note: str | None = None
    source: str | None = None
    """The act that set the value (for real records)."""
    recorded_by: str | None = None
    recorded_at: datetime | None = None

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        return self

    def in_force_on(self, on_date: date) -> bool:
        return self.effective_from <= on_date and (self.effective_to is None or on_date < self.effective_to)


def _decimal(raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        value = Decimal(str(raw))
    except InvalidOperation as exc:
        raise ValueError(f"expected a number, got {raw!r}") from exc
    if not value.is_finite():
        raise ValueError(f"expected a finite number, got {raw!r}")
    return value


def decode_value(definition: ParameterDefinition, raw: object) -> ParameterValue:
    """Check a raw value against the definition's value_type and return its typed form."""
    kind = definition.value_type
    if kind in (ParameterValueType.MONEY, ParameterValueType.DECIMAL):
        return _decimal(raw)
    if kind is ParameterValueType.INTEGER:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"expected an integer, got {raw!r}")
        return raw
    if kind is ParameterValueType.TEXT:
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError(f"expected a non-empty text, got {raw!r}")
        return raw
    if kind is ParameterValueType.TEXT_LIST:
        if not isinstance(raw, (list, tuple)) or not all(isinstance(x, str) for x in raw):
            raise ValueError(f"expected a list of texts, got {raw!r}")
        return tuple(raw)
    if kind is ParameterValueType.CHOICE:
        if raw not in definition.choices:
            raise ValueError(f"expected one of {', '.join(definition.choices)}, got {raw!r}")
        assert isinstance(raw, str)
        return raw
    if kind is ParameterValueType.TERM:
        return TermValue.model_validate(raw)
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
        raise ValueError(f"expected a mapping of ids to percentages, got {raw!r}")
    return {str(k): _decimal(v) for k, v in raw.items()}


@dataclass(frozen=True)
class ResolvedValue:
    """A decoded record: the value plus the record it came from (for audit and display)."""

    record: ParameterRecord
    value: ParameterValue

    @property
    def example(self) -> bool:
        return self.record.example


class ParameterBook:
    """In-memory, effective-dated index of parameter values. Pure: no I/O.

    Build it from the definitions plus any records (example file values and/or stored records).
    Every record is checked on construction: the parameter and region exist, the value matches
    the parameter's type, and national-scope parameters only have national records.
    """

    def __init__(
        self,
        definitions: Iterable[ParameterDefinition],
        records: Iterable[ParameterRecord],
        *,
        regions: Iterable[str] | None = None,
        include_examples: bool = True,
    ) -> None:
        self._definitions = {d.id: d for d in definitions}
        self._regions = None if regions is None else frozenset(regions)
        self._by_parameter: dict[str, list[ResolvedValue]] = defaultdict(list)
        for record in records:
            resolved = self._check(record)
            if record.example and not include_examples:
                continue
            self._by_parameter[record.parameter].append(resolved)

    def _check(self, record: ParameterRecord) -> ResolvedValue:
        definition = self._definitions.get(record.parameter)
        if definition is None:
            raise UnknownParameter(record.parameter)
        region, district = split_key(record.region)
        if district is not None and (
            definition.scope is not ParameterScope.DISTRICT or not _DISTRICT.match(district)
        ):
            raise InvalidParameterRecord(
                record.parameter,
                f"{record.region!r}: only a district-scope parameter has district values, keyed"
                " '<region>/<district>' (lower-case ids)",
            )
        if record.region != NATIONAL:
            if self._regions is not None and region not in self._regions:
                raise InvalidParameterRecord(record.parameter, f"unknown region {region!r}")
            if definition.scope is ParameterScope.NATIONAL:
                raise InvalidParameterRecord(
                    record.parameter, f"national-scope parameter cannot have a value for {record.region!r}"
                )
        try:
            value = decode_value(definition, record.value)
        except ValueError as exc:
            raise InvalidParameterRecord(record.parameter, str(exc)) from exc
        return ResolvedValue(record, value)

    @property
    def definitions(self) -> Mapping[str, ParameterDefinition]:
        return self._definitions

    def definition(self, parameter_id: str) -> ParameterDefinition:
        try:
            return self._definitions[parameter_id]
        except KeyError:
            raise UnknownParameter(parameter_id) from None

    def records(self, parameter_id: str) -> tuple[ParameterRecord, ...]:
        self.definition(parameter_id)
        return tuple(r.record for r in self._by_parameter.get(parameter_id, ()))

    def lookup(self, parameter_id: str, region: str, on_date: date) -> ResolvedValue:
        """The record in force (see the module docstring for the precedence rules); `region`
        may be a district key "<region>/<district>"."""
        self.definition(parameter_id)
        own_region, _district = split_key(region)
        if own_region != NATIONAL and self._regions is not None and own_region not in self._regions:
            raise UnknownRegion(own_region)
        keys = {region, own_region, NATIONAL}
        candidates = [
            r
            for r in self._by_parameter.get(parameter_id, ())
            if r.record.region in keys and r.record.in_force_on(on_date)
        ]
        if not candidates:
            raise ParameterNotInForce(parameter_id, region, on_date)
        candidates.sort(key=_rank, reverse=True)
        best = candidates[0]
        if len(candidates) > 1 and _rank(candidates[1]) == _rank(best) and candidates[1].value != best.value:
            raise ConflictingParameterValues(parameter_id, region, on_date)
        return best

    def value(self, parameter_id: str, region: str, on_date: date) -> ParameterValue:
        """The value in force; raises ParameterNotInForce(parameter, region, date) if none."""
        return self.lookup(parameter_id, region, on_date).value

    def decimal(self, parameter_id: str, region: str, on_date: date) -> Decimal:
        value = self.value(parameter_id, region, on_date)
        if not isinstance(value, Decimal):
            raise TypeError(f"parameter {parameter_id!r} is not a number")
        return value

    def term(self, parameter_id: str, region: str, on_date: date) -> TermValue:
        value = self.value(parameter_id, region, on_date)
        if not isinstance(value, TermValue):
            raise TypeError(f"parameter {parameter_id!r} is not a term")
        return value

    def text(self, parameter_id: str, region: str, on_date: date) -> str:
        value = self.value(parameter_id, region, on_date)
        if not isinstance(value, str):
            raise TypeError(f"parameter {parameter_id!r} is not a text")
        return value


_NEVER = datetime.min.replace(tzinfo=UTC)


def _recorded_at(record: ParameterRecord) -> datetime:
    if record.recorded_at is None:
        return _NEVER
    if record.recorded_at.tzinfo is None:
        return record.recorded_at.replace(tzinfo=UTC)
    return record.recorded_at


def _specificity(key: str) -> int:
    """2 for a district's record, 1 for a region's, 0 for the national one."""
    if key == NATIONAL:
        return 0
    return 2 if split_key(key)[1] is not None else 1


def _rank(resolved: ResolvedValue) -> tuple[bool, int, date, datetime]:
    record = resolved.record
    return (not record.example, _specificity(record.region), record.effective_from, _recorded_at(record))
