"""`qyzmet contracts export`: write the JSON Schemas and the AsyncAPI document of the contract.

Both are generated from the contract table (`shared.contracts.topics`): only events that travel
on a topic are documented; internal events are not part of the contract. The exported files are
committed (docs/contracts/); a test regenerates them and fails on any difference, so a contract
change is always deliberate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

DEFAULT_OUT = Path("docs/contracts")


def _json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def render_contract() -> dict[str, str]:
    """relative file name -> text, for every exported file (the contract's models load here)."""
    from shared.contracts.asyncapi import asyncapi_document
    from shared.contracts.schemas import event_schemas
    from shared.contracts.topics import published_topics

    topics = published_topics()
    files: dict[str, str] = {"asyncapi.json": _json(asyncapi_document(topics))}
    for contract in topics:
        for ce_type, schema in event_schemas(contract.registry()).items():
            files[f"schemas/{ce_type}.schema.json"] = _json(schema)
    return files


def _export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    rendered = render_contract()
    for name, text in rendered.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    for stale in sorted((out / "schemas").glob("*.schema.json")):
        if f"schemas/{stale.name}" not in rendered:
            stale.unlink()  # an event that left the contract (or became internal)
            print(f"removed {stale}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("contracts", help="the event contract documents")
    commands = parser.add_subparsers(dest="contracts_command", required=True)
    export = commands.add_parser("export", help="write JSON Schemas and the AsyncAPI document")
    export.add_argument("--out", default=str(DEFAULT_OUT))
    export.set_defaults(handler=_export)
