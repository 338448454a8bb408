"""Where the circuit breakers live on Ray: one small detached actor per target system.

Why an actor: the entity actors are separate processes (one per entity type, restarted at any
time), and the breaker must be one per target for all of them: the order actor and the customer
actor opening the same dead AX separately would double the calls during an outage, and the
health route (a Serve replica) must show one state. The actor ``breaker:<system>`` (named in the
bridge's namespace, ``get_if_exists``, restarted forever, no CPU) holds a
:class:`runtime.breaker.CircuitBreaker`; on each transition it sets the ``presta_ax_circuit_open``
gauge (:func:`runtime.metrics.circuit_state`) and raises an alert (:func:`runtime.alerts.circuit_alert`).

Callers never wait on it on the hot path: :func:`make_board` gives a
:class:`runtime.breaker_board.BreakerBoard` whose snapshots are refreshed in the background. A
call to the actor that fails or takes longer than ``timeout_s`` counts as "no answer": the board
keeps its snapshot and lets calls through (a restarting breaker must not stop the bridge). A
restarted breaker actor starts closed: the next run of failures opens it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import ray

from runtime.alerts import Alerter, circuit_alert
from runtime.breaker import SYSTEMS, BreakerPolicy, CircuitBreaker
from runtime.breaker_board import BreakerBoard, LocalBackend
from runtime.metrics import circuit_state
from runtime.store import AsyncStore, Store
from runtime.wire import from_wire

__all__ = ["BreakerActor", "breaker_actor", "breaker_health", "breaker_name", "make_board", "policy_for"]

log = logging.getLogger("presta_ax.breaker")


def breaker_name(system: str) -> str:
    return f"breaker:{system}"


def policy_for(settings: Any, system: str) -> BreakerPolicy:
    """The breaker policy of ``system``: ``breakers`` defaults with its ``breakers.systems`` override."""
    conf = settings.breakers
    override = conf.systems.get(system)
    chosen = {name: getattr(conf, name) for name in ("failure_threshold", "cooldown_s", "probe_timeout_s")}
    if override is not None:
        chosen.update({k: v for k, v in override.model_dump().items() if v is not None})
    return BreakerPolicy(**chosen)


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class BreakerActor:
    """One target's breaker; see the module docstring. Every method returns the snapshot. All
    methods are ``async`` and run on the actor's one event loop without an ``await`` between
    reading and changing the state, so the state machine needs no lock."""

    def __init__(self, system: str, wire: dict[str, Any]) -> None:
        settings = from_wire(wire)
        self.breaker = CircuitBreaker(system, policy_for(settings, system))
        self._store: AsyncStore | None = None  # opened at the first alert
        self._store_url = settings.store_url()
        self._alerting = settings.alerting
        self._tasks: set[asyncio.Task[None]] = set()
        circuit_state(system, False)

    async def acquire(self) -> tuple[str, int | None, dict[str, Any]]:
        decision, probe = self.breaker.acquire()
        return decision, probe, self.breaker.snapshot()

    async def record(self, ok: bool | None, probe_id: int | None = None,
                     failure: dict[str, Any] | None = None) -> dict[str, Any]:
        opened_at = self.breaker.opened_at
        change = self.breaker.record(ok, probe_id, failure)
        snap = self.breaker.snapshot()
        if change is not None:
            circuit_state(self.breaker.system, change != "closed")
            log.warning("circuit breaker %s %s", self.breaker.system, change)
            task = asyncio.get_running_loop().create_task(self._alert(change, snap, opened_at))
            self._tasks.add(task)  # the caller does not wait for the store write
            task.add_done_callback(self._tasks.discard)
        return snap

    async def snapshot(self) -> dict[str, Any]:
        return self.breaker.snapshot()

    async def _alert(self, change: str, snap: dict[str, Any], opened_at: float | None) -> None:
        found = circuit_alert(change, snap, opened_at)
        if found is None:
            return
        try:
            if self._store is None:
                self._store = AsyncStore(Store(self._store_url), max_workers=1)
            alerter = Alerter(self._store, self._alerting.webhook_url, self._alerting.min_severity)
            await alerter.alert(found[0], self.breaker.system, found[1])
        except Exception as exc:  # noqa: BLE001 - an alert that cannot be stored must not break the breaker
            log.error("circuit alert not stored (%s)", type(exc).__name__)


def breaker_actor(system: str, wire: dict[str, Any], namespace: str) -> Any:
    """The namespace's breaker actor of ``system`` (created if missing)."""
    return BreakerActor.options(  # type: ignore[attr-defined]
        name=breaker_name(system), namespace=namespace, lifetime="detached", get_if_exists=True,
    ).remote(system, wire)


