"""Administrator decisions stored in PostgreSQL: validated, audited, append-only."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import asyncpg
import pytest

from shared.audit import AuditLog
from shared.catalog import (
    AdoptionRecord,
    InvalidParameterRecord,
    ParameterNotInForce,
    ParameterRecord,
    UnknownParameter,
    load_catalog,
)
from shared.catalog.store import CatalogStore
from shared.cli.main import main as cli_main
from shared.db.pool import connect
from shared.infra import create_database, drop_database


@pytest.fixture
async def store(pool: asyncpg.Pool) -> AsyncIterator[CatalogStore]:
    schema = f"cat_{uuid.uuid4().hex[:10]}"
    store = CatalogStore(load_catalog(), schema)
    async with pool.acquire() as conn:
        await store.migrate(conn)
    yield store
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")


def _poverty_line(value: object, **kw: object) -> ParameterRecord:
    fields: dict[str, object] = {
        "parameter": "poverty_line",
        "region": "akmola",
        "effective_from": date(2031, 1, 1),
        "value": value,
        "source": "Akmola oblast akimat resolution (test)",
    }
    fields.update(kw)
    return ParameterRecord.model_validate(fields)


async def test_set_parameter_is_validated_stored_and_audited(pool: asyncpg.Pool, store: CatalogStore) -> None:
    async with pool.acquire() as conn:
        await store.set_parameter(conn, _poverty_line(31000), actor="admin@akmola", role="admin")
        book = await store.parameter_book(conn, include_examples=False)
        assert book.value("poverty_line", "akmola", date(2031, 6, 1)) == Decimal(31000)
        with pytest.raises(ParameterNotInForce) as missing:
            book.value("poverty_line", "akmola", date(2030, 12, 31))
        assert "akmola" in str(missing.value)
        assert "2030-12-31" in str(missing.value)
        with pytest.raises(InvalidParameterRecord, match="expected a number"):
            await store.set_parameter(conn, _poverty_line("lots"), actor="admin@akmola", role="admin")
        with pytest.raises(UnknownParameter):
            await store.set_parameter(
                conn, _poverty_line(1, parameter="no_such_parameter"), actor="admin", role="admin"
            )
        with pytest.raises(ValueError, match="source"):
            await store.set_parameter(conn, _poverty_line(1, source=None), actor="admin", role="admin")
        records = [r async for r in AuditLog(store.schema).records(conn)]
        assert [r.entry.action for r in records] == ["catalog.parameter.set"]
        assert records[0].entry.actor == "admin@akmola"
        assert (await AuditLog(store.schema).verify(conn)).ok


async def test_stored_value_beats_the_example(pool: asyncpg.Pool, store: CatalogStore) -> None:
    async with pool.acquire() as conn:
        with_examples = await store.parameter_book(conn)
        example = with_examples.value("poverty_line", "akmola", date(2031, 6, 1))
        await store.set_parameter(conn, _poverty_line(example + 1), actor="admin", role="admin")
        book = await store.parameter_book(conn)
    assert book.value("poverty_line", "akmola", date(2031, 6, 1)) == example + 1


async def test_records_are_append_only(pool: asyncpg.Pool, store: CatalogStore) -> None:
    async with pool.acquire() as conn:
        await store.set_parameter(conn, _poverty_line(5), actor="admin", role="admin")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute(f"UPDATE {store.schema}.parameter_values SET value = '6'")


async def test_adoption_replaces_the_example_and_is_audited(pool: asyncpg.Pool, store: CatalogStore) -> None:
    catalog = store.catalog
    service = catalog.service("targeted_social_assistance")
    editions = sorted(service.editions, key=lambda e: e.effective_from)
    chosen = editions[0]
    async with pool.acquire() as conn:
        await store.adopt(
            conn,
            AdoptionRecord(
                service=service.id,
                edition=chosen.id,
                region="karaganda",
                effective_from=date(2030, 1, 1),
                adopted_by="admin@karaganda",
                reason="test adoption",
            ),
            role="admin",
        )
        adoptions = await store.adoptions(conn)
        with pytest.raises(ValueError, match="no edition"):
            await store.adopt(
                conn,
                AdoptionRecord(
                    service=service.id,
                    edition="no_such_edition",
                    region="karaganda",
                    effective_from=date(2030, 1, 1),
                    adopted_by="a",
                    reason="r",
                ),
                role="admin",
            )
        audit = [r.entry.action async for r in AuditLog(store.schema).records(conn)]
    assert catalog.edition_for(service.id, "karaganda", date(2031, 1, 1), adoptions).id == chosen.id
    assert not any(a.example and a.service == service.id and a.region == "karaganda" for a in adoptions)
    assert audit == ["catalog.edition.adopted"]


def test_catalog_due_follows_an_administrator_adoption(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"qyzmet_cat_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    catalog = load_catalog()
    service = catalog.service("targeted_social_assistance")
    oldest = min(service.editions, key=lambda e: e.effective_from)

    async def adopt() -> None:
        conn = await connect(url)
        try:
            store = CatalogStore(catalog)
            await store.migrate(conn)
            await store.adopt(
                conn,
                AdoptionRecord(
                    service=service.id,
                    edition=oldest.id,
                    region="karaganda",
                    effective_from=date(2030, 1, 1),
                    adopted_by="admin@karaganda",
                    reason="test",
                ),
                role="admin",
            )
        finally:
            await conn.close()

    try:
        asyncio.run(adopt())
        monkeypatch.setenv("DATABASE_URL", url)
        args = ["catalog", "due", service.id, "--channel", "department", "--region", "karaganda"]
        cli_main([*args, "--at", "2031-02-03T10:00", "--json"])
        shown = json.loads(capsys.readouterr().out)
        assert shown["edition"] == oldest.id
        assert shown["adoption"]["adopted_by"] == "admin@karaganda"
    finally:
        drop_database(database_url, name)
