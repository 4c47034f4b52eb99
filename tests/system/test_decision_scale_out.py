"""Scale-out (issue 14): two decision worker processes with distinct QYZMET_INSTANCE share the
partitions of applications.v1 and no case is decided twice."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from bench.decision_workers import decided, decision_workers, produce, wait_for_group
from shared.db.pool import connect
from shared.infra import KafkaHandle, create_database, drop_database
from shared.messaging.topics import contract_topics, ensure_topics

APPLICATIONS = 300


async def test_two_workers_share_the_partitions_and_decide_each_case_once(
    database_url: str, broker: KafkaHandle, tmp_path: Path
) -> None:
    name = f"scale_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    prefix = f"so{uuid.uuid4().hex[:6]}."
    env = {
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "TOPIC_PREFIX": prefix,
        "QYZMET_DATA_DIR": str(tmp_path / "data"),
        "QYZMET_TOKEN_SECRET": "scale-out-secret-" + "s" * 32,
        "DECISION_SCHEDULER": "0",
    }
    ensure_topics(broker.bootstrap_servers, contract_topics(6, prefix))
    try:
        with decision_workers(2, env, tmp_path / "logs") as workers:
            wait_for_group(broker.bootstrap_servers, f"{prefix}qyzmet-decision-worker", 2)
            ids = await produce(broker.bootstrap_servers, prefix + "applications.v1", APPLICATIONS)
            conn = await connect(url)
            try:
                for _ in range(600):
                    counts = await decided(conn)
                    if len(counts) >= APPLICATIONS:
                        break
                    await asyncio.sleep(0.25)
            finally:
                await conn.close()
            handled = [worker.handled() for worker in workers]
        assert set(counts) == set(ids)
        assert set(counts.values()) == {1}, "a case was decided more than once"
        assert all(h > 0 for h in handled), f"one worker got no partition: {handled}"
    finally:
        drop_database(database_url, name)
