"""One process's view of the circuit breakers: cheap checks on the call path, the state elsewhere.

The state of each target's breaker lives in one place (a :class:`Backend`: the detached breaker
actor of :mod:`runtime.breaker_actor`, or an in-process :class:`LocalBackend` outside Ray); a
:class:`BreakerBoard` keeps a snapshot of each, refreshed in the background once it is older
than ``ttl_s``. Contract:

* :meth:`BreakerBoard.before` (``async``) is called before a system call. While the snapshot says
  ``closed`` it returns at once without any remote call (the order path's cost is a dict lookup
  and a clock read). While ``open`` before its next probe time it raises
  :class:`runtime.breaker.CircuitOpenError` at once. Otherwise it asks the backend, which hands
  the one half-open probe to exactly one caller in the whole cluster;
* :meth:`BreakerBoard.after` (``async``) reports the call's outcome. A success while the view
  shows a clean closed breaker is not reported (nothing to change); failures that count, probes
  and successes after failures are, and the backend's answer refreshes the view at once;
* :meth:`BreakerBoard.blocked` (sync, from the snapshot only) tells the worker, before a flow
  runs, whether a system the flow calls is open: the message then waits without a call;
* a backend that cannot be reached (the breaker actor restarting) never blocks work: the view
  keeps its last snapshot and calls go through (fail open), counted as the actor sees them.

Waiting messages are spread: one refused while ``open`` is due at the next probe time plus a
jitter of up to ``spread_s``; one refused while a probe runs, as long as the probe has run so far
(at least 2 s, at most the cool-down): a quick probe's answer comes soon (a full cool-down
would delay the drain after a recovery), a hanging one does not make every waiting message
come back every 2 s.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from runtime.breaker import CircuitBreaker, CircuitOpenError, counts_as_failure, failure_info

__all__ = ["Backend", "BreakerBoard", "LocalBackend", "Ticket"]

log = logging.getLogger("presta_ax.breaker")

#: ``(system, probe id or None)``: what :meth:`BreakerBoard.before` hands to :meth:`BreakerBoard.after`
Ticket = tuple[str, int | None]
_Snapshot = dict[str, Any]


class Backend(Protocol):
    """Where one breaker's state lives; every method returns the breaker's snapshot."""

    async def acquire(self) -> tuple[str, int | None, _Snapshot | None]: ...

    async def record(self, ok: bool | None, probe_id: int | None,
                     failure: dict[str, Any] | None) -> _Snapshot | None: ...

    async def snapshot(self) -> _Snapshot | None: ...


class LocalBackend:
    """A breaker held in this process (unit tests, a CLI run without Ray)."""

    def __init__(self, breaker: CircuitBreaker, on_transition: Callable[[str, _Snapshot], Any] | None = None) -> None:
        self.breaker = breaker
        self.on_transition = on_transition

    async def acquire(self) -> tuple[str, int | None, _Snapshot | None]:
        decision, probe = self.breaker.acquire()
        return decision, probe, self.breaker.snapshot()

    async def record(self, ok: bool | None, probe_id: int | None,
                     failure: dict[str, Any] | None) -> _Snapshot | None:
        change = self.breaker.record(ok, probe_id, failure)
        snap = self.breaker.snapshot()
        if change and self.on_transition is not None:
            self.on_transition(change, snap)
        return snap

    async def snapshot(self) -> _Snapshot | None:
        return self.breaker.snapshot()


class _View:
    __slots__ = ("backend", "snap", "fetched_at", "refreshing")

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.snap: _Snapshot | None = None
        self.fetched_at = float("-inf")
        self.refreshing: asyncio.Task[None] | None = None


class BreakerBoard:
    """The breakers of the configured targets as seen from this process (module docstring)."""

    def __init__(self, backends: Mapping[str, Backend], *, ttl_s: float = 0.5, spread_s: float = 5.0,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None) -> None:
        self._views = {system: _View(backend) for system, backend in backends.items()}
        self.ttl_s = ttl_s
        self.spread_s = spread_s
        self.clock = clock
        self.rng = rng or random.Random()

    @property
    def systems(self) -> tuple[str, ...]:
        return tuple(self._views)

    def snapshot(self, system: str) -> _Snapshot | None:
        """The last known state of ``system``'s breaker (``None``: not known yet, or no breaker)."""
        view = self._views.get(system)
        return view.snap if view is not None else None

    # ------------------------------------------------------------------ the call path

    async def before(self, system: str) -> Ticket:
        """May this process call ``system`` now? A ticket for :meth:`after`, or
        :class:`CircuitOpenError` with the time to try again."""
        view = self._views.get(system)
        if view is None:
            return system, None
        now = self.clock()
        if now - view.fetched_at > self.ttl_s:
            self._refresh_soon(view)
        snap = view.snap
        if snap is None or snap["state"] == "closed":
            return system, None
        if snap["state"] == "open" and snap.get("next_probe_at") and now < snap["next_probe_at"]:
            raise CircuitOpenError(system, self._wait_until(snap, now), snap)
        decision, probe, fresh = await view.backend.acquire()
        self._update(view, fresh)
        if decision == "wait":
            raise CircuitOpenError(system, self._wait_until(fresh or snap, self.clock()), fresh or snap)
        return system, probe

    async def after(self, ticket: Ticket, exc: BaseException | None = None) -> None:
        """Report the outcome of the call ``ticket`` was given for (``exc``: its error, if any).

        A failure is charged to the system the error names when that has a breaker (an AX
        operation may read the shop too); the ticket's probe is then inconclusive."""
        system, probe = ticket
        failed = counts_as_failure(exc)
        if failed:
            named = getattr(exc, "system", None)
            if named != system and named in self._views:
                await self._report(self._views[named], False, None, failure_info(exc))  # type: ignore[arg-type]
                if probe is not None:
                    await self._report(self._views[system], None, probe, None)
                return
        view = self._views.get(system)
        if view is None:
            return
        if not failed and probe is None:
            snap = view.snap
            if snap is None or (snap["state"] == "closed" and not snap["failures"]):
                return  # the usual case: nothing to tell
        await self._report(view, not failed, probe, failure_info(exc) if failed and exc is not None else None)

    def blocked(self, systems: Iterable[str]) -> CircuitOpenError | None:
        """From the snapshots only: the error to wait on when one of ``systems`` is open and not
        yet due for its probe; ``None`` when the flow may run."""
        now = self.clock()
        for system in systems:
            view = self._views.get(system)
            if view is None:
                continue
            if now - view.fetched_at > self.ttl_s:
                self._refresh_soon(view)
            snap = view.snap
            if snap is not None and snap["state"] == "open" and snap.get("next_probe_at") \
                    and now < snap["next_probe_at"]:
                return CircuitOpenError(system, self._wait_until(snap, now), snap)
        return None

    # ------------------------------------------------------------------ internals

    def _wait_until(self, snap: _Snapshot, now: float) -> float:
        cooldown = float(snap.get("cooldown_s") or 30.0)
        spread = self.rng.uniform(0.0, min(self.spread_s, cooldown / 4))
        if snap.get("state") == "open" and snap.get("next_probe_at"):
            return max(now, float(snap["next_probe_at"])) + spread
        started = snap.get("probe_started_at")
        running = now - float(started) if isinstance(started, (int, float)) else 0.0
        return now + min(cooldown, max(2.0, running)) + spread

    async def _report(self, view: _View, ok: bool | None, probe: int | None,
                      failure: dict[str, Any] | None) -> None:
        self._update(view, await view.backend.record(ok, probe, failure))

    def _update(self, view: _View, snap: _Snapshot | None) -> None:
        if snap is not None:
            view.snap = snap
            view.fetched_at = self.clock()

    def _refresh_soon(self, view: _View) -> None:
        if view.refreshing is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        view.fetched_at = self.clock()  # one refresh per ttl, also when the backend is down
        view.refreshing = loop.create_task(self._refresh(view))

    async def _refresh(self, view: _View) -> None:
        try:
            self._update(view, await view.backend.snapshot())
        except Exception as exc:  # noqa: BLE001 - a view is never worth failing a caller
            log.debug("breaker refresh failed (%s)", type(exc).__name__)
        finally:
            view.refreshing = None
