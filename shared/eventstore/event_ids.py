"""Random (version 4) UUIDs for event ids, several times cheaper than `uuid.uuid4()`.

Every event gets an id when it is built (`NewEvent`), so the id is on every write's hot path:
`uuid.uuid4()` makes one `getrandom` system call per id and runs `UUID.__init__`'s checks, about
2-3 µs here, a third of what an append costs the client. These ids are the same kind of value,
a `uuid.UUID` of version 4 and the RFC 4122 variant, with 122 bits from the operating system's
random source (`os.urandom`), read in blocks of `BLOCK` ids at a time.

A forked child must not hand out the ids left in its parent's block: the block is dropped in the
child (`os.register_at_fork`).
"""

from __future__ import annotations

import os
import uuid

BLOCK = 256
"""Ids per read of the random source."""

_VERSION_AND_VARIANT_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4_AND_RFC_VARIANT = (0x4000 << 64) | (0x8000 << 48)
_new = object.__new__
_set = object.__setattr__
_UNKNOWN = uuid.SafeUUID.unknown
_UUID = uuid.UUID


_ids: list[int] = []
"""Random ids not handed out yet (integers of 128 bits). Shared by threads: each id is taken by one
`list.pop`, and two threads refilling at once each take a block of their own."""


def _refill() -> list[int]:
    global _ids
    raw = os.urandom(16 * BLOCK)
    _ids = [
        (int.from_bytes(raw[i : i + 16]) & _VERSION_AND_VARIANT_CLEAR) | _VERSION_4_AND_RFC_VARIANT
        for i in range(0, len(raw), 16)
    ]
    return _ids


def new_event_id() -> uuid.UUID:
    """A fresh random UUID (version 4), as `uuid.uuid4()` gives."""
    try:
        bits = _ids.pop()
    except IndexError:  # the block is used up (or another thread took its last id meanwhile)
        bits = _refill().pop()
    value = _new(_UUID)
    _set(value, "int", bits)
    _set(value, "is_safe", _UNKNOWN)
    return value


def _forget_after_fork() -> None:
    global _ids
    _ids = []


os.register_at_fork(after_in_child=_forget_after_fork)
