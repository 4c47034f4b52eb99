"""Every template in Kazakh and Russian, rendered from realistic events through the same
builders the service uses: no missing variable, real sentences, the data in its place."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.notification.adapters.catalog import NotificationCatalog
from services.notification.adapters.templates import TemplateProblem, Templates
from services.notification.domain import messages as m
from shared.catalog import load_catalog
from shared.contracts.applications import ApplicationRejectedAtIntake, IntakeProblem
from shared.contracts.decisions import Ground
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


PENSION = "basic_state_pension_payment"
PENSION_EDITION = "kz_std_393_as_restated_2012"
SEED_LINES = re.compile(r"\bL\d+")


def _catalog_ground(service_id: str, edition_id: str, ground_id: str) -> Ground:
    """A refusal ground exactly as the decision service puts it on DecisionMade."""
    ground = next(
        g for g in load_catalog().service(service_id).edition(edition_id).refusal_grounds if g.id == ground_id
    )
    return Ground(id=ground.id, text=ground.text, text_kk=ground.text_kk, source="refusal_grounds")


def _refused(language: str, *grounds: Ground) -> str:
    app = submitted().model_copy(update={"service_id": PENSION, "edition_id": PENSION_EDITION})
    event = decided(app, "refused").model_copy(update={"grounds": grounds})
    message = Templates().render(
        "decision_made", language, m.decision_made(event, _facts(language), ZONE, False)
    )
    return message.body


INCOMPLETE_KK = "«осы стандарттың 11-тармағында көрсетілген барлық құжаттар ұсынылмаған жағдайда»"


def test_a_kazakh_letter_quotes_the_ground_as_the_kazakh_act_states_it() -> None:
    body = _refused("kk", _catalog_ground(PENSION, PENSION_EDITION, "incomplete_documents"))
    assert f"Негіздемесі:\n- {INCOMPLETE_KK}\n" in body
    assert "Not all para-11" not in body and not SEED_LINES.search(body)
    assert "сотқа жүгінуге" in body


def test_a_russian_letter_quotes_the_state_language_wording_as_such() -> None:
    body = _refused("ru", _catalog_ground(PENSION, PENSION_EDITION, "incomplete_documents"))
    assert f"- Основание (текст нормы на государственном языке): {INCOMPLETE_KK}\n" in body
    assert "Not all para-11" not in body and not SEED_LINES.search(body)
    assert "обратиться в суд" in body


@pytest.mark.parametrize(
    ("language", "marker"),
    [("kk", "(ағылшын тіліндегі қысқаша сипаттамасы)"), ("ru", "(краткое описание на английском языке)")],
)
def test_a_ground_without_kazakh_wording_falls_back_to_the_marked_summary(language: str, marker: str) -> None:
    # A catalog rule cited as a ground has no Kazakh wording; its seed lines are not for applicants.
    rule = Ground(
        id="rule:income_test",
        text="Per-capita income is above the poverty line (L16134-16137)",
        source="rule",
    )
    quoted = _catalog_ground(PENSION, PENSION_EDITION, "incomplete_documents")
    body = _refused(language, rule, quoted)
    assert f"- Per-capita income is above the poverty line {marker}\n" in body
    assert INCOMPLETE_KK in body
    assert not SEED_LINES.search(body)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_letters_queued_before_the_kazakh_wording_still_render(language: str) -> None:
    context = m.decision_made(decided(submitted(), "refused"), _facts(language), ZONE, False)
    context["grounds"] = ["Not all para-11 documents submitted"]  # the data as it was stored before
    body = Templates().render("decision_made", language, context).body
    assert "- Not all para-11 documents submitted\n" in body


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("The cl. 12 document list is not submitted (L176-178)", "The cl. 12 document list is not submitted"),
        ("EDS not authentic / not confirmed (L4804-4805, L4849-4854)", "EDS not authentic / not confirmed"),
        (
            "Refusal grounds are defined by the maslikhat Rules (L7786-7788); not in the seed",
            "Refusal grounds are defined by the maslikhat Rules; not in the seed",
        ),
        (
            "The disabled child has turned 18 (cl. 17 item 1, a ground for refusal or termination, L12880)",
            "The disabled child has turned 18 (cl. 17 item 1, a ground for refusal or termination)",
        ),
        ("'алғанда' (cl. 17 item 3, L12884) - ambiguous", "'алғанда' (cl. 17 item 3) - ambiguous"),
        ("a work refusal bars assistance (003 L121-133)", "a work refusal bars assistance"),
        ("recorded fact: death", "recorded fact: death"),
    ],
    ids=["alone", "two_ranges", "mid_sentence", "among_words", "first_in_parentheses", "file_prefix", "none"],
)
def test_seed_line_references_are_not_shown_to_applicants(text: str, shown: str) -> None:
    assert m.without_seed_lines(text) == shown


def test_an_intake_refusal_without_a_kazakh_document_name_hides_the_seed_lines() -> None:
    app = submitted(language="kk")
    refused = ApplicationRejectedAtIntake(
        application_id=app.application_id, service_id=app.service_id, channel="tson", office_id=app.office_id,
        region="astana", received_by="operator", rejected_at=DECIDED, idempotency_key="k",
        problems=[IntakeProblem(code="power_of_attorney_not_notarised", field="representative",
                                message="the standard requires a notarised power of attorney for a "
                                "representative (L548-550, L490)")],
    )  # fmt: skip
    context = m.intake_refused(refused, "x", ZONE)
    body = Templates().render("intake_refused", "kk", context).body
    assert "- the standard requires a notarised power of attorney for a representative\n" in body
    assert not SEED_LINES.search(body)


@pytest.mark.parametrize("outcome", ["refused", "information"])
@pytest.mark.parametrize("language", ["kk", "ru"])
def test_decision_variants(outcome: str, language: str) -> None:
    app = submitted()
    context = m.decision_made(decided(app, outcome), _facts(language), ZONE, False)  # type: ignore[arg-type]
    message = Templates().render("decision_made", language, context)
    if outcome == "refused":
        assert "- Not all para-11 documents submitted (" in message.body  # no Kazakh wording: marked
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
