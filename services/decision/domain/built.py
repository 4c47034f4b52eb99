"""Events the case makes of parts that were validated already, built without validating them again.

Every field of an event the decision service opens or decides a case with comes from a model
validated where it entered (the submitted application at the consumer's boundary, the catalog at
load, the evaluation when the rules made it) or from the clock. Validating such an event again
costs a pydantic pass and a Python call per field for the NUL check, on every automated decision
(issue 14: ~25 µs of the ~100 µs of planning one). `built` sets the fields as given instead, as
`model_construct` does but at a fraction of its cost (a dict in field order, defaults filled).

Only for values already checked: what an officer's command carries (plain dataclasses) is
validated as ever. The tests turn `checking` on: then every built model is also validated and
must come out the same (same values of the same types, same fields set), so a part that would
not pass validation, or that validation would convert, fails the test that builds it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.fields import FieldInfo

M = TypeVar("M", bound=BaseModel)

_IMMUTABLE = (type(None), bool, int, float, str, bytes, Decimal, date, datetime, tuple, frozenset)
_setattr = object.__setattr__


class _Recipe:
    """A model's fields in order: each one's default, or the factory that makes it."""

    def __init__(self, cls: type[BaseModel]) -> None:
        self.names = tuple(cls.__pydantic_fields__)
        self.known = frozenset(self.names)
        self.required = frozenset(n for n, f in cls.__pydantic_fields__.items() if f.is_required())
        self.shared: dict[str, Any] = {}
        """Defaults that can be shared (immutable); the others are made anew for each model."""
        self.made: dict[str, FieldInfo] = {}
        for name, field in cls.__pydantic_fields__.items():
            if field.is_required():
                continue
            default = field.default
            if field.default_factory is None and isinstance(default, _IMMUTABLE) and _frozen(default):
                self.shared[name] = default
            else:
                self.made[name] = field
        self.template: dict[str, Any] = {name: self.shared.get(name) for name in self.names}
        """Every field in the model's order: a shared default, or None until given or made."""


def _frozen(value: object) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(isinstance(item, _IMMUTABLE) and _frozen(item) for item in value)
    return True


_RECIPES: dict[type[BaseModel], _Recipe] = {}
checking = False
"""Validate every built model too, and fail if validation would give anything else (tests)."""


def built(cls: type[M], /, **fields: Any) -> M:
    """`cls` with `fields` as they are (already validated parts); defaults for the others."""
    recipe = _RECIPES.get(cls)
    if recipe is None:
        recipe = _RECIPES[cls] = _Recipe(cls)
    if not recipe.required <= fields.keys() <= recipe.known:
        missing = sorted(recipe.required - fields.keys())
        unknown = sorted(fields.keys() - recipe.known)
        raise TypeError(f"{cls.__name__}: missing {missing}, unknown {unknown}")
    # The model's fields in its order with the shared defaults, the given fields over them (copy
    # and update in C: a comprehension over every field cost more than the rest of `built`), then
    # the defaults made anew per model. The order is the model's: a dump follows the dict's.
    values = recipe.template.copy()
    values.update(fields)
    for name in recipe.made:
        if name not in fields:
            values[name] = recipe.made[name].get_default(call_default_factory=True)
    made = cls.__new__(cls)
    _setattr(made, "__dict__", values)
    _setattr(made, "__pydantic_fields_set__", set(fields))
    _setattr(made, "__pydantic_extra__", None)
    _setattr(made, "__pydantic_private__", None)
    if checking:
        _same_as_validated(made, cls(**fields))
    return made


def model_of(cls: type[M], /, *, trusted: bool, **fields: Any) -> M:
    """`built` if every part is `trusted` (validated already), else validated as usual."""
    return built(cls, **fields) if trusted else cls(**fields)


def _same_as_validated(made: BaseModel, validated: BaseModel) -> None:
    for name, value in validated.__dict__.items():
        mine = made.__dict__[name]
        if type(mine) is not type(value) or mine != value:
            raise AssertionError(
                f"{type(made).__name__}.{name}: built {type(mine).__name__}, validation gives"
                f" {type(value).__name__} (or another value)"
            )
    if list(made.__dict__) != list(validated.__dict__):
        raise AssertionError(f"{type(made).__name__}: built in another field order than validated")
    if made.model_fields_set != validated.model_fields_set or made != validated:
        raise AssertionError(f"{type(made).__name__}: built differs from validated")
