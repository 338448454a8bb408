"""The store a bulk sync uses: :class:`runtime.store.Store` plus batch reads, the dead-letter
entry of a failed record, and the run records (table ``bulk_runs``, migration 6).

It implements :class:`pipelines.bulk.store.BulkStore`; :func:`open_bulk_store` is what the
runtime hands the driver (as ``functools.partial(open_bulk_store, url)``), and every task's
worker opens it once.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import msgspec

from runtime.messages import Message, new_message_id
from runtime.store.journal import Store

__all__ = ["BulkRunStore", "get_run", "list_runs", "open_bulk_store"]

_json = msgspec.json.Encoder()
_dejson = msgspec.json.Decoder()
#: rows per IN (...) list: well under SQLite's and PostgreSQL's parameter limits
_BATCH = 500


class BulkRunStore(Store):
    """See the module docstring; every method is one short transaction."""

    def xrefs_by_ax(self, entity: str, ax_ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        with self.backend.read() as cur:
            for i in range(0, len(ax_ids), _BATCH):
                part = ax_ids[i:i + _BATCH]
                cur.execute(f"SELECT ax_id, ps_id FROM xrefs WHERE entity = ? AND ax_id IN ({','.join('?' * len(part))})",
                            (entity, *part))
                out.update({str(r[0]): str(r[1]) for r in cur.fetchall()})
        return out

    def sync_states(self, entity: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        with self.backend.read() as cur:
            for i in range(0, len(keys), _BATCH):
                part = keys[i:i + _BATCH]
                cur.execute("SELECT key, source_version, ps_hash, ax_hash, ps_hash_at, ax_hash_at FROM sync_state "
                            f"WHERE entity = ? AND key IN ({','.join('?' * len(part))})", (entity, *part))
                for r in cur.fetchall():
                    out[str(r[0])] = {"source_version": r[1], "ps_hash": r[2], "ax_hash": r[3], "ps_hash_at": r[4],
                                      "ax_hash_at": r[5]}
        return out

    def dead_letter(self, *, entity: str, key: str, source: str, event: str, flow: str,
                    error: dict[str, Any], payload: dict[str, Any]) -> str:
        """A failed record as a dead message: ``presta-ax dlq`` lists it, a replay runs the
        record's real-time flow (which reads it from AX afresh). One message per record and
        run: failing again (a rerun) keeps the message and records the latest reason."""
        digest = hashlib.sha1(_json.encode([entity, key, event, payload])).hexdigest()[:24]
        msg = Message(id=new_message_id(), entity=entity, key=key, source=source, event=event, payload=payload,
                      idempotency_key=f"bulk:{digest}", next_attempt_at=time.time() + 10 * 365 * 86400)
        message_id, created = self.append(msg)
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute("UPDATE messages SET status = 'dead', last_error = ?, flow = ?, next_attempt_at = NULL, "
                        "updated_at = ? WHERE id = ? AND status IN ('new', 'dead')",
                        (_json.encode(error).decode(), flow, now, message_id))
            if created:
                self._event(cur, message_id, "dead", 0, {"reason": error.get("message")}, now)
        return message_id

    # --------------------------------------------------------------- run records
    def save_run(self, run: dict[str, Any]) -> None:
        with self.backend.tx() as cur:
            cur.execute("INSERT INTO bulk_runs (run_id, kind, signature, status, record, started_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET status = excluded.status, "
                        "record = excluded.record, updated_at = excluded.updated_at",
                        (run["run_id"], run["kind"], run.get("signature", ""), run["status"],
                         _json.encode(run).decode(), run.get("started_at", time.time()), time.time()))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        return get_run(self, run_id)

    def open_run(self, kind: str, signature: str) -> dict[str, Any] | None:
        with self.backend.read() as cur:
            cur.execute("SELECT record FROM bulk_runs WHERE kind = ? AND signature = ? AND status <> 'done' "
                        "ORDER BY started_at DESC LIMIT 1", (kind, signature))
            r = cur.fetchone()
        return _dejson.decode(r[0]) if r else None

    def last_done_run(self, kind: str, signatures: list[str]) -> dict[str, Any] | None:
        if not signatures:
            return None
        with self.backend.read() as cur:
            cur.execute(f"SELECT record FROM bulk_runs WHERE kind = ? AND status = 'done' AND signature IN "
                        f"({','.join('?' * len(signatures))}) ORDER BY started_at DESC LIMIT 1", (kind, *signatures))
            r = cur.fetchone()
        return _dejson.decode(r[0]) if r else None

    def list_runs(self, limit: int = 20) -> list[dict[str, Any]]:
        return list_runs(self, limit)


def get_run(store: Store, run_id: str) -> dict[str, Any] | None:
    """The run record ``run_id`` of any :class:`Store` (the admin API's), or None."""
    with store.backend.read() as cur:
        cur.execute("SELECT record FROM bulk_runs WHERE run_id = ?", (run_id,))
        r = cur.fetchone()
    return _dejson.decode(r[0]) if r else None


def list_runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    """The latest run records of any :class:`Store`, newest first."""
    with store.backend.read() as cur:
        cur.execute("SELECT record FROM bulk_runs ORDER BY started_at DESC LIMIT ?", (int(limit),))
        return [_dejson.decode(r[0]) for r in cur.fetchall()]


def open_bulk_store(url: str) -> BulkRunStore:
    """Open (and migrate) the store at ``url`` for a bulk run."""
    return BulkRunStore(url)
