"""Fixtures of the intake tests: a fresh intake schema, tokens, a running API client."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.intake.adapters.catalog import CatalogAdapter, default_catalog
from services.intake.adapters.offices import OfficeBook, load_offices
from services.intake.domain.identity import make_iin
from services.intake.entrypoints.api import create_app
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from tests.roles import provisioned_schema

SECRET = "intake-test-secret-" + "x" * 32
DEPT = "karaganda-dept-01"
TSON = "karaganda-tson-01"
OTHER_DEPT = "akmola-dept-01"

APPLICANT_IIN = make_iin(date(1985, 4, 12), 17)


@pytest.fixture(scope="session")
def catalog() -> CatalogAdapter:
    return default_catalog()


@pytest.fixture(scope="session")
def offices() -> OfficeBook:
    return load_offices()


@pytest.fixture(scope="session")
def pool(intake_pool: asyncpg.Pool) -> asyncpg.Pool:
    """In the intake tests, `pool` is intake's own login role (qyzmet_intake), as in production;
    `admin_pool` is the administrator, for what the role may not do (tests/roles.py)."""
    return intake_pool


@pytest.fixture
async def intake_schema(admin_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A fresh intake schema, migrated as the owner and granted to qyzmet_intake."""
    async with provisioned_schema(admin_pool, "intake", "ti") as name:
        yield name


def token(role: Role = Role.CLERK, office: str = DEPT, subject: str | None = None) -> str:
    return issue_token(SECRET, subject=subject or f"{role.value}.officer@{office}", role=role, office=office)


def auth(role: Role = Role.CLERK, office: str = DEPT, subject: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, office, subject)}"}


@pytest.fixture
async def app(
    intake_pool: asyncpg.Pool, intake_schema: str, catalog: CatalogAdapter, offices: OfficeBook
) -> AsyncIterator[FastAPI]:
    application = create_app(
        intake_pool,
        schema=intake_schema,
        catalog=catalog,
        offices=offices,
        run_projector=True,
        token_secret=SECRET,
    )
    await application.state.intake.start()
    yield application
    await application.state.intake.stop()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as c:
        yield c


def unemployed_registration(**overrides: Any) -> dict[str, Any]:
    """A complete submission of `unemployed_registration` at a Karaganda department (citizen)."""
    body: dict[str, Any] = {
        "idempotency_key": str(uuid.uuid4()),
        "service_id": "unemployed_registration",
        "channel": "department",
        "office_id": DEPT,
        "applicant": {
            "iin": APPLICANT_IIN,
            "full_name": "Айгүл Серікқызы Нұрланова",
            "contacts": {"phone": "+7 701 000 00 00"},
            "preferred_language": "kk",
        },
        "documents": [
            {"document_id": "identity_card", "form": "original"},
            {"document_id": "labour_activity_documents", "form": "copy"},
            {"document_id": "sic_certificate", "form": "copy"},
            {"document_id": "taxpayer_number", "form": "copy"},
            {"document_id": "income_statement", "form": "original"},
        ],
    }
    body.update(overrides)
    return body


def carer_allowance(**overrides: Any) -> dict[str, Any]:
    """A complete ЦОН submission of the disabled-child carer allowance."""
    body: dict[str, Any] = {
        "idempotency_key": str(uuid.uuid4()),
        "service_id": "disabled_child_carer_allowance",
        "channel": "tson",
        "office_id": TSON,
        "applicant": {"iin": make_iin(date(1990, 1, 2), 5, female=True), "full_name": "Мадина Әлиқызы"},
        "documents": [
            {"document_id": d}
            for d in ("application", "child_birth_certificates", "identity_document", "residence_proof")
        ]
        + [{"document_id": "child_disability_certificate"}],
    }
    body.update(overrides)
    return body


async def wait_for(check: Callable[[], Any], timeout: float = 2.0, interval: float = 0.02) -> Any:  # noqa: ASYNC109
    """Await `check()` until it returns a truthy value, or fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
