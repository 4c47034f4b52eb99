"""Inspection acts from office systems: the sending office comes from the envelope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.decision.domain.errors import CaseNotFound
from services.decision.entrypoints.kafka_handlers import inspection_handler
from shared.contracts.decisions import InspectionAct, InspectionCompleted
from shared.messaging.envelope import Envelope, PoisonMessage, RetryLater

from .helpers import act_json


class _NeverCalled:
    async def execute(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("a refused act must not reach the case")


def _act(office: str) -> InspectionCompleted:
    return InspectionCompleted(
        application_id="app-1",
        office_id=office,
        act=InspectionAct.model_validate(act_json()),
        recorded_by="insp-1",
        recorded_at=datetime(2012, 11, 17, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("header_office", "reason"), [(None, "missing header ce_office"), ("karaganda-dept-01", "differs")]
)
async def test_an_act_must_come_from_the_office_it_names(header_office: str | None, reason: str) -> None:
    handle = inspection_handler(_NeverCalled(), "/qyzmet/decision")  # type: ignore[arg-type]
    event = _act("akmola-village-1")
    envelope = Envelope(id="1", source="/office/x", type=event.ce_type(), data={}, office=header_office)
    with pytest.raises(PoisonMessage, match=reason):
        await handle(None, envelope, event)  # type: ignore[arg-type]


class _NoCaseYet:
    async def execute(self, *args: Any, **kwargs: Any) -> None:
        raise CaseNotFound("no case for application 'app-1'")


async def test_an_act_that_overtakes_its_application_is_retried_not_dead_lettered() -> None:
    handle = inspection_handler(_NoCaseYet(), "/qyzmet/decision")  # type: ignore[arg-type]
    event = _act("akmola-village-1")
    envelope = Envelope(id="1", source="/office/x", type=event.ce_type(), data={}, office="akmola-village-1")
    with pytest.raises(RetryLater, match="no case yet"):
        await handle(None, envelope, event)  # type: ignore[arg-type]
