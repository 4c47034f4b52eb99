"""`qyzmet contracts export`: write the JSON Schemas and the AsyncAPI document of the contract.

The exported files are committed (docs/contracts/); a test regenerates them and fails on
any difference, so a contract change is always deliberate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from shared.contracts.asyncapi import asyncapi_document
from shared.contracts.index import contract_registries
from shared.contracts.schemas import event_schemas

DEFAULT_OUT = Path("docs/contracts")


def render_contract() -> dict[str, str]:
    """relative file name -> text, for every exported file."""
    registries = contract_registries()
    files: dict[str, str] = {
        "asyncapi.json": json.dumps(
            asyncapi_document(registries), indent=2, ensure_ascii=False, sort_keys=True
        )
        + "\n"
    }
    for registry in registries.values():
        for ce_type, schema in event_schemas(registry).items():
            files[f"schemas/{ce_type}.schema.json"] = (
                json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
            )
    return files


def _export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    for name, text in render_contract().items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("contracts", help="the event contract documents")
    commands = parser.add_subparsers(dest="contracts_command", required=True)
    export = commands.add_parser("export", help="write JSON Schemas and the AsyncAPI document")
    export.add_argument("--out", default=str(DEFAULT_OUT))
    export.set_defaults(handler=_export)