class _ActorBackend:
    """:class:`runtime.breaker_board.Backend` on a breaker actor; no answer within ``timeout_s``
    (or an error) is ``None``, and ``acquire`` then lets the call through."""

    def __init__(self, handle: Any, timeout_s: float = 2.0) -> None:
        self.handle = handle
        self.timeout_s = timeout_s
        self._warned_at = 0.0

    async def _ask(self, ref: Any) -> Any:
        try:
            return await asyncio.wait_for(ref, self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - RayActorError, timeout...: fail open
            if time.monotonic() - self._warned_at > 60:
                self._warned_at = time.monotonic()
                log.warning("the circuit breaker actor did not answer (%s); calls go through meanwhile",
                            type(exc).__name__)
            return None

    async def acquire(self) -> tuple[str, int | None, dict[str, Any] | None]:
        found = await self._ask(self.handle.acquire.remote())
        return tuple(found) if found is not None else ("call", None, None)  # type: ignore[return-value]

    async def record(self, ok: bool | None, probe_id: int | None,
                     failure: dict[str, Any] | None) -> dict[str, Any] | None:
        return await self._ask(self.handle.record.remote(ok, probe_id, failure))  # type: ignore[no-any-return]

    async def snapshot(self) -> dict[str, Any] | None:
        return await self._ask(self.handle.snapshot.remote())  # type: ignore[no-any-return]


def make_board(settings: Any, wire: dict[str, Any] | None = None, namespace: str | None = None) -> BreakerBoard | None:
    """This process's board for the configured targets (``None`` when ``breakers.enabled`` is
    off or no target is configured). With ``wire`` and ``namespace`` (inside Ray) the state lives
    in the shared breaker actors; without, in this process (:class:`LocalBackend`)."""
    conf = settings.breakers
    if not conf.enabled:
        return None
    systems = [s for s in SYSTEMS if getattr(settings.systems, s, None) is not None]
    if not systems:
        return None
    backends: dict[str, Any] = {}
    for system in systems:
        if wire is not None and namespace is not None:
            backends[system] = _ActorBackend(breaker_actor(system, wire, namespace))
        else:
            backends[system] = LocalBackend(CircuitBreaker(system, policy_for(settings, system)))
    return BreakerBoard(backends, ttl_s=conf.state_ttl_s, spread_s=conf.spread_s)


_handles: dict[tuple[str, str], Any] = {}


async def breaker_health(namespace: str | None) -> dict[str, Any]:
    """Per target: ``state``, ``failures``, ``opened_at``, ``next_probe_at`` (and the rest of the
    snapshot) from the breaker actors of ``namespace``; a target whose actor does not exist (not
    called yet) or does not answer within 2 s shows as ``closed`` / ``unknown``. Empty outside Ray."""
    if not namespace or not ray.is_initialized():
        return {}
    out: dict[str, Any] = {}
    for system in SYSTEMS:
        handle: Any = _handles.get((namespace, system))
        if handle is None:
            try:  # a lookup in the GCS: off the event loop
                handle = await asyncio.to_thread(ray.get_actor, breaker_name(system), namespace)
            except ValueError:
                out[system] = {"system": system, "state": "closed", "failures": 0, "opened_at": None,
                               "next_probe_at": None}
                continue
            _handles[(namespace, system)] = handle
        try:
            out[system] = await asyncio.wait_for(handle.snapshot.remote(), 2.0)
        except Exception:  # noqa: BLE001 - health must answer even when a breaker does not
            _handles.pop((namespace, system), None)
            out[system] = {"system": system, "state": "unknown", "failures": None, "opened_at": None,
                           "next_probe_at": None}
    return out
