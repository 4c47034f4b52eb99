"""Access to the read-only reference catalog shared/domain/services.yaml (tests only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_SERVICES_YAML = REPO_ROOT.parent / "shared" / "domain" / "services.yaml"
SERVICE_IDS_COPY = Path(__file__).with_name("service_ids.txt")
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def reference_ids_from_copy() -> list[str]:
    lines = SERVICE_IDS_COPY.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def load_reference() -> dict[str, Any] | None:
    """The parsed services.yaml (anchors resolved), or None when it is not next to the repository."""
    if not REFERENCE_SERVICES_YAML.is_file():
        return None
    data: dict[str, Any] = yaml.load(REFERENCE_SERVICES_YAML.read_text(encoding="utf-8"), Loader=_FAST_LOADER)  # noqa: S506
    return data
