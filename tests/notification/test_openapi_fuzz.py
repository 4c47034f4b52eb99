"""Schemathesis with every check against the notification API (in-process, a real PostgreSQL
schema, valid tokens of an administrator and of a ЦОН operator): it must find nothing."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi

from services.notification.entrypoints.api import create_app
from services.notification.service import NotificationService
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.db.pool import connect, create_pool
from shared.runtime.database import with_login
from tests.roles import login_for, provision

from .conftest import settings_for

SECRET = "openapi-fuzz-secret-notification-0123456789"
CONFIG = {
    "checks": {
        "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422"]},
    }
}


@pytest.fixture(scope="module")
def api(database_url: str) -> Iterator[FastAPI]:
    schema = f"tfn_{uuid.uuid4().hex[:10]}"

    @asynccontextmanager
    async def open_service() -> AsyncIterator[NotificationService]:
        admin = await connect(database_url)
        try:
            await provision(admin, "notification", schema)
        finally:
            await admin.close()
        pool = await create_pool(with_login(database_url, login_for("notification")), min_size=1, max_size=5)
        try:
            yield NotificationService(pool, schema, settings_for(25))
        finally:
            await pool.close()

    yield create_app(token_secret=SECRET, open_service=open_service)
    asgi.shutdown_lifespans()

    async def drop() -> None:
        conn = await connect(database_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()

    thread = threading.Thread(target=lambda: asyncio.run(drop()))
    thread.start()
    thread.join(30)


@pytest.mark.parametrize(("role", "office"), [(Role.ADMIN, "ministry"), (Role.TSON, "astana-tson-1")])
def test_schemathesis_with_every_check_finds_nothing(api: Any, role: Role, office: str) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api, config=SchemathesisConfig.from_dict(CONFIG))
    headers = {
        "Authorization": f"Bearer {issue_token(SECRET, subject=f'{role}-fuzz', role=role, office=office)}"
    }
    checked = 0
    for operation in [result.ok() for result in schema.get_all_operations()]:
        for mode in GenerationMode:

            @settings(
                max_examples=10,
                deadline=timedelta(seconds=10),
                suppress_health_check=list(HealthCheck),
                database=None,
                derandomize=True,
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers)

            try:
                run()
            except Unsatisfiable:
                continue
            checked += 1
    assert checked >= 10
