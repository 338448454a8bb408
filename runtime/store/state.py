"""Per-record and per-run state kept beside the journal.

* cross-references: PrestaShop id <-> AX id per entity (both directions unique);
* sync state: the newest source version applied per record, and hashes of what was last written
  to each side (echo suppression, "skip unchanged" in bulk runs);
* poll cursors, bulk-run checkpoints, deployed flow versions, alerts;
* leases: a role (the dispatcher) that one holder at a time plays on this store (:class:`Lease`).

Mixed into :class:`runtime.store.Store`; every method is one short transaction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import msgspec

from runtime.store.backends import Backend
from runtime.store.versions import version_newer_or_equal

__all__ = ["Lease", "StateMixin"]

_json = msgspec.json.Encoder()
_dejson = msgspec.json.Decoder()


@dataclass(frozen=True)
class Lease:
    """Who holds the lease ``name``: ``holder`` (an opaque id), ``info`` (what to tell a user about
    it), and when it was taken, last renewed and expires (epoch seconds, the holders' clocks)."""

    name: str
    holder: str
    info: str
    acquired_at: float
    renewed_at: float
    expires_at: float


class StateMixin:
    backend: Backend

    # --------------------------------------------------------------- cross-references
    def put_xref(self, entity: str, ps_id: str, ax_id: str) -> None:
        """Record that ``ps_id`` and ``ax_id`` are the same record; replaces older pairings of either."""
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute("DELETE FROM xrefs WHERE entity = ? AND ax_id = ? AND ps_id <> ?", (entity, ax_id, ps_id))
            cur.execute(
                "INSERT INTO xrefs (entity, ps_id, ax_id, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (entity, ps_id) DO UPDATE SET ax_id = excluded.ax_id, updated_at = excluded.updated_at",
                (entity, ps_id, ax_id, now),
            )

    def get_xref(self, entity: str, *, ps_id: str | None = None, ax_id: str | None = None) -> dict[str, Any] | None:
        """Look a pairing up by either side's id."""
        if (ps_id is None) == (ax_id is None):
            raise ValueError("Give exactly one of ps_id or ax_id.")
        col, val = ("ps_id", ps_id) if ps_id is not None else ("ax_id", ax_id)
        with self.backend.tx() as cur:
            cur.execute(f"SELECT entity, ps_id, ax_id, updated_at FROM xrefs WHERE entity = ? AND {col} = ?",
                        (entity, val))
            r = cur.fetchone()
        return {"entity": r[0], "ps_id": r[1], "ax_id": r[2], "updated_at": r[3]} if r else None

    def list_xrefs(self, entity: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        sql = "SELECT entity, ps_id, ax_id, updated_at FROM xrefs"
        params: list[Any] = []
        if entity:
            sql += " WHERE entity = ?"
            params.append(entity)
        sql += " ORDER BY updated_at DESC LIMIT ?"
        params.append(int(limit))
        with self.backend.tx() as cur:
            cur.execute(sql, params)
            return [{"entity": r[0], "ps_id": r[1], "ax_id": r[2], "updated_at": r[3]} for r in cur.fetchall()]

    # --------------------------------------------------------------- sync state
    def get_sync_state(self, entity: str, key: str) -> dict[str, Any] | None:
        with self.backend.tx() as cur:
            cur.execute("SELECT source_version, ps_hash, ax_hash, updated_at FROM sync_state "
                        "WHERE entity = ? AND key = ?", (entity, key))
            r = cur.fetchone()
        return {"source_version": r[0], "ps_hash": r[1], "ax_hash": r[2], "updated_at": r[3]} if r else None

    def put_sync_state(self, entity: str, key: str, *, source_version: str | None = None,
                       ps_hash: str | None = None, ax_hash: str | None = None) -> bool:
        """Write per-record state unless it would move the source version backwards.

        Returns False (and writes nothing) when ``source_version`` is older than the stored one:
        an older update never lands after a newer one. Hashes left ``None`` keep their value.
        """
        now = time.time()
        with self.backend.tx() as cur:
            cur.execute("SELECT source_version FROM sync_state WHERE entity = ? AND key = ?" + self.backend.for_update,
                        (entity, key))
            r = cur.fetchone()
            if r is None:
                cur.execute("INSERT INTO sync_state (entity, key, source_version, ps_hash, ax_hash, updated_at) "
                            "VALUES (?, ?, ?, ?, ?, ?)", (entity, key, source_version, ps_hash, ax_hash, now))
                return True
            if source_version is not None and not version_newer_or_equal(source_version, r[0]):
                return False
            cur.execute(
                "UPDATE sync_state SET source_version = COALESCE(?, source_version), ps_hash = COALESCE(?, ps_hash), "
                "ax_hash = COALESCE(?, ax_hash), updated_at = ? WHERE entity = ? AND key = ?",
                (source_version, ps_hash, ax_hash, now, entity, key),
            )
        return True

    # --------------------------------------------------------------- poll cursors
    def get_cursor(self, name: str) -> Any:
        with self.backend.tx() as cur:
            cur.execute("SELECT state FROM poll_cursors WHERE name = ?", (name,))
            r = cur.fetchone()
        return _dejson.decode(r[0]) if r else None

    def put_cursor(self, name: str, state: Any) -> None:
        with self.backend.tx() as cur:
            cur.execute("INSERT INTO poll_cursors (name, state, updated_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                        (name, _json.encode(state).decode(), time.time()))

    # --------------------------------------------------------------- bulk checkpoints
    def put_checkpoint(self, run_id: str, chunk: str, state: Any) -> None:
        with self.backend.tx() as cur:
            cur.execute("INSERT INTO bulk_checkpoints (run_id, chunk, state, updated_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (run_id, chunk) DO UPDATE SET state = excluded.state, "
                        "updated_at = excluded.updated_at",
                        (run_id, chunk, _json.encode(state).decode(), time.time()))

    def get_checkpoints(self, run_id: str) -> dict[str, Any]:
        with self.backend.tx() as cur:
            cur.execute("SELECT chunk, state FROM bulk_checkpoints WHERE run_id = ?", (run_id,))
            return {r[0]: _dejson.decode(r[1]) for r in cur.fetchall()}

    # --------------------------------------------------------------- flow versions
    def record_flow_version(self, name: str, version: str, content: str) -> bool:
        """Record a deployed flow version; False if that exact version was already recorded."""
        with self.backend.tx() as cur:
            cur.execute("INSERT INTO flow_versions (name, version, content, deployed_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (name, version) DO NOTHING RETURNING name", (name, version, content, time.time()))
            return cur.fetchone() is not None

    def flow_versions(self, name: str) -> list[dict[str, Any]]:
        with self.backend.tx() as cur:
            cur.execute("SELECT version, deployed_at FROM flow_versions WHERE name = ? ORDER BY deployed_at DESC",
                        (name,))
            return [{"version": r[0], "deployed_at": r[1]} for r in cur.fetchall()]

    # --------------------------------------------------------------- alerts
    def add_alert(self, severity: str, source: str, message: str) -> None:
        with self.backend.tx() as cur:
            cur.execute("INSERT INTO alerts (at, severity, source, message) VALUES (?, ?, ?, ?)",
                        (time.time(), severity, source, message))

    def list_alerts(self, include_acknowledged: bool = False, limit: int = 100) -> list[dict[str, Any]]:
        sql = "SELECT seq, at, severity, source, message, acknowledged FROM alerts"
        if not include_acknowledged:
            sql += " WHERE acknowledged = 0"
        sql += " ORDER BY seq DESC LIMIT ?"
        with self.backend.tx() as cur:
            cur.execute(sql, (int(limit),))
            return [{"id": r[0], "at": r[1], "severity": r[2], "source": r[3], "message": r[4],
                     "acknowledged": bool(r[5])} for r in cur.fetchall()]

    # --------------------------------------------------------------- leases
    def acquire_lease(self, name: str, holder: str, ttl_s: float, info: str = "",
                      *, now: float | None = None) -> tuple[bool, Lease]:
        """Take or renew the lease ``name`` for ``holder`` until ``now + ttl_s``.

        Succeeds when nobody holds it, when ``holder`` already does (a renewal; ``acquired_at``
        stays), or when the other holder's lease has expired. Returns ``(acquired, lease)`` where
        ``lease`` is the lease in force afterwards (the other holder's when not acquired). One
        statement decides, so two processes racing for a free lease never both get it.
        Expiry compares the callers' clocks: hosts sharing a store must agree within ``ttl_s``.
        """
        t = time.time() if now is None else now
        with self.backend.tx() as cur:
            cur.execute(
                "INSERT INTO leases (name, holder, info, acquired_at, renewed_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
                "ELSE excluded.acquired_at END, holder = excluded.holder, info = excluded.info, "
                "renewed_at = excluded.renewed_at, expires_at = excluded.expires_at "
                "WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.renewed_at",
                (name, holder, info, t, t, t + ttl_s))
            cur.execute("SELECT name, holder, info, acquired_at, renewed_at, expires_at FROM leases WHERE name = ?",
                        (name,))
            lease = Lease(*cur.fetchone())
        return lease.holder == holder, lease

    def release_lease(self, name: str, holder: str) -> bool:
        """Give the lease up if ``holder`` holds it; True if it did (idempotent)."""
        with self.backend.tx() as cur:
            cur.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))
            return cur.rowcount > 0

    def get_lease(self, name: str) -> Lease | None:
        """The lease ``name`` as stored (possibly expired), or None."""
        with self.backend.tx() as cur:
            cur.execute("SELECT name, holder, info, acquired_at, renewed_at, expires_at FROM leases WHERE name = ?",
                        (name,))
            r = cur.fetchone()
        return Lease(*r) if r else None
