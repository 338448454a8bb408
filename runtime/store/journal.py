"""The store: the journal of messages and everything else the bridge must not forget.

One class, :class:`Store`, over either backend. All methods are synchronous and thread-safe
(one connection per thread); async callers use :class:`runtime.store.AsyncStore`.

Journal contract:

* :meth:`append` writes a message and its ``received`` event in one transaction before anyone
  acknowledges it. The ``idempotency_key`` is unique: appending a duplicate writes nothing and
  returns the original id with ``created=False``.
* :meth:`claim_next` hands out the **oldest** unfinished message of one record (journal order),
  and only when nothing older of that record is still running or waiting for its retry. A claim
  is a lease: a claimer that dies leaves the message ``processing`` until ``lease_until``; after
  that, the message is claimable again (crash recovery). Each claim gets a fresh token and only
  the token holder can finish the attempt, so a worker that lost its lease cannot overwrite the
  result of the one that took over.
* :meth:`due` lists the records the dispatcher must nudge.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from runtime.messages import Message
from runtime.store.backends import Backend, backend_for_url
from runtime.store.batch_insert import insert_all_new
from runtime.store.review import ReviewMixin
from runtime.store.state import StateMixin

__all__ = ["Receipt", "Store"]

_json = msgspec.json.Encoder()
_dejson = msgspec.json.Decoder()

_MSG_COLS = ("seq, id, entity, key, source, event, payload, idempotency_key, traceparent, received_at, "
             "source_version, status, attempts, next_attempt_at, last_error, flow, updated_at")


def _row_to_message(r: Any) -> Message:
    return Message(
        seq=r[0], id=r[1], entity=r[2], key=r[3], source=r[4], event=r[5], payload=_dejson.decode(r[6]),
        idempotency_key=r[7], traceparent=r[8], received_at=r[9], source_version=r[10], status=r[11],
        attempts=r[12], next_attempt_at=r[13], last_error=_dejson.decode(r[14]) if r[14] else None,
        flow=r[15], updated_at=r[16],
    )


class _NotAllNew(Exception):
    """Rolls back a set-based batch that met a known key (see :meth:`Store.append_many`)."""


@dataclass
class Receipt:
    """A signed webhook about a record version, for :meth:`Store.append_many`.

    ``webhook_id`` is the delivery id (Standard Webhooks ``webhook-id``), ``content`` a digest of
    the event type and data, ``change_key`` the version's idempotency key (entity + id +
    ``date_upd``, the key the PrestaShop poller uses too). When the webhook id was seen before,
    the append is a duplicate and the store sets ``seen_content`` to the digest stored then, so
    the caller can tell a reused id with a different body.
    """

    webhook_id: str
    content: str
    change_key: str
    seen_content: str | None = None


class Store(StateMixin, ReviewMixin):
    """See the module docstring. ``Store(url)`` opens (and migrates) the store at ``url``."""

    def __init__(self, url: str, *, backend: Backend | None = None, grace_s: float = 2.0) -> None:
        self.url = url
        self.backend = backend or backend_for_url(url)
        self.schema_version = self.backend.migrate()
        #: how long a new message waits for its ingest nudge before the dispatcher takes it up
        self.grace_s = grace_s

    def close(self) -> None:
        self.backend.close()

    # ------------------------------------------------------------------ journal
    def append(self, msg: Message) -> tuple[str, bool]:
        """Persist ``msg``; return ``(id, created)``. Idempotent on ``idempotency_key``."""
        return self.append_many([msg])[0]

    def append_many(self, msgs: list[Message], receipts: Sequence[Receipt | None] | None = None,
                    *, wait: bool = True) -> list[tuple[str, bool]]:
        """Persist several messages in **one** transaction (group commit); one result per message,
        in order. A duplicate inside the batch, or of a stored message, gets the first one's id.
        A batch of only new messages is written in a few multi-row statements
        (:mod:`runtime.store.batch_insert`), any other one message by message.

        ``receipts[i]`` (optional) makes message ``i`` a webhook change: see :class:`Receipt`.
        ``wait=False``: raise :class:`~runtime.store.backends.WriteBusy`, writing nothing, instead
        of waiting for another writer."""
        now = time.time()
        rs = list(receipts) if receipts else [None] * len(msgs)
        if len(msgs) > 1:
            # all new (the common batch): a few multi-row statements; anything else rolls that
            # transaction back and is written one by one below, so the outcome is the sequential
            # one either way (a rollback rather than a savepoint: two round trips fewer on PostgreSQL)
            try:
                with (self.backend.tx() if wait else self.backend.try_tx()) as cur:
                    done = insert_all_new(cur, msgs, rs, now, self._due_at)
                    if done is None:
                        raise _NotAllNew
                return done
            except _NotAllNew:
                pass
        out: list[tuple[str, bool]] = []
        with (self.backend.tx() if wait else self.backend.try_tx()) as cur:
            for msg, receipt in zip(msgs, rs, strict=True):
                out.append(self._insert(cur, msg, now) if receipt is None
                           else self._insert_with_receipt(cur, msg, receipt, now))
        return out

    def _due_at(self, msg: Message) -> float:
        """When a new message becomes due for the dispatcher (see :meth:`_insert`)."""
        return msg.received_at + self.grace_s if msg.next_attempt_at is None else msg.next_attempt_at

    def _insert_with_receipt(self, cur: Any, msg: Message, receipt: Receipt, now: float) -> tuple[str, bool]:
        """The webhook id is claimed first: a known id is a duplicate whatever its body (the
        stored content goes to ``receipt.seen_content``). A new id journals the message under
        the change key; when that version is already journaled, a poller's message makes this a
        duplicate, while another webhook's makes it a new event under ``msg.idempotency_key``
        (the standard: a new webhook id is a new delivery)."""
        # the receipt names the message it will most likely make; corrected below when not
        cur.execute("INSERT INTO webhook_receipts (webhook_id, message_id, content, received_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id",
                    (receipt.webhook_id, msg.id, receipt.content, now))
        if cur.fetchone() is None:
            cur.execute("SELECT message_id, content FROM webhook_receipts WHERE webhook_id = ?",
                        (receipt.webhook_id,))
            message_id, receipt.seen_content = cur.fetchone()
            return str(message_id), False
        result = self._insert(cur, msgspec.structs.replace(msg, idempotency_key=receipt.change_key), now)
        if not result[1]:
            cur.execute("SELECT payload FROM messages WHERE id = ?", (result[0],))
            if _dejson.decode(cur.fetchone()[0]).get("found_by") != "poll":
                result = self._insert(cur, msg, now)
        if result[0] != msg.id:
            cur.execute("UPDATE webhook_receipts SET message_id = ? WHERE webhook_id = ?",
                        (result[0], receipt.webhook_id))
        return result

    def _insert(self, cur: Any, msg: Message, now: float) -> tuple[str, bool]:
        """Insert one message (and its ``received`` event) unless its idempotency key is known.

        It is due ``grace_s`` after its receipt (its ingest nudge comes first), or at
        ``msg.next_attempt_at`` when the writer sets it: a poller, which nudges no actor, makes
        its messages due at once so the dispatcher's next tick takes them up."""
        cur.execute(
            "INSERT INTO messages (id, entity, key, source, event, payload, idempotency_key, traceparent, "
            "received_at, source_version, status, attempts, next_attempt_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', 0, ?, ?) "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            (msg.id, msg.entity, msg.key, msg.source, msg.event, _json.encode(msg.payload).decode(),
             msg.idempotency_key, msg.traceparent, msg.received_at, msg.source_version, self._due_at(msg), now),
        )
        if cur.fetchone() is None:
            cur.execute("SELECT id FROM messages WHERE idempotency_key = ?", (msg.idempotency_key,))
            return str(cur.fetchone()[0]), False
        self._event(cur, msg.id, "received", None, {"source": msg.source, "event": msg.event}, now)
        return msg.id, True

    def get(self, message_id: str) -> Message | None:
        with self.backend.read() as cur:
            cur.execute(f"SELECT {_MSG_COLS} FROM messages WHERE id = ?", (message_id,))
            r = cur.fetchone()
        return _row_to_message(r) if r else None

    def list_messages(self, *, status: str | None = None, entity: str | None = None, key: str | None = None,
                      trace_id: str | None = None, limit: int = 100, before_seq: int | None = None) -> list[Message]:
        """Newest first. ``trace_id`` is the 32-hex W3C trace id inside ``traceparent``."""
        where: list[str] = []
        params: list[Any] = []
        for col, val in (("status", status), ("entity", entity), ("key", key)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if trace_id:
            where.append("traceparent LIKE ?")
            params.append(f"00-{trace_id.lower()}-%")
        if before_seq is not None:
            where.append("seq < ?")
            params.append(before_seq)
        sql = f"SELECT {_MSG_COLS} FROM messages"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(int(limit))
        with self.backend.read() as cur:
            cur.execute(sql, params)
            return [_row_to_message(r) for r in cur.fetchall()]

    def timeline(self, message_id: str) -> list[dict[str, Any]]:
        """Every event of one message in order: received, attempts, errors, replays."""
        with self.backend.read() as cur:
            cur.execute("SELECT at, kind, attempt, detail FROM message_events WHERE message_id = ? ORDER BY seq",
                        (message_id,))
            rows = cur.fetchall()
        return [{"at": r[0], "kind": r[1], "attempt": r[2], "detail": _dejson.decode(r[3]) if r[3] else None}
                for r in rows]

    def claim_next(self, entity: str, key: str, lease_s: float) -> tuple[Message, str] | None:
        """Claim the oldest unfinished message of ``(entity, key)`` if it may run now.

        Returns ``(message, claim_token)`` with ``status='processing'`` and ``attempts`` counted,
        or ``None`` when the record has nothing to do or its head message is running / backing off.
        """
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute(
                "SELECT seq, status, next_attempt_at, lease_until FROM messages WHERE entity = ? AND key = ? "
                "AND status IN ('new', 'retry', 'processing') ORDER BY seq LIMIT 1" + self.backend.for_update,
                (entity, key),
            )
            head = cur.fetchone()
            if head is None:
                return None
            seq, status, next_at, lease_until = head
            if status == "processing" and lease_until is not None and lease_until > now:
                return None
            if status == "retry" and next_at is not None and next_at > now:
                return None
            token = secrets.token_hex(8)
            cur.execute(
                "UPDATE messages SET status = 'processing', attempts = attempts + 1, lease_until = ?, "
                "claim_token = ?, updated_at = ? WHERE seq = ?",
                (now + lease_s, token, now, seq),
            )
            cur.execute(f"SELECT {_MSG_COLS} FROM messages WHERE seq = ?", (seq,))
            msg = _row_to_message(cur.fetchone())
            if status == "processing":
                self._event(cur, msg.id, "lease_expired", msg.attempts - 1, None, now)
            self._event(cur, msg.id, "attempt_started", msg.attempts, None, now)
        return msg, token

    def extend_lease(self, message_id: str, token: str, lease_s: float) -> bool:
        """Push a running claim's lease forward (a heartbeat for long flows); False if the claim was lost."""
        with self.backend.tx() as cur:
            cur.execute("UPDATE messages SET lease_until = ? WHERE id = ? AND status = 'processing' AND claim_token = ?",
                        (time.time() + lease_s, message_id, token))
            return cur.rowcount == 1

    def complete(self, message_id: str, token: str, *, flow: str | None = None,
                 detail: dict[str, Any] | None = None, kind: str = "attempt_succeeded") -> bool:
        """Mark a claimed message ``done``. False when the claim was lost (lease taken over)."""
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute(
                "UPDATE messages SET status = 'done', lease_until = NULL, claim_token = NULL, flow = ?, "
                "updated_at = ? WHERE id = ? AND status = 'processing' AND claim_token = ?",
                (flow, now, message_id, token),
            )
            if cur.rowcount != 1:
                return False
            cur.execute("SELECT attempts FROM messages WHERE id = ?", (message_id,))
            self._event(cur, message_id, kind, cur.fetchone()[0], detail, now)
        return True

    def fail(self, message_id: str, token: str, error: dict[str, Any], *, retry_at: float | None,
             flow: str | None = None) -> str | None:
        """Finish a failed attempt: back to ``retry`` until ``retry_at`` or, if ``None``, ``dead``.

        Returns the new status, or ``None`` when the claim was lost.
        """
        now = time.time()
        status = "retry" if retry_at is not None else "dead"
        error = dict(error)
        payloads = error.pop("step_payloads", None)  # journaled with the attempt, not in last_error
        with self.backend.tx() as cur:
            cur.execute(
                "UPDATE messages SET status = ?, next_attempt_at = ?, last_error = ?, lease_until = NULL, "
                "claim_token = NULL, flow = COALESCE(?, flow), updated_at = ? "
                "WHERE id = ? AND status = 'processing' AND claim_token = ?",
                (status, retry_at, _json.encode(error).decode(), flow, now, message_id, token),
            )
            if cur.rowcount != 1:
                return None
            cur.execute("SELECT attempts FROM messages WHERE id = ?", (message_id,))
            attempt = cur.fetchone()[0]
            detail = dict(error)
            if retry_at is not None:
                detail["retry_at"] = retry_at
            if payloads:
                detail["step_payloads"] = payloads
            self._event(cur, message_id, "attempt_failed", attempt, detail, now)
            if status == "dead":
                self._event(cur, message_id, "dead", attempt, {"reason": error.get("message")}, now)
        return status

    def defer(self, message_id: str, token: str, retry_at: float, detail: dict[str, Any]) -> bool:
        """Put a claimed message back to wait until ``retry_at`` without using up an attempt (a
        circuit breaker refused the call: the target was never reached). Status ``retry``, the
        attempt counted by the claim given back, event ``deferred`` with ``detail``. False when
        the claim was lost."""
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute(
                "UPDATE messages SET status = 'retry', attempts = attempts - 1, next_attempt_at = ?, "
                "lease_until = NULL, claim_token = NULL, updated_at = ? "
                "WHERE id = ? AND status = 'processing' AND claim_token = ?",
                (retry_at, now, message_id, token),
            )
            if cur.rowcount != 1:
                return False
            cur.execute("SELECT attempts FROM messages WHERE id = ?", (message_id,))
            self._event(cur, message_id, "deferred", cur.fetchone()[0], {**detail, "retry_at": retry_at}, now)
        return True

    def due(self, limit: int = 500, now: float | None = None) -> list[tuple[str, str, str | None]]:
        """Records whose oldest unfinished message should run now: ``(entity, key, traceparent)``.

        Covers new messages whose ingest nudge did not lead to a claim within the grace period,
        retries whose backoff expired, and claims whose lease expired (a crashed worker).
        """
        now = time.time() if now is None else now
        with self.backend.read() as cur:
            # only the head (oldest unfinished) message of each record counts: a record whose head
            # is running or backing off is not due, whatever waits behind it
            cur.execute(
                "SELECT m.entity, m.key, m.traceparent FROM messages m WHERE "
                "((m.status IN ('new', 'retry') AND m.next_attempt_at <= ?) "
                "OR (m.status = 'processing' AND m.lease_until < ?)) "
                "AND m.seq = (SELECT MIN(h.seq) FROM messages h WHERE h.entity = m.entity AND h.key = m.key "
                "AND h.status IN ('new', 'retry', 'processing')) ORDER BY m.seq LIMIT ?",
                (now, now, int(limit)),
            )
            return [(r[0], r[1], r[2]) for r in cur.fetchall()]

    def replay(self, message_id: str) -> bool:
        """Put a ``dead`` (or discarded) message back in the queue, due now, attempts reset."""
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute(
                "UPDATE messages SET status = 'new', attempts = 0, next_attempt_at = ?, updated_at = ? "
                "WHERE id = ? AND status IN ('dead', 'discarded')",
                (now, now, message_id),
            )
            if cur.rowcount != 1:
                return False
            self._event(cur, message_id, "replayed", None, None, now)
        return True

    def discard(self, message_id: str, reason: str | None = None) -> bool:
        """Drop a ``dead`` message from the dead-letter queue (kept in the journal as ``discarded``)."""
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute("UPDATE messages SET status = 'discarded', updated_at = ? WHERE id = ? AND status = 'dead'",
                        (now, message_id))
            if cur.rowcount != 1:
                return False
            self._event(cur, message_id, "discarded", None, {"reason": reason} if reason else None, now)
        return True

    def record_event(self, message_id: str, kind: str, detail: dict[str, Any] | None = None) -> bool:
        """Append an event of ``kind`` to an existing message's timeline, now; the message itself
        is unchanged (e.g. ``duplicate_mismatch``: its webhook id was reused with another body).
        Returns False, writing nothing, when no message has ``message_id``."""
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,))
            if cur.fetchone() is None:
                return False
            self._event(cur, message_id, kind, None, detail, now)
        return True

    def counts(self) -> dict[str, dict[str, int]]:
        """``{entity: {status: n}}`` over the whole journal."""
        with self.backend.read() as cur:
            cur.execute("SELECT entity, status, COUNT(*) FROM messages GROUP BY entity, status")
            out: dict[str, dict[str, int]] = {}
            for entity, status, n in cur.fetchall():
                out.setdefault(entity, {})[status] = int(n)
        return out

    def step_payloads(self, message_id: str) -> dict[str, Any]:
        """What each step produced in the latest attempt that journaled any (see
        :mod:`pipelines.step_payloads`): ``{"attempt", "steps": [{"step", "kind", "at", "payload"
        (the JSON decoded; the cut text when ``truncated``), "truncated", "size"}]}``;
        ``{"attempt": None, "steps": []}`` when none was journaled."""
        with self.backend.read() as cur:
            cur.execute("SELECT MAX(attempt) FROM message_payloads WHERE message_id = ?", (message_id,))
            attempt = cur.fetchone()[0]
            if attempt is None:
                return {"attempt": None, "steps": []}
            cur.execute("SELECT step, kind, at, payload, truncated, size FROM message_payloads "
                        "WHERE message_id = ? AND attempt = ? ORDER BY seq", (message_id, attempt))
            rows = cur.fetchall()
        return {"attempt": attempt, "steps": [
            {"step": r[0], "kind": r[1], "at": r[2], "payload": r[3] if r[4] else _dejson.decode(r[3]),
             "truncated": bool(r[4]), "size": r[5]} for r in rows]}

    def _event(self, cur: Any, message_id: str, kind: str, attempt: int | None,
               detail: dict[str, Any] | None, at: float) -> None:
        if detail is not None and "step_payloads" in detail:
            # the steps' payloads (pipelines.step_payloads) go to their own table, not the timeline
            detail = dict(detail)
            for p in detail.pop("step_payloads") or ():
                cur.execute("INSERT INTO message_payloads (message_id, attempt, step, kind, at, payload, truncated, "
                            "size) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (message_id, attempt, p["step"], p.get("kind"), at, p["payload"],
                             1 if p.get("truncated") else 0, int(p.get("size") or 0)))
        cur.execute("INSERT INTO message_events (message_id, at, kind, attempt, detail) VALUES (?, ?, ?, ?, ?)",
                    (message_id, at, kind, attempt, _json.encode(detail).decode() if detail is not None else None))
