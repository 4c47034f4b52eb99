"""Rotating the audit key: records name the key that made them; `verify` checks each record with
that key (the current one or a previous one) and, lacking it, says which key it needs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from shared.audit import AuditKey, AuditLog, verify_schema
from shared.audit.keyring import AuditKeyRing, audit_key_ring, previous_audit_keys
from shared.cli.main import main
from tests.platform.test_audit_log import KEY, fill
from tests.platform.test_audit_tamper import tamper

NEW_KEY = AuditKey(b"the audit key after the rotation")
OFFICE = "office-a"


async def rotated(pool: asyncpg.Pool, schema: str) -> None:
    """Three records under KEY, then the rotation, then two under NEW_KEY, on the same chain."""
    await fill(pool, AuditLog(schema, KEY), 3)
    await fill(pool, AuditLog(schema, NEW_KEY), 2)
    await fill(pool, AuditLog(schema, NEW_KEY), 1, "office-b")


async def test_records_before_and_after_a_rotation_verify_together(pool: asyncpg.Pool, schema: str) -> None:
    await rotated(pool, schema)
    async with pool.acquire() as conn:
        result = await verify_schema(conn, schema, AuditKeyRing(NEW_KEY, (KEY,)))
    assert result.ok, result.breaks
    office_a = next(c for c in result.chains if c.chain == OFFICE)
    assert office_a.checked == 5
    assert office_a.by_key == {KEY.kid: 3, NEW_KEY.kid: 2}


async def test_without_the_previous_key_old_records_need_it_not_called_edited(
    pool: asyncpg.Pool, schema: str
) -> None:
    await rotated(pool, schema)
    async with pool.acquire() as conn:
        result = await verify_schema(conn, schema, NEW_KEY)
    assert not result.ok
    [broken] = result.breaks
    assert (broken.chain, broken.seq, result.chains[0].key_needed) == (OFFICE, 1, KEY.kid)
    assert "signed by another key" in broken.reason and "previous key needed" in broken.reason
    assert KEY.kid in broken.reason and "edited" not in broken.reason
    assert [c.broken is None for c in result.chains] == [False, True]  # office-b: new key only


async def test_an_edit_is_still_an_edit_under_either_key(pool: asyncpg.Pool, schema: str) -> None:
    await rotated(pool, schema)
    await tamper(
        pool, f"UPDATE {schema}.audit_log SET actor = 'mallory' WHERE chain = '{OFFICE}' AND seq = 2"
    )
    async with pool.acquire() as conn:
        result = await verify_schema(conn, schema, AuditKeyRing(NEW_KEY, (KEY,)))
    assert result.first_bad_seq == 2 and "edited" in (result.reason or "")
    assert result.chains[0].key_needed is None


def test_previous_keys_come_from_the_environment_and_the_data_folder(tmp_path: Path) -> None:
    (tmp_path / "audit_previous_keys").write_text("# retired 2026-11\nfrom the file\n\n", encoding="utf-8")
    env = {"QYZMET_AUDIT_PREVIOUS_KEYS": "one, two"}
    keys = previous_audit_keys(tmp_path, env)
    assert [k.secret for k in keys] == [b"one", b"two", b"from the file"]
    assert previous_audit_keys(tmp_path / "none", {}) == ()
    ring = audit_key_ring(NEW_KEY, tmp_path, {"QYZMET_AUDIT_PREVIOUS_KEYS": NEW_KEY.secret.decode()})
    assert ring.kids == (NEW_KEY.kid, AuditKey(b"from the file").kid)  # each key once


async def test_the_cli_verifies_across_a_rotation_with_the_previous_keys(
    pool: asyncpg.Pool,
    schema: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await rotated(pool, schema)
    monkeypatch.setenv("QYZMET_AUDIT_KEY", NEW_KEY.secret.decode())
    monkeypatch.delenv("QYZMET_AUDIT_PREVIOUS_KEYS", raising=False)
    argv = ["audit", "verify", "--schema", schema, "--no-kafka", "--allow-unanchored"]
    argv += ["--anchors", str(tmp_path / "anchors.jsonl")]
    assert await asyncio.to_thread(main, argv) == 1
    out = capsys.readouterr().out
    assert f"{schema}/{OFFICE}: BROKEN at record 1: it was signed by another key ({KEY.kid}" in out
    # KEY holds a comma: a line of the data folder's file, not QYZMET_AUDIT_PREVIOUS_KEYS
    monkeypatch.setenv("QYZMET_DATA_DIR", str(tmp_path))
    (tmp_path / "audit_previous_keys").write_text(KEY.secret.decode() + "\n", encoding="utf-8")
    assert await asyncio.to_thread(main, argv) == 0
    out, err = capsys.readouterr()
    assert f"{schema}/{OFFICE}: NOT ANCHORED (5 records" in out
    assert f"key {NEW_KEY.kid} (previous {KEY.kid})" in err
