"""The message: one event about one record, as written to the journal.

Messages are msgspec Structs (decoded once at the boundary, cheap to copy between Ray processes).
New fields must get defaults so stored rows written by older versions still decode.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from ulid import ULID

__all__ = ["Message", "new_message_id", "STATUSES"]

#: life cycle: new -> processing -> done | retry -> processing ... | dead (dead-letter queue);
#: a guard's hold: processing -> held -> new (released) | rejected (runtime/store/review.py)
STATUSES = ("new", "processing", "retry", "done", "dead", "discarded", "held", "rejected")


def new_message_id() -> str:
    """A ULID: unique, sortable by creation time, safe in URLs."""
    return str(ULID())


class Message(msgspec.Struct, kw_only=True):
    """One event about one record.

    ``key`` is the record's natural key in its source system; ``idempotency_key`` deduplicates
    (the webhook id, or a content hash); ``traceparent`` is the W3C trace context every later span
    continues. ``source_version`` orders updates of one record (e.g. PrestaShop ``date_upd``);
    ``None`` means the event carries no version.
    """

    id: str
    entity: str
    key: str
    source: str
    event: str
    payload: dict[str, Any]
    idempotency_key: str
    traceparent: str | None = None
    received_at: float = msgspec.field(default_factory=time.time)
    source_version: str | None = None
    status: str = "new"
    attempts: int = 0
    seq: int | None = None
    next_attempt_at: float | None = None
    last_error: dict[str, Any] | None = None
    flow: str | None = None
    updated_at: float | None = None
