"""`qyzmet audit export --iin`: who read one person's data, found by the ИИН's pseudonym under the
installation's audit keys (current and previous); the ИИН itself is never printed."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.intake.domain.identity import make_iin
from shared.audit import AuditEntry, AuditKey, AuditLog
from shared.audit.pseudonyms import iin_pseudonym
from shared.cli.main import main
from tests.platform.test_audit_log import KEY, fill

NEW_KEY = AuditKey(b"the audit key after the rotation")
PERSON = make_iin(date(1990, 5, 17), 123, female=True)
OTHER = make_iin(date(1985, 1, 2), 456)


def read_of(iin: str, key: AuditKey, actor: str) -> AuditEntry:
    """A personal-data read as intake records it (`look_up_by_iin`)."""
    return AuditEntry(
        actor=actor,
        role="specialist",
        office="office-a",
        action="personal_data.read",
        subject="applicant/by-iin",
        details={"query": "applications by applicant ИИН", "person_pseudonym": iin_pseudonym(key, iin)},
    )


async def test_export_by_iin_finds_that_persons_reads_under_every_key_and_no_one_elses(
    pool: asyncpg.Pool,
    schema: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    await fill(pool, AuditLog(schema, KEY), 2)  # other actions
    async with pool.acquire() as conn:
        await AuditLog(schema, KEY).append(conn, read_of(PERSON, KEY, "before-rotation"))
        await AuditLog(schema, KEY).append(conn, read_of(OTHER, KEY, "other-person"))
        await AuditLog(schema, NEW_KEY).append(conn, read_of(PERSON, NEW_KEY, "after-rotation"))
    end = datetime.now(UTC) + timedelta(seconds=1)
    monkeypatch.setenv("QYZMET_AUDIT_KEY", NEW_KEY.secret.decode())
    monkeypatch.setenv("QYZMET_DATA_DIR", str(tmp_path))
    (tmp_path / "audit_previous_keys").write_text(KEY.secret.decode() + "\n", encoding="utf-8")
    argv = ["audit", "export", "--from", start.isoformat(), "--to", end.isoformat(), "--schema", schema]

    assert await asyncio.to_thread(main, [*argv, "--iin", PERSON]) == 0
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["actor"] for r in rows] == ["before-rotation", "after-rotation"]
    assert PERSON not in out + err and "2 records exported" in err

    assert await asyncio.to_thread(main, [*argv, "--iin", OTHER]) == 0
    assert [json.loads(line)["actor"] for line in capsys.readouterr().out.splitlines()] == ["other-person"]

    # Without the previous key only the reads made under the current key are found.
    (tmp_path / "audit_previous_keys").unlink()
    assert await asyncio.to_thread(main, [*argv, "--iin", PERSON]) == 0
    assert [json.loads(line)["actor"] for line in capsys.readouterr().out.splitlines()] == ["after-rotation"]


async def test_export_by_iin_says_when_no_applicant_index_is_visible(
    pool: asyncpg.Pool,
    schema: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without intake's status view (another database, or a login that cannot see it) the records of
    the person's applications cannot be found: the export says so instead of passing it over."""
    from shared.audit import person

    async def none_visible(conn: asyncpg.Connection, schemas: object) -> list[str]:
        return []

    monkeypatch.setattr(person, "applicant_index_schemas", none_visible)
    monkeypatch.setenv("QYZMET_AUDIT_KEY", KEY.secret.decode())
    monkeypatch.setenv("QYZMET_DATA_DIR", str(tmp_path))
    now = datetime.now(UTC)
    argv = ["audit", "export", "--from", (now - timedelta(minutes=1)).isoformat()]
    argv += ["--to", (now + timedelta(minutes=1)).isoformat(), "--schema", schema, "--iin", PERSON]
    assert await asyncio.to_thread(main, argv) == 0
    out, err = capsys.readouterr()
    assert "no applicant index" in err and PERSON not in out + err


def test_export_refuses_a_malformed_iin_without_echoing_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "export", "--from", "2026-01-01", "--to", "2026-01-02", "--iin", "12345x"])
    assert exited.value.code == 2
    assert "12345x" not in capsys.readouterr().err
