"""The talon of an accepted submission is answered in pydantic's own JSON (issue 14): the same
bytes the validated talon's model_dump gave through a JSONResponse."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi.responses import JSONResponse

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.domain.intake import Acceptance, assess, submitted_event
from services.intake.entrypoints.http_models import Talon, submit_answer, talon_of
from services.intake.service_layer.handlers import SubmitResult
from shared.contracts.applications import SubmitApplication
from tests.intake.conftest import unemployed_registration


def test_the_talon_answer_is_the_validated_talons_json(catalog: CatalogAdapter, offices: OfficeBook) -> None:
    cmd = SubmitApplication.model_validate(unemployed_registration())
    now = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)
    verdict = assess(cmd, catalog=catalog, office=offices.office(cmd.office_id), received_at=now)
    assert isinstance(verdict, Acceptance)
    event = submitted_event(
        cmd, verdict, application_id=str(uuid.uuid4()), registration_number="karaganda-dept-01-2026-000001",
        received_by="clerk-1", received_at=now,
    )  # fmt: skip
    service = catalog.service(cmd.service_id)
    names = (service.name_kk, service.name_en)
    answer = submit_answer(SubmitResult(event, replayed=False, service_names=names))
    validated = Talon.model_validate(talon_of(event, names).model_dump())
    assert answer.status_code == 201
    assert answer.body == JSONResponse(validated.model_dump(mode="json")).body
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["location"] == f"/v1/applications/{event.application_id}"
    assert answer.headers["idempotent-replayed"] == "false"
