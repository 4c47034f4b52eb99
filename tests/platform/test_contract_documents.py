"""The committed contract documents (docs/contracts/) equal what the event models generate."""

from __future__ import annotations

from pathlib import Path

from shared.cli.contracts import render_contract

ROOT = Path(__file__).resolve().parents[2] / "docs" / "contracts"


def test_committed_contract_matches_the_models() -> None:
    generated = render_contract()
    committed = {str(p.relative_to(ROOT)): p.read_text("utf-8") for p in ROOT.rglob("*.json")}
    assert set(committed) == set(generated), "run `qyzmet contracts export` and commit the result"
    changed = [name for name, text in generated.items() if committed[name] != text]
    assert not changed, f"contract changed without re-export: {changed}"


def test_asyncapi_names_every_topic_and_marks_personal_data() -> None:
    asyncapi = render_contract()["asyncapi.json"]
    assert '"address": "applications.v1"' in asyncapi
    assert '"address": "intake.submissions.v1"' in asyncapi
    assert '"x-personal-data": true' in asyncapi
