"""`qyzmet report quality` on a known log written into real service schemas, in each format."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from shared.catalog.loader import load_catalog
from shared.catalog.parameters import ParameterRecord
from shared.catalog.store import CatalogStore
from shared.cli.main import main as cli_main
from shared.quality.pg_reader import EventSchemas
from tests.quality.known_log import OFFICE, SERVICE, known_log
from tests.quality.log_writer import migrate, write_log

OTHER_OFFICE = "karaganda-tson-01"


@pytest.fixture
async def schemas(pool: asyncpg.Pool) -> AsyncIterator[EventSchemas]:
    tag = uuid.uuid4().hex[:8]
    names = EventSchemas(f"q_intake_{tag}", f"q_decision_{tag}", f"q_complaints_{tag}")
    async with pool.acquire() as conn:
        await migrate(conn, names)
        await write_log(conn, names, known_log())
        await write_log(conn, names, known_log(offset=500, office=OTHER_OFFICE))
    yield names
    async with pool.acquire() as conn:
        for name in (names.intake, names.decision, names.complaints):
            await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


async def _run(
    schemas: EventSchemas, database_url: str, monkeypatch: pytest.MonkeyPatch, out: Path, *extra: str
) -> int:
    monkeypatch.setenv("DATABASE_URL", database_url)
    argv = [
        "report", "quality", "--from", "2009-03-01", "--to", "2009-03-31", "--output", str(out),
        "--intake-schema", schemas.intake, "--decision-schema", schemas.decision,
        "--complaints-schema", schemas.complaints, "--catalog-schema", f"no_catalog_{uuid.uuid4().hex[:6]}",
        *extra,
    ]  # fmt: skip
    return await asyncio.to_thread(cli_main, argv)


EXPECTED = {
    "on_time": ("95", "100", "95.00", "95"),
    "first_time_right": ("80", "100", "80.00", "90"),
    "justified_complaints_share": ("4", "100", "4.00", "0.1"),
    "justified_complaints_resolved_in_term": ("3", "4", "75.00", "100"),
    "complaints_reviewed_in_term": ("8", "11", "72.73", ""),
}


async def test_csv_gives_the_known_figures_per_office(
    schemas: EventSchemas, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "quality.csv"
    assert await _run(schemas, database_url, monkeypatch, out, "--format", "csv") == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    for office in (OFFICE, OTHER_OFFICE):
        got = {
            r["indicator_id"]: (r["numerator"], r["denominator"], r["value"], r["target"])
            for r in rows
            if r["office"] == office
        }
        assert got == EXPECTED, office
    assert {r["service"] for r in rows} == {SERVICE}
    missing = {r["indicator_id"]: r["note"] for r in rows if not r["office"]}
    assert missing["documents_processed_correctly"].startswith("not computable from the log: ")


async def test_json_with_the_office_filter(
    schemas: EventSchemas, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "quality.json"
    assert await _run(schemas, database_url, monkeypatch, out, "--format", "json", "--office", OFFICE) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert {r["office"] for r in document["rows"]} == {OFFICE}
    got = {r["indicator_id"]: (r["numerator"], r["denominator"], r["value"]) for r in document["rows"]}
    assert got["on_time"] == (95, 100, 95.0)
    assert got["justified_complaints_share"] == (4, 100, 4.0)
    on_time = next(r for r in document["rows"] if r["indicator_id"] == "on_time")
    assert on_time["target_source"] == "catalog profile krg_q4 row 1.1"
    assert on_time["note"] == "1 decision(s) without a computable term not counted"
    assert document["sources"] == [
        f"intake ({schemas.intake})",
        f"decision ({schemas.decision})",
        f"complaints ({schemas.complaints})",
    ]


async def test_html_has_charts(
    schemas: EventSchemas, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "quality.html"
    assert await _run(schemas, database_url, monkeypatch, out, "--format", "html", "--per", "month") == 0
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 5
    assert "95.00%" in page and "80.00%" in page and "catalog profile krg_q4 row 1.1" in page
    assert "<script" not in page and "src=" not in page and "href=" not in page


async def test_a_missing_store_is_named_not_a_traceback(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    absent = EventSchemas("q_none_a", "q_none_b", "q_none_c")
    out = tmp_path / "empty.json"
    assert await _run(absent, database_url, monkeypatch, out, "--format", "json") == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["rows"] == [] and "intake: no event store in 'q_none_a'" in document["sources"]


def test_a_period_that_ends_before_it_starts_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["report", "quality", "--from", "2009-03-31", "--to", "2009-03-01", "--format", "csv"]
    assert cli_main(argv) == 2
    assert "--to: must not be before --from" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["report", "quality", "--from", "31.03.2009", "--to", "2009-03-31"])
    assert exit_info.value.code == 2
    assert "'31.03.2009' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_the_report_help_loads_no_heavy_library() -> None:
    probe = (
        "import json, sys\n"
        "from shared.cli.main import main\n"
        "try:\n"
        "    main(['report', 'quality', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True, timeout=60
    )
    loaded = {name.split(".")[0] for name in json.loads(result.stdout.strip().splitlines()[-1])}
    assert "--format {csv,json,html}" in result.stdout
    assert not loaded & {"asyncpg", "pydantic", "yaml", "fastapi", "aiokafka"}, loaded
    assert "shared.quality" not in set(json.loads(result.stdout.strip().splitlines()[-1]))


async def test_a_target_recorded_with_params_set_replaces_the_seed_value(
    schemas: EventSchemas,
    pool: asyncpg.Pool,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    catalog_schema = f"q_catalog_{uuid.uuid4().hex[:8]}"
    store = CatalogStore(load_catalog(), catalog_schema)
    record = ParameterRecord(
        parameter="quality_targets", region="karaganda", effective_from=date(2009, 1, 1),
        value={"on_time": "97.5"}, source="working group order (test)",
    )  # fmt: skip
    async with pool.acquire() as conn:
        await store.migrate(conn)
        await store.set_parameter(conn, record, actor="admin-1", role="admin")
    try:
        out = tmp_path / "recorded.json"
        argv = ["--format", "json", "--office", OFFICE, "--catalog-schema", catalog_schema]
        assert await _run(schemas, database_url, monkeypatch, out, *argv) == 0
        rows = {r["indicator_id"]: r for r in json.loads(out.read_text(encoding="utf-8"))["rows"]}
        assert (rows["on_time"]["target"], rows["on_time"]["meets_target"]) == (97.5, False)
        assert rows["on_time"]["target_source"] == (
            "parameter quality_targets (karaganda, from 2009-01-01, recorded by admin-1)"
        )
        assert rows["first_time_right"]["target_source"] == "catalog profile krg_q4 row 3.2"
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {catalog_schema} CASCADE")
