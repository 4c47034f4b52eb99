"""Chain anchors: the head of each audit chain at a moment, kept outside the database.

The audit relay publishes an anchor of every chain that grew on `audit.v1` at intervals
(`QYZMET_AUDIT_ANCHOR_INTERVAL_S`); the compliance side keeps them (the topic itself, read from
offset 0, and an anchor file of JSON lines). An anchor whose record the database no longer holds,
or holds with another MAC, proves a truncated or rewritten chain even when the rest of the chain
was made consistent again. The records published on the topic (`PublishedRecord`: each reaches it
within about a second) are the same kind of evidence between two anchors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.audit.chain_macs import ChainMacs

RECORD_KIND = "audit.record"
ANCHOR_KIND = "audit.anchor"


@dataclass(frozen=True)
class Anchor:
    schema: str
    chain: str
    seq: int
    hash: str
    time: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": ANCHOR_KIND, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Anchor:
        return cls(
            str(data["schema"]), str(data["chain"]), int(data["seq"]), str(data["hash"]), str(data["time"])
        )


@dataclass(frozen=True)
class PublishedRecord:
    """What the topic holds of one published audit record: enough to tell whether the database
    still holds that record, the same (its keyed MAC), and when it was made."""

    schema: str
    chain: str
    seq: int
    hash: str
    recorded_at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublishedRecord:
        return cls(
            str(data["schema"]), str(data["chain"]), int(data["seq"]), str(data["hash"]),
            str(data["recorded_at"]),
        )  # fmt: skip


def chain_macs_of(records: Iterable[PublishedRecord]) -> dict[tuple[str, str], ChainMacs]:
    """(schema, chain) -> the MACs of `records`."""
    out: dict[tuple[str, str], ChainMacs] = {}
    for record in records:
        out.setdefault((record.schema, record.chain), ChainMacs()).add(record.seq, record.hash)
    return out


def anchors_in(messages: Iterable[dict[str, Any]]) -> Iterator[Anchor]:
    for message in messages:
        if message.get("kind") == ANCHOR_KIND:
            yield Anchor.from_json(message)


def read_anchor_file(path: Path) -> list[Anchor]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return list(anchors_in(json.loads(line) for line in lines if line.strip()))


def keep_anchors(path: Path, anchors: Iterable[Anchor]) -> int:
    """Add to the anchor file the anchors it lacks; returns how many were added."""
    known = set(read_anchor_file(path))
    fresh = [anchor for anchor in dict.fromkeys(anchors) if anchor not in known]
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            for anchor in fresh:
                out.write(json.dumps(anchor.as_json(), separators=(",", ":")) + "\n")
    return len(fresh)
