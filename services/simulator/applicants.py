"""Made-up applicants and their families: names, birth dates, a valid ИИН for each (birth date,
century-and-sex digit, serial, check digit: intake's `make_iin`), employment and a
declared monthly income. Nobody here exists; amounts are random household data, not legal numbers.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from services.intake.domain.identity import make_iin
from services.simulator.offers import Offer

GIVEN_MALE = ("Асхат", "Ерлан", "Нұрлан", "Данияр", "Бауыржан", "Серік", "Қайрат", "Ержан", "Арман", "Тимур")
GIVEN_FEMALE = ("Айгүл", "Гүлнара", "Әсел", "Жанар", "Динара", "Сәуле", "Айжан", "Мәдина", "Ләззат", "Камила")
SURNAMES = ("Ахметов", "Серікбаев", "Нұрланов", "Жақсылықов", "Омаров", "Тұрсынов", "Исаев", "Бекова")


@dataclass(frozen=True)
class Member:
    relation: str
    full_name: str
    iin: str
    birth_date: date
    employment: str
    monthly_income: str
    """Declared average monthly income in tenge (a decimal string)."""


@dataclass(frozen=True)
class Family:
    members: tuple[Member, ...]
    """The applicant first (relation `self`)."""
    language: str

    @property
    def applicant(self) -> Member:
        return self.members[0]


def _person(rng: random.Random, relation: str, birth: date, female: bool, surname: str) -> Member:
    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
    name = f"{surname}{'а' if female else ''} {given}"
    if relation == "child":
        employment, income = "child", 0
    else:
        employment = rng.choices(("employed", "unemployed", "pensioner", "carer"), (5, 3, 1, 1))[0]
        income = 0 if employment == "unemployed" and rng.random() < 0.7 else rng.randrange(0, 400) * 500
    return Member(
        relation, name, make_iin(birth, rng.randrange(10_000), female=female), birth, employment, str(income)
    )


def make_family(rng: random.Random, today: date) -> Family:
    """An adult applicant, maybe a spouse, and zero to four children."""
    surname = rng.choice(SURNAMES)
    female = rng.random() < 0.6
    adult_birth = today - timedelta(days=rng.randrange(20 * 365, 70 * 365))
    members = [_person(rng, "self", adult_birth, female, surname)]
    if rng.random() < 0.6:
        spouse_birth = adult_birth + timedelta(days=rng.randrange(-5 * 365, 5 * 365))
        members.append(_person(rng, "spouse", min(spouse_birth, today), not female, surname))
    for _ in range(rng.choice((0, 0, 1, 1, 2, 2, 3, 4))):
        child_birth = today - timedelta(days=rng.randrange(30, 17 * 365))
        members.append(_person(rng, "child", child_birth, rng.random() < 0.5, surname))
    return Family(tuple(members), rng.choice(("kk", "ru")))


def application_body(offer: Offer, family: Family, rng: random.Random, *, leave_out: bool) -> dict[str, Any]:
    """The body of `POST /v1/applications`; `leave_out` drops one document everyone must bring."""
    documents = list(offer.documents)
    if leave_out and offer.droppable:
        documents.remove(rng.choice(offer.droppable))
    applicant = family.applicant
    return {
        "idempotency_key": str(uuid.uuid4()),
        "service_id": offer.service_id,
        "channel": offer.channel,
        "office_id": offer.office_id,
        "applicant": {
            "iin": applicant.iin,
            "full_name": applicant.full_name,
            "preferred_language": family.language,
            "contacts": {"phone": f"+7 7{rng.randrange(0, 10**9):09d}"},
        },
        "family_members": [
            {
                "iin": m.iin,
                "full_name": m.full_name,
                "relation": m.relation,
                "declared_monthly_income": m.monthly_income,
            }
            for m in family.members
        ],
        "documents": [{"document_id": d, "form": "original"} for d in documents],
    }


def household(family: Family) -> list[dict[str, Any]]:
    """The family as an inspection act or a draft records it (no names: they decide nothing)."""
    return [
        {
            "relation": m.relation,
            "birth_date": m.birth_date.isoformat(),
            "employment": m.employment,
            "monthly_income": m.monthly_income,
            "registered_unemployed": True if m.employment == "unemployed" else None,
        }
        for m in family.members
    ]
