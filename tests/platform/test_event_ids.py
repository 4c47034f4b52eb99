"""Event ids: version-4 UUIDs like `uuid.uuid4()`, unique, and never shared with a forked child."""

from __future__ import annotations

import os
import uuid

from shared.eventstore.event_ids import BLOCK, new_event_id
from shared.eventstore.records import NewEvent


def test_an_event_id_is_a_version_4_rfc_uuid_equal_to_its_text_form() -> None:
    for _ in range(BLOCK * 3):
        event_id = new_event_id()
        assert isinstance(event_id, uuid.UUID)
        assert event_id.version == 4
        assert event_id.variant == uuid.RFC_4122
        assert uuid.UUID(str(event_id)) == event_id
        assert hash(event_id) == hash(uuid.UUID(str(event_id)))


def test_event_ids_do_not_repeat() -> None:
    ids = {new_event_id() for _ in range(BLOCK * 40)}
    assert len(ids) == BLOCK * 40


def test_a_new_event_gets_a_fresh_id() -> None:
    first, second = NewEvent("t", {}), NewEvent("t", {})
    assert first.event_id != second.event_id
    assert first.event_id.version == 4


def test_a_forked_child_does_not_reuse_its_parents_ids() -> None:
    new_event_id()  # the parent now holds a block of ids not handed out yet
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the ids it would take next
        os.close(read)
        os.write(write, "".join(str(new_event_id()) for _ in range(8)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read().decode()
    os.waitpid(pid, 0)
    parent = "".join(str(new_event_id()) for _ in range(8))
    assert len(child) == len(parent) == 8 * 36
    assert child != parent
