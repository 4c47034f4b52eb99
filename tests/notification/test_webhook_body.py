"""A webhook body is built from an allow-list: a DecisionMade whose evaluation quotes incomes,
birth dates, an exemption and free-form facts reaches the subscriber (and the stored copy that
redelivery sends again) without any of them."""

from __future__ import annotations

import json
import uuid
from datetime import date

import asyncpg

from services.notification.domain.commands import FanOut, Subscribe
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta
from shared.contracts.decisions import (
    ConditionResult,
    DecisionMade,
    EligibilityInputs,
    Evaluation,
    Ground,
    HouseholdMember,
)

from .events import DECIDED, decided, submitted
from .receiver import Receiver, running
from .test_webhooks import HOOK_SECRET

LEAKS = ("85000", "1985-04-12", "carer_of_disabled_child", "Абай к-сі", "170000", "ИИН 850412300017")


def revealing_decision() -> DecisionMade:
    base = decided(submitted(), "refused")
    grounds = (
        Ground(id="income_above_threshold", text="Income above the threshold", source="refusal_grounds",
               text_kk="Отбасының орташа айлық табысы шектен асады"),
    )  # fmt: skip
    evaluation = Evaluation(
        service_id=base.service_id,
        edition_id=base.edition_id,
        rule_ids=("income_test",),
        computable=True,
        inputs=EligibilityInputs(
            application_date=date(2025, 3, 3),
            region=base.region,
            channel=base.channel,
            household=(
                HouseholdMember(
                    relation="self", birth_date=date(1985, 4, 12), exemption="carer_of_disabled_child"
                ),
            ),
            facts={"address": "Абай к-сі, 5", "note": "ИИН 850412300017"},
        ),
        conditions=(
            ConditionResult(
                id="income",
                rule_id="income_test",
                text="average income below the threshold",
                holds=False,
                detail="household income 85000 + 170000 above threshold",
                citation="L1",
            ),
        ),
        outcome="refused",
    )
    return base.model_copy(update={"grounds": grounds, "evaluation": evaluation})


async def test_webhook_body_carries_only_the_allow_listed_fields(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    event = revealing_decision()
    async with running(Receiver(HOOK_SECRET)) as receiver:
        await service.execute(Subscribe(receiver.url("/all"), HOOK_SECRET), system_meta("admin"))
        command = FanOut(
            event, str(uuid.uuid4()), "/qyzmet/decision", DECIDED, f"case-{event.application_id}", "astana"
        )
        await service.execute(command, system_meta("test"))
        await service.dispatcher.deliver_webhooks("w1")
    [hook] = receiver.received
    data = hook.body["data"]
    assert "evaluation" not in data
    assert data["grounds"] == [
        {"id": "income_above_threshold", "text": "Income above the threshold",
         "text_kk": "Отбасының орташа айлық табысы шектен асады"},
    ]  # fmt: skip
    assert set(data) <= {
        "application_id", "result_id", "service_id", "edition_id", "office_id", "region", "channel",
        "outcome", "grounds", "amount", "currency", "period_start", "period_end", "decided_at",
        "signed_by", "on_time", "due_at", "automated",
    }  # fmt: skip
    assert "drafted_by" not in data and data["signed_by"] == event.signed_by
    async with pool.acquire() as conn:
        stored = await conn.fetchval(f"SELECT body FROM {notification_schema}.webhook_events")
    for text in (json.dumps(hook.body, ensure_ascii=False), stored):
        for leak in LEAKS:
            assert leak not in text, leak
