"""The Kazakh wording of refusal and termination grounds (`text_kk`), quoted for letters to applicants.

Each `text_kk` must be a quote from the seed lines its ground cites (the `(L…)` references in
`text`) in the edition's seed file. The seeds are PDF extractions: words wrap across lines and
some are letter-spaced ("ш е г і н е н"), so the quote is compared with all whitespace removed;
the characters themselves must match exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from shared.catalog import Catalog
from shared.catalog.edition_parts import Ground
from tests.catalog.reference import REPO_ROOT

SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"
_CITATION = re.compile(r"\bL(\d+)(?:-(\d+))?\b")

WITHOUT_TEXT_KK: dict[tuple[str, str, str], str] = {}
"""(service, edition, ground id) of grounds with no Kazakh line to quote, each with the reason.
Empty: every ground's cited seed lines hold its Kazakh wording."""


def _grounds(catalog: Catalog) -> Iterator[tuple[str, str, str, Ground]]:
    """(service id, edition id, seed file, ground) for every refusal and termination ground."""
    for service in catalog.services:
        for edition in service.editions:
            for ground in (*edition.refusal_grounds, *edition.termination_grounds):
                yield service.id, edition.id, edition.source.file, ground


def _squashed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _cited_ranges(ground: Ground) -> list[tuple[int, int]]:
    return [(int(a), int(b or a)) for a, b in _CITATION.findall(ground.text)]


def _seed_lines(name: str, cache: dict[str, list[str]]) -> list[str]:
    if name not in cache:
        cache[name] = (SEEDS_DIR / name).read_text(encoding="utf-8").splitlines()
    return cache[name]


def test_every_ground_has_kazakh_wording_unless_listed(catalog: Catalog) -> None:
    missing = {(s, e, g.id) for s, e, _, g in _grounds(catalog) if g.text_kk is None}
    assert missing == set(WITHOUT_TEXT_KK)


def test_kazakh_wording_is_whitespace_normalised(catalog: Catalog) -> None:
    for service, edition, _, ground in _grounds(catalog):
        if ground.text_kk is None:
            continue
        assert ground.text_kk == " ".join(ground.text_kk.split()), (service, edition, ground.id)
        assert _CITATION.search(ground.text_kk) is None, (service, edition, ground.id)


def test_kazakh_wording_is_quoted_from_the_cited_seed_lines(catalog: Catalog) -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seeds are not available at {SEEDS_DIR}")
    cache: dict[str, list[str]] = {}
    checked = 0
    for service, edition, seed_file, ground in _grounds(catalog):
        if ground.text_kk is None:
            continue
        lines = _seed_lines(seed_file, cache)
        ranges = _cited_ranges(ground)
        assert ranges, (service, edition, ground.id, "cites no seed lines")
        quote = _squashed(ground.text_kk)
        # Each cited range is searched on its own: a quote must not straddle two separate ranges.
        found = any(quote in _squashed("\n".join(lines[first - 1 : last])) for first, last in ranges)
        assert found, (service, edition, ground.id, ground.text_kk)
        checked += 1
    assert checked == sum(1 for _ in _grounds(catalog)) - len(WITHOUT_TEXT_KK) > 0


def test_the_quote_check_rejects_a_wording_not_in_the_cited_lines(catalog: Catalog) -> None:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the seeds are not available at {SEEDS_DIR}")
    service = catalog.service("child_benefit_under_18")
    edition = service.editions[0]
    death = next(g for g in edition.termination_grounds if g.id == "child_death")
    lines = _seed_lines(edition.source.file, {})
    (first, last) = _cited_ranges(death)[0]
    cited = _squashed("\n".join(lines[first - 1 : last]))
    assert _squashed(death.text_kk or "") in cited
    # The same words from another ground of the same edition (income test, L5368-5372) are not here.
    income = next(g for g in edition.refusal_grounds if g.id == "income_above_food_basket")
    assert _squashed(income.text_kk or "") not in cited
