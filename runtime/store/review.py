"""The review queue (records a guard held) and the anomaly guard's statistics, in the store.

Life cycle of a held message (each step is one transaction and one timeline event):

* :meth:`ReviewMixin.hold` -- the worker finishes a claimed message whose flow a guard held:
  the message goes to status ``held`` (no worker takes it; later messages of the record go on,
  and an older one released after a newer one landed ends ``skipped_stale``), a ``pending``
  review item keeps the reason, score, signal and the guard's input (what the reviewer sees and
  may edit), the timeline gets ``held``;
* :meth:`ReviewMixin.release_review` -- ``released`` (optionally with edits ``{path: value}``):
  the message is due again at once and its flow runs with the release, so the guard step that
  held it lets it through (edits applied to its input) and the flow continues from there;
  timeline ``released`` (who, which fields were edited -- never their values);
* :meth:`ReviewMixin.reject_review` -- ``rejected`` with a reason: the message ends in status
  ``rejected``, timeline ``rejected`` with the reason.

Deciding an item that is not ``pending`` changes nothing and returns ``None``: two reviewers
clicking at once cannot release and reject the same record. The statistics
(:meth:`guard_stats_load` / :meth:`guard_stats_save`) are one JSON document per scorer key.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from ulid import ULID

__all__ = ["REVIEW_STATUSES", "ReviewMixin"]

REVIEW_STATUSES = ("pending", "released", "rejected")
_json = msgspec.json.Encoder()
_dejson = msgspec.json.Decoder()
_COLS = ("id, message_id, entity, key, flow, step, status, reason, score, signal, snapshot, edit, created_at, "
         "decided_at, decided_by, decision")


def _row(r: Any) -> dict[str, Any]:
    out = dict(zip([c.strip() for c in _COLS.split(",")], r, strict=True))
    for k in ("snapshot", "edit"):
        out[k] = _dejson.decode(out[k]) if out[k] else None
    return out


class ReviewMixin:
    """Review-queue and guard-statistics methods of :class:`runtime.store.Store`."""

    backend: Any

    def _event(self, cur: Any, message_id: str, kind: str, attempt: int | None,
               detail: dict[str, Any] | None, at: float) -> None: ...  # provided by Store

    def hold(self, message_id: str, token: str, *, flow: str | None, detail: dict[str, Any]) -> str | None:
        """Finish a claimed message as ``held`` (see the module docstring). ``detail`` is the flow's
        held detail; its ``review`` entry (``input``, ``score``, ``signal``) goes to the review
        item only, the rest to the timeline. Returns the review id, or None when the claim was lost."""
        now = time.time()
        detail = dict(detail)
        review = detail.pop("review", None) or {}
        held_flow = detail.pop("held_flow", None) or flow  # a group's member that held it
        review_id = str(ULID())
        with self.backend.tx() as cur:
            cur.execute(
                "UPDATE messages SET status = 'held', lease_until = NULL, claim_token = NULL, flow = ?, "
                "updated_at = ? WHERE id = ? AND status = 'processing' AND claim_token = ?",
                (flow, now, message_id, token))
            if cur.rowcount != 1:
                return None
            cur.execute("SELECT entity, key, attempts FROM messages WHERE id = ?", (message_id,))
            entity, key, attempt = cur.fetchone()
            cur.execute(
                f"INSERT INTO review_items ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, NULL, ?, "
                "NULL, NULL, NULL)",
                (review_id, message_id, entity, key, held_flow, detail.get("step"), detail.get("reason"),
                 review.get("score"), review.get("signal"),
                 _json.encode(review.get("input")).decode() if review.get("input") is not None else None, now))
            self._event(cur, message_id, "held", attempt, {**detail, "review_id": review_id}, now)
        return review_id

    def list_reviews(self, status: str | None = "pending", entity: str | None = None,
                     limit: int = 100) -> list[dict[str, Any]]:
        """Review items, oldest first for ``pending`` (a queue), newest first otherwise."""
        where: list[str] = []
        params: list[Any] = []
        if status is not None:
            if status not in REVIEW_STATUSES:
                raise ValueError(f"Unknown review status '{status[:40]}'; use one of {', '.join(REVIEW_STATUSES)}.")
            where.append("status = ?")
            params.append(status)
        if entity:
            where.append("entity = ?")
            params.append(entity)
        sql = f"SELECT {_COLS} FROM review_items" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created_at" + ("" if status == "pending" else " DESC") + " LIMIT ?"
        params.append(int(limit))
        with self.backend.tx() as cur:
            cur.execute(sql, params)
            return [_row(r) for r in cur.fetchall()]

    def get_review(self, review_id: str) -> dict[str, Any] | None:
        with self.backend.tx() as cur:
            cur.execute(f"SELECT {_COLS} FROM review_items WHERE id = ?", (review_id,))
            r = cur.fetchone()
        return _row(r) if r else None

    def released_review(self, message_id: str) -> dict[str, Any] | None:
        """The latest released review of the message (its flow run passes that guard step), or None."""
        with self.backend.tx() as cur:
            cur.execute(f"SELECT {_COLS} FROM review_items WHERE message_id = ? AND status = 'released' "
                        "ORDER BY decided_at DESC LIMIT 1", (message_id,))
            r = cur.fetchone()
        return _row(r) if r else None

    def _decide(self, review_id: str, status: str, by: str | None, decision: str | None,
                edit: dict[str, Any] | None, message_status: str, event: str,
                event_detail: dict[str, Any]) -> dict[str, Any] | None:
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute("UPDATE review_items SET status = ?, decided_at = ?, decided_by = ?, decision = ?, edit = ? "
                        "WHERE id = ? AND status = 'pending'",
                        (status, now, by, decision, _json.encode(edit).decode() if edit else None, review_id))
            if cur.rowcount != 1:
                return None
            cur.execute(f"SELECT {_COLS} FROM review_items WHERE id = ?", (review_id,))
            item = _row(cur.fetchone())
            if message_status == "new":
                cur.execute("UPDATE messages SET status = 'new', next_attempt_at = ?, updated_at = ? "
                            "WHERE id = ? AND status = 'held'", (now, now, item["message_id"]))
            else:
                cur.execute("UPDATE messages SET status = ?, updated_at = ? WHERE id = ? AND status = 'held'",
                            (message_status, now, item["message_id"]))
            self._event(cur, item["message_id"], event, None, {"review_id": review_id, **event_detail}, now)
        return item

    def release_review(self, review_id: str, *, edit: dict[str, Any] | None = None,
                       by: str | None = None) -> dict[str, Any] | None:
        """Release a pending item (see the module docstring); returns it, or None if not pending."""
        if edit is not None and (not isinstance(edit, dict) or not all(isinstance(k, str) and k for k in edit)):
            raise ValueError("'edit' must be an object of field paths to new values.")
        detail: dict[str, Any] = {"by": by} if by else {}
        if edit:
            detail["edited"] = sorted(edit)
        return self._decide(review_id, "released", by, None, edit or None, "new", "released", detail)

    def reject_review(self, review_id: str, reason: str, *, by: str | None = None) -> dict[str, Any] | None:
        """Reject a pending item with ``reason``: its message ends ``rejected``; None if not pending."""
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("A rejection needs a reason (a sentence saying why).")
        detail: dict[str, Any] = {"reason": reason.strip()[:500], **({"by": by} if by else {})}
        return self._decide(review_id, "rejected", by, reason.strip()[:500], None, "rejected", "rejected", detail)

    # ------------------------------------------------------------ guard statistics
    def guard_stats_load(self, keys: list[str]) -> dict[str, Any]:
        """The stored statistics of ``keys`` (absent keys are left out)."""
        if not keys:
            return {}
        with self.backend.tx() as cur:
            cur.execute(f"SELECT key, state FROM guard_stats WHERE key IN ({', '.join('?' * len(keys))})", list(keys))
            return {k: _dejson.decode(v) for k, v in cur.fetchall()}

    def guard_stats_save(self, states: dict[str, Any]) -> None:
        """Write (insert or replace) each key's statistics."""
        now = time.time()
        with self.backend.tx() as cur:
            for k, v in states.items():
                cur.execute("INSERT INTO guard_stats (key, state, updated_at) VALUES (?, ?, ?) "
                            "ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                            (k, _json.encode(v).decode(), now))
