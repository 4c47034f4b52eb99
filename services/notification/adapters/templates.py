"""Message texts rendered with Jinja2 from one YAML file per language (`templates/<lang>.yaml`:
kind -> subject, body). StrictUndefined: a variable the data lacks is an error, never an empty
gap in a letter; any template problem is a `TemplateProblem` naming the template, not the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import yaml

from services.notification.domain.delivery import Message

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("kk", "ru")


class TemplateProblem(Exception):
    """The message cannot be composed; `reason` names the template and the error kind."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _sources(directory: Path) -> dict[str, str]:
    sources: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        language = path.stem
        kinds = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for kind, parts in kinds.items():
            for part, text in parts.items():
                sources[f"{language}/{kind}.{part}"] = str(text)
    return sources


class Templates:
    def __init__(self, sources: Mapping[str, str] | None = None) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.DictLoader(dict(sources if sources is not None else _sources(TEMPLATE_DIR))),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # noqa: S701 - plain-text letters and SMS, never HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    @classmethod
    def from_directory(cls, directory: Path) -> Templates:
        return cls(_sources(directory))

    def names(self) -> list[str]:
        return sorted(self.env.list_templates())

    def render(self, kind: str, language: str, context: Mapping[str, Any]) -> Message:
        parts = []
        for part in ("subject", "body"):
            name = f"{language}/{kind}.{part}"
            try:
                parts.append(self.env.get_template(name).render(**context).strip())
            except jinja2.TemplateNotFound:
                raise TemplateProblem(f"template {name} does not exist") from None
            except jinja2.UndefinedError as exc:
                raise TemplateProblem(f"template {name}: {exc.message}") from None
            except jinja2.TemplateError as exc:
                raise TemplateProblem(f"template {name}: {type(exc).__name__}") from None
        subject, body = parts
        return Message(" ".join(subject.split()), body + "\n")
