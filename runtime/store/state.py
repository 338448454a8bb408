"""Per-record and per-run state kept beside the journal.

* cross-references: PrestaShop id <-> AX id per entity (both directions unique);
* sync state: the newest source version applied per record, and hashes of what was last written
  to each side (echo suppression, "skip unchanged" in bulk runs);
* the conflict log: field values that lost when a record changed on both sides (field ownership);
* poll cursors, bulk-run checkpoints, deployed flow versions (the latest deployment of a flow is
  the one that runs), alerts;
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


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _later_than(cur: Any, name: str) -> float:
    """Now, or just after the flow's latest deployment when the clock has not moved past it (two
    deploys in one clock tick must still order)."""
    cur.execute("SELECT COALESCE(MAX(deployed_at), 0) FROM flow_versions WHERE name = ?", (name,))
    latest = float(cur.fetchone()[0])
    now = time.time()
    return now if now > latest else latest + 1e-6


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
        for attempt in range(3):
            try:
                with self.backend.tx() as cur:
                    cur.execute("DELETE FROM xrefs WHERE entity = ? AND ax_id = ? AND ps_id <> ?", (entity, ax_id, ps_id))
                    cur.execute(
                        "INSERT INTO xrefs (entity, ps_id, ax_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT "
                        "(entity, ps_id) DO UPDATE SET ax_id = excluded.ax_id, updated_at = excluded.updated_at",
                        (entity, ps_id, ax_id, time.time()),
                    )
                return
            except Exception as exc:
                # PostgreSQL: two processes pairing the same AX id at once (an order's customer and
                # the customer flow) both found nothing to delete, and the second insert meets the
                # first's row on the AX-id index. Run again: the delete now sees it, the last wins.
                if attempt == 2 or getattr(exc, "sqlstate", None) != "23505":
                    raise

    def get_xref(self, entity: str, *, ps_id: str | None = None, ax_id: str | None = None) -> dict[str, Any] | None:
        """Look a pairing up by either side's id."""
        if (ps_id is None) == (ax_id is None):
            raise ValueError("Give exactly one of ps_id or ax_id.")
        col, val = ("ps_id", ps_id) if ps_id is not None else ("ax_id", ax_id)
        with self.backend.read() as cur:
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
        with self.backend.read() as cur:
            cur.execute(sql, params)
            return [{"entity": r[0], "ps_id": r[1], "ax_id": r[2], "updated_at": r[3]} for r in cur.fetchall()]

    # --------------------------------------------------------------- sync state
    def get_sync_state(self, entity: str, key: str) -> dict[str, Any] | None:
        """The record's state: ``source_version`` applied, ``ps_hash``/``ax_hash`` (what the bridge
        last wrote to each side) and ``ps_hash_at``/``ax_hash_at`` (when), ``updated_at``."""
        with self.backend.read() as cur:
            cur.execute("SELECT source_version, ps_hash, ax_hash, updated_at, ps_hash_at, ax_hash_at FROM sync_state "
                        "WHERE entity = ? AND key = ?", (entity, key))
            r = cur.fetchone()
        if not r:
            return None
        return {"source_version": r[0], "ps_hash": r[1], "ax_hash": r[2], "updated_at": r[3],
                "ps_hash_at": r[4], "ax_hash_at": r[5]}

    def put_sync_state(self, entity: str, key: str, *, source_version: str | None = None,
                       ps_hash: str | None = None, ax_hash: str | None = None, written: bool = True) -> bool:
        """Write per-record state unless it would move the source version backwards.

        Returns False (and writes nothing) when ``source_version`` is older than the stored one:
        an older update never lands after a newer one. Hashes left ``None`` keep their value (and
        their time); a hash given is stamped with the time the bridge wrote that content
        (``written``), or, for content the side itself reported (``written=False``), its time is
        cleared: ``*_hash_at`` is set only while the hash is of the bridge's own write.
        """
        now = time.time()
        ps_at = (now if written else None) if ps_hash is not None else None
        ax_at = (now if written else None) if ax_hash is not None else None
        with self.backend.tx() as cur:
            cur.execute("SELECT source_version FROM sync_state WHERE entity = ? AND key = ?" + self.backend.for_update,
                        (entity, key))
            r = cur.fetchone()
            if r is None:
                cur.execute("INSERT INTO sync_state (entity, key, source_version, ps_hash, ax_hash, updated_at, "
                            "ps_hash_at, ax_hash_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (entity, key, source_version, ps_hash, ax_hash, now, ps_at, ax_at))
                return True
            if source_version is not None and not version_newer_or_equal(source_version, r[0]):
                return False
            cur.execute(
                "UPDATE sync_state SET source_version = COALESCE(?, source_version), ps_hash = COALESCE(?, ps_hash), "
                "ax_hash = COALESCE(?, ax_hash), "
                "ps_hash_at = CASE WHEN ? = 1 THEN ? ELSE ps_hash_at END, "
                "ax_hash_at = CASE WHEN ? = 1 THEN ? ELSE ax_hash_at END, updated_at = ? WHERE entity = ? AND key = ?",
                (source_version, ps_hash, ax_hash, int(ps_hash is not None), ps_at, int(ax_hash is not None), ax_at,
                 now, entity, key),
            )
        return True

    # --------------------------------------------------------------- conflict log
    def add_conflicts(self, entries: list[dict[str, Any]]) -> int:
        """Log field conflicts (a record changed on both sides since the last sync). Each entry:
        ``entity``, ``key``, ``field``, ``winner`` (prestashop|ax), ``rule`` (a sentence), and
        optionally ``flow``, ``message_id``, ``ps_value``/``ax_value`` (any JSON value) and
        ``ps_version``/``ax_version``. Returns how many were logged."""
        now = time.time()
        with self.backend.tx() as cur:
            for e in entries:
                cur.execute(
                    "INSERT INTO conflicts (at, entity, key, flow, message_id, field, winner, rule, ps_value, "
                    "ax_value, ps_version, ax_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (now, e["entity"], str(e["key"]), e.get("flow"), e.get("message_id"), e["field"], e["winner"],
                     e["rule"], _json.encode(e.get("ps_value")).decode(), _json.encode(e.get("ax_value")).decode(),
                     _opt_str(e.get("ps_version")), _opt_str(e.get("ax_version"))))
        return len(entries)

    def list_conflicts(self, entity: str | None = None, key: str | None = None,
                       limit: int = 100) -> list[dict[str, Any]]:
        """Logged conflicts, newest first, optionally of one entity / record key."""
        sql = ("SELECT seq, at, entity, key, flow, message_id, field, winner, rule, ps_value, ax_value, "
               "ps_version, ax_version FROM conflicts")
        where: list[str] = []
        params: list[Any] = []
        for col, val in (("entity", entity), ("key", key)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(int(limit))
        with self.backend.read() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        return [{"id": r[0], "at": r[1], "entity": r[2], "key": r[3], "flow": r[4], "message_id": r[5],
                 "field": r[6], "winner": r[7], "rule": r[8],
                 "ps_value": _dejson.decode(r[9]) if r[9] is not None else None,
                 "ax_value": _dejson.decode(r[10]) if r[10] is not None else None,
                 "ps_version": r[11], "ax_version": r[12]} for r in rows]

    # --------------------------------------------------------------- poll cursors
    def get_cursor(self, name: str) -> Any:
        with self.backend.read() as cur:
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
        with self.backend.read() as cur:
            cur.execute("SELECT chunk, state FROM bulk_checkpoints WHERE run_id = ?", (run_id,))
            return {r[0]: _dejson.decode(r[1]) for r in cur.fetchall()}

    # --------------------------------------------------------------- flow versions
    def record_flow_version(self, name: str, version: str, content: str) -> bool:
        """Record ``version`` of flow ``name`` as the one deployed now; False (nothing written)
        when it is already the deployed one. Deploying again a version recorded earlier (a
        roll-back) makes it the deployed one again (its time moves to now)."""
        with self.backend.tx() as cur:
            cur.execute("SELECT version FROM flow_versions WHERE name = ? ORDER BY deployed_at DESC LIMIT 1"
                        + self.backend.for_update, (name,))
            latest = cur.fetchone()
            if latest is not None and latest[0] == version:
                return False
            cur.execute("INSERT INTO flow_versions (name, version, content, deployed_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (name, version) DO UPDATE SET deployed_at = excluded.deployed_at, "
                        "content = excluded.content", (name, version, content, _later_than(cur, name)))
            return True

    def record_flow_version_if_none(self, name: str, version: str, content: str) -> bool:
        """Record ``version`` as deployed only when flow ``name`` has no deployed version at all
        (a flow run before anyone deployed it); True when it was recorded. Safe under races."""
        with self.backend.tx() as cur:
            cur.execute("INSERT INTO flow_versions (name, version, content, deployed_at) SELECT ?, ?, ?, ? "
                        "WHERE NOT EXISTS (SELECT 1 FROM flow_versions WHERE name = ?) "
                        "ON CONFLICT (name, version) DO NOTHING", (name, version, content, time.time(), name))
            return cur.rowcount == 1

    def flow_versions(self, name: str) -> list[dict[str, Any]]:
        """The versions of flow ``name`` ever deployed, the one deployed now first."""
        with self.backend.read() as cur:
            cur.execute("SELECT version, deployed_at FROM flow_versions WHERE name = ? ORDER BY deployed_at DESC",
                        (name,))
            return [{"version": r[0], "deployed_at": r[1]} for r in cur.fetchall()]

    def deployed_flows(self) -> dict[str, dict[str, Any]]:
        """The version deployed now of every flow: ``{name: {"version", "content", "deployed_at"}}``."""
        with self.backend.read() as cur:
            cur.execute("SELECT f.name, f.version, f.content, f.deployed_at FROM flow_versions f WHERE f.deployed_at = "
                        "(SELECT MAX(g.deployed_at) FROM flow_versions g WHERE g.name = f.name)")
            return {r[0]: {"version": r[1], "content": r[2], "deployed_at": r[3]} for r in cur.fetchall()}

    def flow_versions_stamp(self) -> tuple[int, float]:
        """A cheap fingerprint of the deployments (how many, the latest time): it changes with
        every deploy, so a process can tell whether to reload :meth:`deployed_flows`."""
        with self.backend.read() as cur:
            cur.execute("SELECT COUNT(*), COALESCE(MAX(deployed_at), 0) FROM flow_versions")
            r = cur.fetchone()
        return int(r[0]), float(r[1])

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
        with self.backend.read() as cur:
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
        with self.backend.read() as cur:
            cur.execute("SELECT name, holder, info, acquired_at, renewed_at, expires_at FROM leases WHERE name = ?",
                        (name,))
            r = cur.fetchone()
        return Lease(*r) if r else None
