"""The set-based form of :meth:`runtime.store.journal.Store.append_many`: a whole batch of new
messages in three statements instead of three per message.

The common batch of a busy ingest holds only new webhooks: new delivery ids, new idempotency
keys. For it, one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` claims all the
webhook ids, one inserts all the messages, one writes all their ``received`` events. On
PostgreSQL that is three round trips per batch instead of three per message; on SQLite, fewer
statement executions from Python.

Anything else (a known delivery id, a known idempotency key, the same one twice in the batch)
makes a statement insert fewer rows than it was given. The caller then rolls the batch's
transaction back and writes it message by message in a new one (the sequential path, whose rules decide
duplicates), so the outcome is always exactly the sequential one: this path only ever answers
"all created" or "not for me".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

__all__ = ["insert_all_new"]

_json = msgspec.json.Encoder()

#: rows per statement: far below both engines' bind-parameter limits (SQLite 32,766,
#: PostgreSQL 65,535) at 12 parameters a message
_ROWS = 256


def _values(n: int, width: int) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    return ", ".join([row] * n)


def insert_all_new(cur: Any, msgs: Sequence[Any], receipts: Sequence[Any], now: float,
                   due_at: Callable[[Any], float]) -> list[tuple[str, bool]] | None:
    """Insert every message of the batch as new, or return ``None`` when one of them is not
    (see the module docstring); the caller must then undo what this wrote (roll back).

    ``receipts[i]`` is the :class:`~runtime.store.journal.Receipt` of message ``i`` or None; a
    message with a receipt is journaled under the receipt's change key, as the sequential path
    does first. ``due_at(msg)`` is the message's ``next_attempt_at``."""
    for start in range(0, len(msgs), _ROWS):
        part = range(start, min(start + _ROWS, len(msgs)))
        claimed = [(receipts[i].webhook_id, msgs[i].id, receipts[i].content, now) for i in part if receipts[i]]
        if claimed:
            cur.execute("INSERT INTO webhook_receipts (webhook_id, message_id, content, received_at) VALUES "
                        f"{_values(len(claimed), 4)} ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id",
                        [v for row in claimed for v in row])
            if len(cur.fetchall()) != len(claimed):
                return None
        rows: list[Any] = []
        for i in part:
            m = msgs[i]
            key = receipts[i].change_key if receipts[i] else m.idempotency_key
            rows += (m.id, m.entity, m.key, m.source, m.event, _json.encode(m.payload).decode(), key,
                     m.traceparent, m.received_at, m.source_version, due_at(m), now)
        cur.execute("INSERT INTO messages (id, entity, key, source, event, payload, idempotency_key, traceparent, "
                    "received_at, source_version, status, attempts, next_attempt_at, updated_at) VALUES "
                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', 0, ?, ?)"] * len(part))
                    + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id", rows)
        if len(cur.fetchall()) != len(part):
            return None
        events: list[Any] = []
        for i in part:
            events += (msgs[i].id, now, "received", None,
                       _json.encode({"source": msgs[i].source, "event": msgs[i].event}).decode())
        cur.execute(f"INSERT INTO message_events (message_id, at, kind, attempt, detail) VALUES "
                    f"{_values(len(part), 5)}", events)
    return [(m.id, True) for m in msgs]
