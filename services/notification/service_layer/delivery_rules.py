"""What every delivery loop shares: the system actor it records as, a fresh lease token per
lease, and how a round's failures are handled."""

from __future__ import annotations

import uuid

import structlog

from shared.domain.actor import SYSTEM_ROLE, Actor
from shared.service_layer import Meta, is_retryable

log = structlog.get_logger(__name__)


def system_meta(worker: str) -> Meta:
    return Meta(Actor(subject=worker, role=SYSTEM_ROLE, office="*"))


def new_lease() -> str:
    """A token per lease: a worker that lost its lease (and leased again) can never act on the
    old one, which a worker's name would allow."""
    return str(uuid.uuid4())


def log_failures(what: str, results: list[object]) -> None:
    """A delivery whose outcome could not be recorded keeps its lease until it expires, then is
    tried again: one broken row must not stop the loop for every other (a database outage still
    stops the batch, and the loop retries it)."""
    errors = [r for r in results if isinstance(r, BaseException)]
    for error in errors:
        if is_retryable(error) or not isinstance(error, Exception):
            raise error
        log.error("could not record a delivery outcome", what=what, error=type(error).__name__)
