"""Which errors are transient (retry with backoff) rather than poison (dead-letter).

The service layer's classification (`shared.service_layer.retry`): one list for HTTP, Kafka
consumers and timers alike.
"""

from __future__ import annotations

from shared.service_layer.retry import RETRYABLE_ERRORS as TRANSIENT_ERRORS
from shared.service_layer.retry import is_retryable as is_transient

__all__ = ["TRANSIENT_ERRORS", "is_transient"]
