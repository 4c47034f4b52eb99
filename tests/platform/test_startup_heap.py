"""A worker's startup heap (its catalog) is frozen out of the collector's way; what the work
allocates afterwards is still collected (shared.runtime.heap, issue 14)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from shared.runtime.heap import freeze_startup_heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # other tests see the collector as it was


def test_startup_objects_are_frozen_and_later_garbage_is_still_collected(unfrozen: None) -> None:
    startup = {"editions": [{"id": i} for i in range(100)]}  # what a worker keeps for its lifetime
    assert any(o is startup for o in gc.get_objects())
    assert freeze_startup_heap() >= 1
    assert not any(o is startup for o in gc.get_objects())  # no collection walks it any more
    # a reference cycle made by the work afterwards is garbage the collector still finds
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None
