"""Reading catalog data files: strict YAML, validation, and issues that name file and path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from shared.catalog.errors import CatalogIssue

M = TypeVar("M", bound=BaseModel)

_BaseYamlLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictYamlLoader(_BaseYamlLoader):  # type: ignore[misc, valid-type]
    """Safe YAML that refuses aliases (files must be self-contained) and duplicate keys."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "YAML aliases are not allowed: catalog files must be self-contained",
                node.start_mark,
            )
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                    )
                seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def read_yaml(path: Path, name: str, issues: list[CatalogIssue]) -> object | None:
    """Parse a YAML file; on failure record an issue (with line and column) and return None."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        issues.append(CatalogIssue(name, "", f"cannot read file: {exc.strerror or exc}"))
        return None
    try:
        data: object = yaml.load(text, Loader=StrictYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "YAML"
        issues.append(CatalogIssue(name, where, f"invalid YAML: {exc.problem}"))
        return None
    except yaml.YAMLError as exc:
        issues.append(CatalogIssue(name, "", f"invalid YAML: {exc}"))
        return None
    return data


def format_location(loc: Sequence[int | str]) -> str:
    """('editions', 0, 'sla', 'total') -> 'editions[0].sla.total' (union tags collapsed)."""
    parts: list[str] = []
    previous: int | str | None = None
    for element in loc:
        if isinstance(element, int):
            parts.append(f"[{element}]")
        elif element != previous:
            parts.append(f".{element}" if parts else element)
        previous = element
    return "".join(parts)


def _reason(error: Any) -> str:
    reason = str(error["msg"])
    value = error.get("input")
    if error["type"] not in ("missing", "extra_forbidden") and not isinstance(value, (dict, list, BaseModel)):
        reason += f" (got {value!r})"
    return reason


def validate(model: type[M], data: object, name: str, issues: list[CatalogIssue]) -> M | None:
    """Validate parsed data against a model; record one issue per validation error."""
    if data is None:
        issues.append(CatalogIssue(name, "", "file is empty"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            issues.append(CatalogIssue(name, format_location(error["loc"]), _reason(error)))
    return None


def read_model(path: Path, name: str, model: type[M], issues: list[CatalogIssue]) -> M | None:
    """Read and validate one file; None (with issues recorded) if it is broken."""
    before = len(issues)
    data = read_yaml(path, name, issues)
    if len(issues) > before:
        return None
    return validate(model, data, name, issues)


def check_unique(issues: list[CatalogIssue], file: str, path: str, ids: Sequence[str]) -> None:
    """Record an issue at `path[i]` for every repeated id."""
    seen: set[str] = set()
    for i, item in enumerate(ids):
        if item in seen:
            issues.append(CatalogIssue(file, f"{path}[{i}]", f"duplicate id {item!r}"))
        seen.add(item)
