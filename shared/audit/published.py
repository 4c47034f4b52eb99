"""What the audit relays published on `audit.v1`, read from offset 0 to the end (the anchors
the compliance side keeps; the records themselves are skipped unread)."""

from __future__ import annotations

import json
import time

from kafka import KafkaConsumer, TopicPartition

from shared.audit.anchors import ANCHOR_KIND, Anchor
from shared.audit.relay import KIND_HEADER


def published_anchors(bootstrap: str, topic: str, *, timeout_s: float = 30.0) -> list[Anchor]:
    """Every anchor on `topic` (empty if the topic does not exist yet)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="qyzmet-audit-anchors"
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            return []
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = {tp: end for tp, end in consumer.end_offsets(assigned).items() if end > 0}
        anchors: list[Anchor] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} took longer than {timeout_s} s")
            for records in consumer.poll(timeout_ms=500, max_records=5000).values():
                for record in records:
                    kind = dict(record.headers or []).get(KIND_HEADER)
                    if kind == ANCHOR_KIND.encode():
                        anchors.append(Anchor.from_json(json.loads(record.value)))
        return anchors
    finally:
        consumer.close()
