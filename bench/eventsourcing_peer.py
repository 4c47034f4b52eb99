"""The peer of the event-store benchmark: the `eventsourcing` library's PostgreSQL recorders.

Benchmark-only (the `bench` extra): used the way its documentation shows, synchronous psycopg,
one recorder per schema, events as `StoredEvent` with the JSON payload as bytes. Each operation
mirrors one of `eventstore_peer_bench`'s: batched insert, single inserts by concurrent threads
(the version given is the expected one: the primary key refuses a stale one), the notification
log read in order, and a projection built from it with the peer's tracking records.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresTrackingRecorder

Event = tuple[str, int, str, dict[str, Any]]
"""(stream, version, event type, data): one event as both stores get it."""

WRITERS = 8


@dataclass
class Peer:
    datastore: PostgresDatastore
    recorder: PostgresApplicationRecorder
    tracking: PostgresTrackingRecorder

    @classmethod
    def create(cls, database_url: str, schema: str) -> Peer:
        url = urlparse(database_url)
        datastore = PostgresDatastore(
            dbname=url.path.lstrip("/"),
            host=url.hostname or "127.0.0.1",
            port=url.port or 5432,
            user=unquote(url.username or "postgres"),
            password=unquote(url.password or ""),
            pool_size=WRITERS,
            schema=schema,
            originator_id_type="text",
        )
        with datastore.transaction(commit=True) as curs:
            curs.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            curs.execute(
                f"CREATE TABLE {schema}.bench_view"
                " (stream_id text PRIMARY KEY, events integer NOT NULL, last_seq integer NOT NULL)"
            )
        recorder = PostgresApplicationRecorder(datastore)
        recorder.create_table()
        tracking = PostgresTrackingRecorder(datastore, tracking_table_name="bench_tracking")
        tracking.create_table()
        return cls(datastore, recorder, tracking)

    def close(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"DROP SCHEMA IF EXISTS {self.datastore.schema} CASCADE")
        self.datastore.close()

    def append_batches(self, events: Sequence[Event], batch: int) -> float:
        """Seconds to insert `events`, `batch` per call."""
        started = time.perf_counter()
        for start in range(0, len(events), batch):
            self.recorder.insert_events(
                [
                    StoredEvent(stream, version, topic, json.dumps(data).encode())
                    for stream, version, topic, data in events[start : start + batch]
                ]
            )
        return time.perf_counter() - started

    def concurrent_appends(self, writes: Sequence[Sequence[Event]]) -> tuple[float, list[float]]:
        """Seconds for WRITERS threads each inserting its events one by one; each call's latency."""
        latencies: list[float] = []

        def writer(events: Sequence[Event]) -> None:
            for stream, version, topic, data in events:
                began = time.perf_counter()
                self.recorder.insert_events([StoredEvent(stream, version, topic, json.dumps(data).encode())])
                latencies.append(time.perf_counter() - began)

        started = time.perf_counter()
        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(writer, writes))
        return time.perf_counter() - started, latencies

    def read_pages(self, start: int, pages: int, page: int) -> tuple[float, int, int]:
        """Seconds to read up to `pages` pages of the notification log from `start` in order,
        decoding each payload; events read; where to go on."""
        started, total = time.perf_counter(), 0
        for _ in range(pages):
            if not (notifications := self.recorder.select_notifications(start, page)):
                break
            for n in notifications:
                json.loads(n.state)
            total += len(notifications)
            start = notifications[-1].id + 1
        return time.perf_counter() - started, total, start

    def project_pages(self, start: int, pages: int, page: int) -> tuple[float, int, int]:
        """Seconds to fold up to `pages` pages from `start` into bench_view, a page per transaction
        with its tracking record; events folded; where to go on."""
        started, total = time.perf_counter(), 0
        schema = self.datastore.schema
        for _ in range(pages):
            if not (notifications := self.recorder.select_notifications(start, page)):
                break
            view: dict[str, tuple[int, int]] = {}
            for n in notifications:
                data = json.loads(n.state)
                count, _ = view.get(str(n.originator_id), (0, 0))
                view[str(n.originator_id)] = (count + 1, data["seq"])
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    f"INSERT INTO {schema}.bench_view AS v (stream_id, events, last_seq)"
                    " SELECT * FROM unnest(%s::text[], %s::int[], %s::int[])"
                    " ON CONFLICT (stream_id) DO UPDATE"
                    " SET events = v.events + excluded.events, last_seq = excluded.last_seq",
                    (list(view), [c for c, _ in view.values()], [s for _, s in view.values()]),
                )
                self.tracking._insert_tracking(curs, Tracking("bench", notifications[-1].id))
            total += len(notifications)
            start = notifications[-1].id + 1
        return time.perf_counter() - started, total, start
