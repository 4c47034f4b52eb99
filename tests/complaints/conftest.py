"""Fixtures of the complaints tests: a fresh complaints schema, a settable clock, tokens, a
running API client, and the application facts (events of applications.v1 / decisions.v1) the
read model is seeded with."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.complaints.adapters.catalog import ComplaintsCatalog
from services.complaints.adapters.read_model import ApplicationFacts
from services.complaints.bootstrap import build
from services.complaints.entrypoints.api import create_app
from services.complaints.service import ComplaintsService
from services.complaints.settings import ComplaintsSettings
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.contracts.applications import Applicant, ApplicationRejectedAtIntake, ApplicationSubmitted
from shared.contracts.decisions import DecisionMade
from shared.contracts.decisions.parts import EligibilityInputs, Evaluation
from shared.contracts.event import DomainEvent
from tests.roles import provisioned_schema

SECRET = "complaints-test-secret-" + "x" * 32
DEPT = "karaganda-dept-01"
TSON = "karaganda-tson-01"
REVIEWING = "karaganda-oblast-department"
OTHER_REVIEWING = "akmola-oblast-department"
SERVICE = "local_social_assistance"
EDITION = "krg_2008_standard"
REGISTERED_AT = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)  # Monday 10:00 in Karaganda (UTC+5)


class Clock:
    def __init__(self, now: datetime = REGISTERED_AT) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def complaints_catalog() -> ComplaintsCatalog:
    return ComplaintsCatalog.load()


@pytest.fixture(scope="session")
def pool(complaints_pool: asyncpg.Pool) -> asyncpg.Pool:
    """In the complaints tests, `pool` is the complaints service's own login role
    (qyzmet_complaints), as in production; `admin_pool` is the administrator, for what the role
    may not do (tests/roles.py)."""
    return complaints_pool


@pytest.fixture
async def complaints_schema(admin_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A fresh complaints schema, migrated as the owner and granted to qyzmet_complaints."""
    async with provisioned_schema(admin_pool, "complaints", "tc") as name:
        yield name


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(
    complaints_pool: asyncpg.Pool, complaints_schema: str, complaints_catalog: ComplaintsCatalog, clock: Clock
) -> ComplaintsService:
    return build(
        complaints_pool, complaints_schema, catalog=complaints_catalog, clock=clock, settings=settings()
    )


def settings(**changes: Any) -> ComplaintsSettings:
    return ComplaintsSettings(catalog_schema=f"nocatalog_{uuid.uuid4().hex[:8]}", **changes)


def token(role: Role = Role.CLERK, office: str = DEPT, subject: str | None = None) -> str:
    return issue_token(SECRET, subject=subject or f"{role.value}.officer@{office}", role=role, office=office)


def auth(role: Role = Role.CLERK, office: str = DEPT, subject: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, office, subject)}"}


@pytest.fixture
async def app(
    complaints_pool: asyncpg.Pool, complaints_schema: str, complaints_catalog: ComplaintsCatalog, clock: Clock
) -> AsyncIterator[FastAPI]:
    application = create_app(
        complaints_pool,
        schema=complaints_schema,
        catalog=complaints_catalog,
        clock=clock,
        token_secret=SECRET,
    )
    await application.state.complaints.start()
    yield application
    await application.state.complaints.stop()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://complaints") as c:
        yield c


def submitted(
    application_id: str | None = None,
    *,
    service_id: str = SERVICE,
    edition_id: str = EDITION,
    office_id: str = DEPT,
    region: str = "karaganda",
    channel: str = "department",
    iin: str | None = None,
) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id=application_id or str(uuid.uuid4()),
        registration_number=f"{office_id}-2025-000001",
        service_id=service_id, edition_id=edition_id, edition_basis="in force", channel=channel,
        office_id=office_id, region=region, received_by="clerk.officer@" + office_id,
        received_at=REGISTERED_AT - timedelta(days=20), due_at=None,
        applicant=Applicant(iin=iin or f"{uuid.uuid4().int % 10**12:012d}", full_name="Айгүл Нұрланова"),
        documents=[], idempotency_key=str(uuid.uuid4()),
    )  # fmt: skip


def decided(app: ApplicationSubmitted, at: datetime, outcome: str = "refused") -> DecisionMade:
    return DecisionMade(
        application_id=app.application_id, service_id=app.service_id, edition_id=app.edition_id,
        office_id=app.office_id, region=app.region, channel=app.channel, outcome=outcome,
        result_id=None, automated=False, drafted_by=None, signed_by="head@" + app.office_id,
        decided_at=at, due_at=None, on_time=True,
        evaluation=Evaluation(
            service_id=app.service_id, edition_id=app.edition_id, rule_ids=(), computable=False,
            inputs=EligibilityInputs(
                application_date=date(2025, 2, 1), region=app.region, channel=app.channel
            ),
            outcome=None,
        ),
    )  # fmt: skip


def refused_at_intake(office_id: str = DEPT) -> ApplicationRejectedAtIntake:
    return ApplicationRejectedAtIntake(
        application_id=str(uuid.uuid4()), service_id=SERVICE, channel="department", office_id=office_id,
        region="karaganda", edition_id=EDITION, received_by="clerk.officer@" + office_id,
        rejected_at=REGISTERED_AT - timedelta(days=2), problems=[], idempotency_key=str(uuid.uuid4()),
    )  # fmt: skip


async def seed(pool: asyncpg.Pool, schema: str, *events: DomainEvent) -> None:
    facts = ApplicationFacts(schema)
    async with pool.acquire() as conn, conn.transaction():
        for event in events:
            await facts.record(conn, event)


async def decided_application(pool: asyncpg.Pool, schema: str, **kwargs: Any) -> ApplicationSubmitted:
    app = submitted(**kwargs)
    await seed(pool, schema, app, decided(app, REGISTERED_AT - timedelta(days=5)))
    return app


def complaint_body(application_id: str | None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotency_key": str(uuid.uuid4()),
        "subject": "decision",
        "application_id": application_id,
        "office_id": DEPT,
        "channel": "in_person",
        "complainant": {
            "full_name": "Айгүл Нұрланова",
            "iin": "850412300017",
            "contacts": {"phone": "+77010000000"},
        },
        "text": "Шешіммен келіспеймін.",
        "attachments": [{"reference": "scan://2025/03/03/0001", "title": "decision copy"}],
    }
    body.update(overrides)
    return body
