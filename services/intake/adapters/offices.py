"""The offices reference: which region, time zone and channels each receiving office has."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import yaml

from services.intake.domain.ports import Office


class OfficeBook:
    def __init__(self, offices: Iterable[Office]) -> None:
        self._offices = {o.id: o for o in offices}

    def office(self, office_id: str) -> Office | None:
        return self._offices.get(office_id)

    def all(self) -> list[Office]:
        return list(self._offices.values())


def load_offices(path: str | Path | None = None) -> OfficeBook:
    """Load `offices.yaml` (default: the EXAMPLE offices shipped with the intake service)."""
    if path is None:
        text = resources.files("services.intake.adapters").joinpath("offices.yaml").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    data = yaml.safe_load(text)
    offices = [
        Office(
            id=str(o["id"]),
            name=str(o["name"]),
            region=str(o["region"]),
            time_zone=str(o["time_zone"]),
            kind=str(o["kind"]),
            channels=tuple(str(c) for c in o["channels"]),
            example=bool(o.get("example", True)),
            district=str(o["district"]) if o.get("district") else None,
        )
        for o in data["offices"]
    ]
    return OfficeBook(offices)
