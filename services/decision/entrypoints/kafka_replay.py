"""The `cases` worklist rebuilt from the topics (`qyzmet replay decision --source kafka`).

A case's stream is what the decision service publishes on `decisions.v1` and `inspections.v1`
(its own events there: office systems' commands on `inspections.v1` count only through the
events the service recorded for them), but for three internal events:

* `CaseOpened` (the household as declared) is rebuilt from the `ApplicationSubmitted` on
  `applications.v1` that opened the case, by the pure function the service opens a case with
  (`domain.opening.case_opened`, under the workflow of the edition the submission names). An
  application whose service, edition or region the catalog does not know opens no case, as live.
* `DecisionDrafted` (an unsigned draft) is left internal: a draft that waits for the head is
  published as `DecisionSubmittedForSignature` (the status), one decided at once as `DecisionMade`.
* `DocumentsChecked` changes nothing the worklist shows.

The fresh schema's store receives, per case, the opening and then the case's published events in
the order the topics tell (`shared.replay.kafka.read_topics`); the live projection code then
projects it. Not from the topics: the stream version (`version`, which counts the internal
events) and when the row was written (`updated_at`); `TableSpec.not_from_kafka` names them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable

import asyncpg

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.domain.opening import case_opened
from services.decision.domain.workflow import workflow_of
from services.decision.service_layer.case_streams import stream_of
from shared.catalog.errors import CatalogError
from shared.contracts.applications import APPLICATION_EVENTS, ApplicationSubmitted
from shared.contracts.decisions import CaseOpened
from shared.contracts.event import parse_ce_type
from shared.contracts.registry import UnknownEventType
from shared.contracts.topics import contract_of
from shared.messaging.envelope import Envelope
from shared.replay.kafka import TopicRecord, read_topics, refilled_store_job, store_envelopes, subject_stream
from shared.replay.spec import KafkaJob, ReplayJob

APPLICATIONS_TOPIC = "applications.v1"
CASE_TOPICS = ("decisions.v1", "inspections.v1")
TOPICS = (APPLICATIONS_TOPIC, *CASE_TOPICS)
OPENINGS = uuid.UUID("5d0c3a52-0a4e-4f5b-9d43-0c6f7d1e2b11")
"""Namespace of the rebuilt openings' event ids (one per submission record: a rerun gives the same)."""
CHUNK = 1000

Replay = Callable[[asyncpg.Pool, ReplayJob], Awaitable[int]]


async def replay_from_topics(
    pool: asyncpg.Pool, job: KafkaJob, project: Replay, catalog: DecisionCatalog, own_source: str
) -> int:
    records = await read_topics(job.bootstrap_servers, TOPICS, job.topic_prefix)
    envelopes = case_envelopes(records, catalog, own_source)
    async with pool.acquire() as conn:
        for start in range(0, len(envelopes), CHUNK):
            async with conn.transaction():
                await store_envelopes(conn, job.target, envelopes[start : start + CHUNK], subject_stream)
    return await project(pool, await refilled_store_job(pool, job))


def case_envelopes(
    records: Iterable[TopicRecord], catalog: DecisionCatalog, own_source: str
) -> list[Envelope]:
    """Every case's events as its stream holds them, internal ones aside: the opening first (the
    first submission of the application wins, as a redelivered one opens nothing), then its
    published events in topic order. Events of a case never opened are left out (the live service
    has no such stream)."""
    published = {event.event_name for topic in CASE_TOPICS for event in contract_of(topic).events}
    openings: dict[str, Envelope] = {}
    steps: dict[str, list[Envelope]] = {}
    for record in records:
        envelope = record.envelope
        if record.topic == APPLICATIONS_TOPIC:
            opening = _opening(envelope, catalog, own_source)
            if opening is not None and subject_stream(opening) not in openings:
                openings[subject_stream(opening)] = opening
        elif envelope.source == own_source and parse_ce_type(envelope.type)[0] in published:
            steps.setdefault(subject_stream(envelope), []).append(envelope)
    out: list[Envelope] = []
    for stream, opening in openings.items():
        out.append(opening)
        out.extend(steps.get(stream, ()))
    return out


def _opening(envelope: Envelope, catalog: DecisionCatalog, own_source: str) -> Envelope | None:
    if parse_ce_type(envelope.type)[0] != ApplicationSubmitted.event_name:
        return None
    try:
        submitted = APPLICATION_EVENTS.decode(envelope.type, envelope.data)
    except (UnknownEventType, ValueError):
        return None  # dead-lettered by the live consumer
    assert isinstance(submitted, ApplicationSubmitted)
    try:  # what the live service reads of the catalog to open a case (`CaseHandlers.env`)
        edition = catalog.edition(submitted.service_id, submitted.edition_id)
        catalog.time_zone(submitted.region)
    except CatalogError:
        return None  # the live service cannot open it either
    opened = case_opened(submitted, workflow_of(edition))
    return Envelope(
        id=str(uuid.uuid5(OPENINGS, envelope.id)),
        source=own_source,
        type=CaseOpened.ce_type(),
        data=opened.model_dump(mode="json"),
        time=envelope.time,
        subject=stream_of(submitted.application_id),
        correlation_id=envelope.correlation_id or submitted.application_id,
        causation_id=envelope.id,
        office=submitted.office_id,
        region=submitted.region,
    )
