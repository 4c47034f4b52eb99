"""Across the real pipeline: a submission at a ЦОН (intake API) -> the automated decision
(decision worker) -> the applicant's e-mail at the test's SMTP server in Russian, the ЦОН
webhook receiver's signed DecisionMade, and intake's status view showing the delivery (it reads
notifications.v1)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from services.notification.domain.commands import Subscribe
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta
from shared.auth.roles import Role
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from tests.intake.conftest import APPLICANT_IIN, TSON, app, auth, catalog, client, intake_schema, offices
from tests.intake.test_case_pipeline import Pipeline, decision_service, pipeline

from .conftest import Mailbox, settings_for
from .receiver import Receiver, running
from .test_pipeline import Worker, eventually
from .test_webhooks import HOOK_SECRET

__all__ = ["app", "catalog", "client", "decision_service", "intake_schema", "offices", "pipeline"]  # fixtures


async def test_submit_decide_email_webhook_and_status_view(
    client: httpx.AsyncClient, pipeline: Pipeline, make_service: Callable[..., NotificationService],
    smtp: tuple[Mailbox, int],
) -> None:  # fmt: skip
    mailbox, port = smtp
    prefix = pipeline.prefix
    topics = [prefix + t for t in ("complaints.v1", "notifications.v1")]
    ensure_topics(
        pipeline.broker.bootstrap_servers,
        [TopicSpec(t, 2) for t in topics] + [TopicSpec(dlq_of(t), 1) for t in topics],
    )
    service = make_service(settings=settings_for(port, dispatch_interval_s=0.05))
    async with running(Receiver(HOOK_SECRET)) as receiver:
        await service.execute(
            Subscribe(receiver.url("/karaganda"), HOOK_SECRET, ("karaganda",)), system_meta("admin")
        )
        worker = Worker(service, pipeline.broker, pipeline.producer, prefix)
        try:
            body = {
                "idempotency_key": str(uuid.uuid4()),
                "service_id": "pension_savings_account_info",
                "channel": "tson",
                "office_id": TSON,
                "applicant": {
                    "iin": APPLICANT_IIN,
                    "full_name": "Айгүл Нұрланова",
                    "contacts": {"email": "aigul@example.kz"},
                    "preferred_language": "ru",
                },
                "documents": [{"document_id": "application_form"}, {"document_id": "identity_document"}],
            }
            answer = await client.post("/v1/applications", json=body, headers=auth(Role.TSON, TSON))
            assert answer.status_code == 201, answer.text
            aid = answer.json()["application_id"]

            async def decision_mail() -> Any:
                return [m for m in mailbox.messages if "решение" in str(m["Subject"])]

            [mail] = await eventually(decision_mail)
            assert mail["To"] == "aigul@example.kz" and mail["Content-Language"] == "ru"
            assert "Уважаемый заявитель!" in mail.get_content()

            async def hooked() -> Any:
                return [r for r in receiver.received if r.body["data"]["application_id"] == aid]

            [hook] = await eventually(hooked)
            assert hook.signature_ok and hook.body["type"] == "kz.qyzmet.decision.made.v1"
            assert hook.body["region"] == "karaganda"

            async def shown() -> Any:
                view = (await client.get(f"/v1/applications/{aid}", headers=auth(Role.TSON, TSON))).json()
                notices = view.get("notifications") or []
                done = {(n["kind"], n["channel"]) for n in notices if n["state"] == "DELIVERED"}
                return view if {("decision_made", "email"), ("talon_issued", "email")} <= done else None

            view = await eventually(shown)
            kinds = {(n["kind"], n["channel"], n["state"]) for n in view["notifications"]}
            assert ("decision_made", "email", "DELIVERED") in kinds
            assert ("talon_issued", "email", "DELIVERED") in kinds
        finally:
            await worker.close()
