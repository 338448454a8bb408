"""One dispatcher per journal: the dispatcher's lease in the store.

Two bridges on one journal (a second ``presta-ax serve`` on the same data folder or PostgreSQL
store, a bridge on a cluster and another on a laptop) would both nudge, both poll AX and both
claim messages. The claims are safe (each is a lease of its own) but the doubled work and the
doubled polls are not what anyone wants, and a user who started a second bridge by mistake must
hear about it. So:

* at start-up, :func:`take_dispatcher_lease` takes the lease ``dispatcher`` for this bridge or
  raises :class:`BridgeConflict` naming the bridge that holds it; a holder that stopped renewing
  (it crashed) is waited out, which takes at most :data:`LEASE_TTL_S`;
* the dispatcher renews it through a :class:`LeaseKeeper` every ``ttl/3`` seconds; a dispatcher
  that finds the lease taken by another (it stalled past the expiry, or the store was unreachable
  that long) turns **passive** — it nudges and polls nothing — and takes the lease back when it
  is free again;
* a bridge that stops releases it, so a restart does not wait.

Holder ids are opaque and unique per start (:func:`bridge_identity`); the restarted dispatcher
actor gets the same id from its constructor arguments, so it renews its own lease at once.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from runtime.store import Lease, Store

__all__ = ["BridgeConflict", "DISPATCHER_LEASE", "LEASE_TTL_S", "LeaseKeeper", "bridge_identity",
           "is_live", "refuse_if_held", "take_dispatcher_lease"]

log = logging.getLogger("presta_ax.dispatcher")

DISPATCHER_LEASE = "dispatcher"
#: a dead holder blocks a new bridge at most this long; a live one renews every third of it
LEASE_TTL_S = 15.0


class BridgeConflict(RuntimeError):
    """Another bridge dispatches from this journal; the message says which and what to do."""


def bridge_identity(namespace: str) -> tuple[str, str]:
    """``(holder id, info)`` for a bridge starting now in this process; ``info`` tells a user
    which bridge it is (host, pid, Ray namespace, start time), never a secret."""
    host = socket.gethostname()
    holder = f"{host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    info = (f"the bridge started on {host} by pid {os.getpid()} at {time.strftime('%H:%M:%S')}, "
            f"Ray namespace '{namespace}'")
    return holder, info


def _conflict(lease: Lease, now: float) -> BridgeConflict:
    return BridgeConflict(
        f"Another bridge already dispatches from this journal ({lease.info}; lease renewed "
        f"{max(0.0, now - lease.renewed_at):.0f} s ago): stop it first, or give this bridge its own "
        "store (store.url or data_dir).")


def is_live(lease: Lease, now: float | None = None, ttl_s: float = LEASE_TTL_S) -> bool:
    """Whether the lease's holder still runs: it renews every ``ttl_s / 3``, so one that missed
    more than one renewal (a crash, a closed terminal) is taken for gone."""
    now = time.time() if now is None else now
    return now - lease.renewed_at < ttl_s / 2 and lease.expires_at > now


def refuse_if_held(store: Store, *, ttl_s: float = LEASE_TTL_S) -> None:
    """Raise :class:`BridgeConflict` when a live bridge holds the lease: the quick check a CLI
    makes before it starts Ray. Only :func:`take_dispatcher_lease` decides."""
    lease = store.get_lease(DISPATCHER_LEASE)
    if lease is not None and is_live(lease, ttl_s=ttl_s):
        raise _conflict(lease, time.time())


def take_dispatcher_lease(store: Store, holder: str, info: str, *, ttl_s: float = LEASE_TTL_S,
                          sleep: Callable[[float], Any] = time.sleep) -> None:
    """Take the dispatcher lease for ``holder`` before anything starts, or raise
    :class:`BridgeConflict`. A lease not renewed for ``ttl_s / 2`` (a live holder renews every
    ``ttl_s / 3``) belongs to a bridge that is gone: wait for it to expire, then take it."""
    while True:
        ok, lease = store.acquire_lease(DISPATCHER_LEASE, holder, ttl_s, info)
        if ok:
            return
        now = time.time()
        if is_live(lease, now, ttl_s):
            raise _conflict(lease, now)
        sleep(max(0.05, lease.expires_at - now + 0.05))


class LeaseKeeper:
    """Keeps the dispatcher lease for ``holder`` from the dispatcher's loop.

    :meth:`keep` is called before every tick and answers whether this dispatcher may work now;
    it writes to the store only every ``ttl_s / 3`` while held (and once per tick while passive).
    ``store`` is an :class:`runtime.store.AsyncStore` (or anything with the same coroutines).
    """

    def __init__(self, store: Any, holder: str, info: str, *, ttl_s: float = LEASE_TTL_S) -> None:
        self.store = store
        self.holder = holder
        self.info = info
        self.ttl_s = ttl_s
        self.held = False
        self._renewed = 0.0  # monotonic time of the last successful renewal

    async def keep(self) -> bool:
        now = time.monotonic()
        if self.held and now - self._renewed < self.ttl_s / 3:
            return True
        try:
            ok, lease = await self.store.acquire_lease(DISPATCHER_LEASE, self.holder, self.ttl_s, self.info)
        except Exception as exc:  # noqa: BLE001 - the store is briefly down: decide on what we know
            # still ours while it cannot have expired (a margin for clocks and the write itself)
            ok = self.held and now - self._renewed < self.ttl_s * 0.8
            if not ok and self.held:
                log.warning("dispatcher lease not renewed (%s): passive until the store answers",
                            type(exc).__name__)
            self.held = ok
            return ok
        if ok:
            self._renewed = now
            if not self.held:
                log.info("dispatcher lease taken")
        elif self.held or not self._renewed:
            log.warning("dispatcher passive: %s holds this journal's dispatcher lease", lease.info)
            self._renewed = -1.0  # logged once per loss
        self.held = ok
        return ok

    async def release(self) -> None:
        """Give the lease up (stop); harmless when not held."""
        self.held = False
        await self.store.release_lease(DISPATCHER_LEASE, self.holder)
