"""What the audit relays published on `audit.v1`, read from offset 0 to the end: the anchors the
compliance side keeps, and each published record's chain, seq and MAC (evidence between anchors)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition

from shared.audit.anchors import ANCHOR_KIND, RECORD_KIND, Anchor, PublishedRecord
from shared.audit.relay import KIND_HEADER


@dataclass
class Published:
    anchors: list[Anchor] = field(default_factory=list)
    records: list[PublishedRecord] = field(default_factory=list)


def published_audit(bootstrap: str, topic: str, *, timeout_s: float = 60.0) -> Published:
    """Every anchor and record on `topic` (none if the topic does not exist yet)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="qyzmet-audit-anchors"
    )
    out = Published()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return out
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = {tp: end for tp, end in consumer.end_offsets(assigned).items() if end > 0}
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} took longer than {timeout_s} s")
            for records in consumer.poll(timeout_ms=500, max_records=5000).values():
                for record in records:
                    kind = dict(record.headers or []).get(KIND_HEADER)
                    if kind == ANCHOR_KIND.encode():
                        out.anchors.append(Anchor.from_json(json.loads(record.value)))
                    elif kind == RECORD_KIND.encode():
                        out.records.append(PublishedRecord.from_json(json.loads(record.value)))
        return out
    finally:
        consumer.close()


def published_anchors(bootstrap: str, topic: str, *, timeout_s: float = 30.0) -> list[Anchor]:
    """Every anchor on `topic` (empty if the topic does not exist yet)."""
    return published_audit(bootstrap, topic, timeout_s=timeout_s).anchors
