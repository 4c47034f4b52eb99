"""How the outbox relay treats a failed send.

- **Fatal for the producer** (`needs_new_producer`): the producer's idempotence state no longer
  matches the broker's (out-of-order sequence, unknown producer id, fenced or invalid epoch; what a
  broker that restarted without its state, or that refused one batch, answers). Every later send of
  that producer fails the same way: it must be discarded and a fresh one started.
- **Refused for good** (`refusal_reason`): the broker (or the client, before sending) will never
  accept this record: too large, an invalid topic name, a policy or authorisation refusal, a
  corrupt record. The event is parked with the reason instead of wedging the relay.
- Anything else (timeouts, connection errors, leader changes) is passing: re-sent from the
  checkpoint after a back-off.
"""

from __future__ import annotations

import re

from aiokafka import errors as kafka_errors

FATAL_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (
    kafka_errors.OutOfOrderSequenceNumber,
    kafka_errors.UnknownProducerId,
    kafka_errors.ProducerFenced,
    kafka_errors.InvalidProducerEpoch,
    kafka_errors.InvalidProducerIdMapping,
    kafka_errors.InvalidTxnState,
)

REFUSALS: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.InvalidTopicError,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.PolicyViolationError,
    kafka_errors.CorruptRecordException,
    kafka_errors.UnsupportedForMessageFormatError,
)

_LEGAL_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


class InvalidTopicName(ValueError):
    """The route names a topic no Kafka broker accepts (refused before sending)."""


class BatchRefused(RuntimeError):
    """The broker refused a produce batch that held several events: which one is the culprit is
    not known yet, so they are sent again one at a time (by a fresh producer: the refusal left the
    old one's sequence numbers out of step with the broker's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_topic_name(topic: str) -> None:
    if not _LEGAL_TOPIC.match(topic) or topic in (".", ".."):
        raise InvalidTopicName(f"invalid topic name {topic!r}")


def needs_new_producer(error: BaseException, producer: object = None) -> bool:
    """True after a fatal error, or once the producer's background sender has ended (it then
    fails every send with whatever ended it, and never recovers)."""
    return isinstance(error, (*FATAL_PRODUCER_ERRORS, BatchRefused)) or producer_is_dead(producer)


def producer_is_dead(producer: object) -> bool:
    task = getattr(getattr(producer, "_sender", None), "sender_task", None)
    return task is not None and bool(task.done())


def refusal_reason(error: BaseException) -> str | None:
    """The reason to park an event refused with `error`; None if the error is not a refusal."""
    if isinstance(error, InvalidTopicName):
        return f"InvalidTopicName: {error}"
    if isinstance(error, REFUSALS):
        # The class name says what; aiokafka's text for a local size check adds the sizes only.
        return type(error).__name__
    return None
