"""The decision worker collects young objects less often while it runs, and gives the process its
collector back as it was once the last worker in it has ended (issue 14)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from services.decision import bootstrap


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_young_collections_are_rarer_while_any_worker_runs(thresholds: tuple[int, int, int]) -> None:
    bootstrap._collect_young_less_often(+1)
    assert gc.get_threshold() == (bootstrap.YOUNG_COLLECTION_EVERY, 10, 10)
    bootstrap._collect_young_less_often(+1)  # a second worker in the same process
    bootstrap._collect_young_less_often(-1)
    assert gc.get_threshold() == (bootstrap.YOUNG_COLLECTION_EVERY, 10, 10)
    bootstrap._collect_young_less_often(-1)
    assert gc.get_threshold() == thresholds
