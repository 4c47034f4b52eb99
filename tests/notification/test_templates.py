"""Every template in Kazakh and Russian, rendered from realistic events through the same
builders the service uses: no missing variable, real sentences, the data in its place."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.notification.adapters.catalog import NotificationCatalog
from services.notification.adapters.templates import TemplateProblem, Templates
from services.notification.domain import messages as m
from shared.contracts.applications import ApplicationRejectedAtIntake, IntakeProblem
from shared.contracts.notifications import ResultUncollected

from .events import DECIDED, complaint, decided, extended, inspection, resolved, review_extended, submitted

ZONE = ZoneInfo("Asia/Almaty")
KAZAKH_LETTERS = set("әғқңөұүһі")
CATALOG = NotificationCatalog.load()


def _facts(language: str) -> m.CaseFacts:
    return m.CaseFacts(
        "astana-tson-1-2025-000042", CATALOG.service_name("basic_state_pension_payment", language)
    )


def contexts(language: str) -> dict[str, dict[str, Any]]:
    app = submitted(language="kk")
    app = app.model_copy(update={"registration_number": "astana-tson-1-2025-000042"})
    refused = ApplicationRejectedAtIntake(
        application_id=app.application_id, service_id=app.service_id, channel="tson", office_id=app.office_id,
        region="astana", received_by="operator", rejected_at=DECIDED, idempotency_key="k",
        problems=[IntakeProblem(code="missing_document", field="documents", message="missing",
                                name_kk="жеке басын куәландыратын құжат", name_en="identity document")],
    )  # fmt: skip
    c = complaint(app)
    uncollected = ResultUncollected(
        application_id=app.application_id, service_id=app.service_id, office_id=app.office_id,
        ready_since=DECIDED, kept_until=date(2025, 4, 14), keeping_basis="result_storage: 1 months",
        storage_step="handed to the authorised body (L696-700)", recorded_at=DECIDED,
    )  # fmt: skip
    facts = _facts(language)
    return {
        "talon_issued": m.talon_issued(app, facts, ZONE),
        "intake_refused": m.intake_refused(refused, facts.service_name, ZONE),
        "inspection_scheduled": m.inspection_scheduled(inspection(app), facts),
        "decision_made": m.decision_made(decided(app, "approved"), facts, ZONE, True),
        "term_extended": m.term_extended(extended(app), facts, ZONE),
        "complaint_registered": m.complaint_registered(c, ZONE),
        "complaint_review_extended": m.complaint_review_extended(review_extended(c), c.registration_number),
        "complaint_resolved": m.complaint_resolved(resolved(c), c.registration_number, ZONE),
        "result_uncollected": m.result_uncollected(uncollected, facts),
    }


EXPECTED = {
    ("kk", "talon_issued"): [
        "Өтінішіңіз қабылданды",
        "Тіркеу нөмірі (талон): astana-tson-1-2025-000042.",
        "Нәтижені беру күні: 17.03.2025.",
    ],
    ("ru", "talon_issued"): [
        "государственной услуги «Назначение государственной базовой пенсионной выплаты» принято.",
        "Дата выдачи результата: 17.03.2025.",
    ],
    ("kk", "intake_refused"): ["қабылдаудан бас тартылды", "- жеке басын куәландыратын құжат"],
    ("ru", "intake_refused"): [
        "отказано в связи с неполным пакетом документов",
        "- жеке басын куәландыратын құжат",
    ],
    ("kk", "inspection_scheduled"): ["учаскелік комиссия", "Тексеру күні: 07.03.2025."],
    ("ru", "inspection_scheduled"): [
        "обследование Ваших жилищно-бытовых условий",
        "Дата обследования: 07.03.2025.",
    ],
    ("kk", "decision_made"): [
        "Өтінішіңіз қанағаттандырылды",
        "Тағайындалған сома: 48960.00 теңге",
        "кезеңі: 01.04.2025 – 31.12.2025",
        "жеке басыңызды куәландыратын құжатты",
    ],
    ("ru", "decision_made"): [
        "Ваше заявление удовлетворено",
        "Назначенная сумма: 48960.00 тенге",
        "при предъявлении документа, удостоверяющего личность",
    ],
    ("kk", "term_extended"): ["қарау мерзімі ұзартылды", "Нәтижені берудің жаңа күні: 02.04.2025."],
    ("ru", "term_extended"): [
        "продлён",
        "Новая дата выдачи результата: 02.04.2025.",
        "Причина продления: қосымша тексеру",
    ],
    ("kk", "complaint_registered"): ["Шағымыңыз тіркелді", "жауап берудің соңғы күні: 16.04.2025."],
    ("ru", "complaint_registered"): ["Ваша жалоба зарегистрирована", "не позднее 16.04.2025."],
    ("kk", "complaint_review_extended"): [
        "Жауап берудің жаңа соңғы күні: 01.05.2025 (бұрынғы мерзімі: 16.04.2025)."
    ],
    ("ru", "complaint_review_extended"): ["Новый срок ответа: 01.05.2025 (прежний срок: 16.04.2025)."],
    ("kk", "complaint_resolved"): [
        "Шағымыңыз ішінара қанағаттандырылды.",
        "жоғары тұрған органға немесе сотқа",
    ],
    ("ru", "complaint_resolved"): ["Жалоба удовлетворена частично.", "Обоснование: Стаж работы подтверждён"],
    ("kk", "result_uncollected"): [
        "белгіленген мерзімде алынбады",
        "Сақтау мерзімі аяқталған күн: 14.04.2025.",
    ],
    ("ru", "result_uncollected"): ["не был получен в установленный срок", "Срок хранения истёк: 14.04.2025."],
}


@pytest.mark.parametrize(("language", "kind"), sorted(EXPECTED))
def test_every_template_renders_real_sentences(language: str, kind: str) -> None:
    message = Templates().render(kind, language, contexts(language)[kind])
    text = message.subject + "\n" + message.body
    for phrase in EXPECTED[(language, kind)]:
        assert phrase in text, (phrase, text)
    assert "{{" not in text and "{%" not in text and "None" not in text
    greeting = "Құрметті өтініш беруші!" if language == "kk" else "Уважаемый заявитель!"
    assert message.body.startswith(greeting)
    if language == "kk":
        assert KAZAKH_LETTERS & set(text.lower())
    assert "\n\n\n" not in message.body


def test_both_languages_have_every_kind() -> None:
    names = Templates().names()
    for kind in m.KINDS:
        for language in ("kk", "ru"):
            assert f"{language}/{kind}.subject" in names and f"{language}/{kind}.body" in names


@pytest.mark.parametrize("outcome", ["refused", "information"])
@pytest.mark.parametrize("language", ["kk", "ru"])
def test_decision_variants(outcome: str, language: str) -> None:
    app = submitted()
    context = m.decision_made(decided(app, outcome), _facts(language), ZONE, False)  # type: ignore[arg-type]
    message = Templates().render("decision_made", language, context)
    if outcome == "refused":
        ground = "- Not all para-11 documents submitted"
        assert ground in message.body
        assert ("сотқа жүгінуге" if language == "kk" else "обратиться в суд") in message.body
    else:
        assert (
            "Сұралған мәліметтер дайын." if language == "kk" else "Запрошенные сведения готовы."
        ) in message.body
    assert "тенге" not in message.body and "теңге" not in message.body


def test_a_missing_variable_is_a_template_problem() -> None:
    with pytest.raises(TemplateProblem, match="'registration_number' is undefined"):
        Templates().render("talon_issued", "ru", {"service_name": "x"})
    with pytest.raises(TemplateProblem, match="does not exist"):
        Templates().render("talon_issued", "de", {})
