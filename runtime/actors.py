"""Ray adapters: the entity actors and the dispatcher actor, thin wrappers of plain classes.

Both are **detached** and **named** in the configured namespace, created with ``get_if_exists``
(race-safe: the Serve replica and the dispatcher may both create the same actor) and restarted
forever (``max_restarts=-1``). In-flight calls are not retried (``max_task_retries=0``): the
journal holds the work and the dispatcher re-nudges after a restart, so a retried call would only
duplicate a nudge. They ask for no CPU: they wait on I/O, and a 2-core node must still schedule
Serve replicas and bulk tasks.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import ray

from runtime.alerts import Alerter
from runtime.config import ENTITIES
from runtime.dispatcher import Dispatcher
from runtime.flows import FlowRegistry
from runtime.nudges import NudgeBatcher
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.tracing import context_from_traceparent, get_tracer, setup_tracing
from runtime.wire import from_wire

__all__ = ["EntityActor", "DispatcherActor", "entity_actor", "dispatcher_actor", "actor_name", "kill_all"]

log = logging.getLogger("presta_ax.actors")


def actor_name(entity: str) -> str:
    return f"entity:{entity}"


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class EntityActor:
    """One per entity type; ``nudge(key, carrier)`` processes that record's due messages."""

    def __init__(self, entity: str, wire: dict[str, Any]) -> None:
        from pipelines.operations import SystemOperations
        from runtime.breaker_actor import make_board
        from runtime.worker import EntityWorker
        from runtime.yaml_flows import DeployedFlows, systems_configured

        settings = from_wire(wire)
        setup_tracing(settings.tracing)
        self.store = AsyncStore(Store(settings.store_url()), max_workers=8)
        retry = settings.limits.retry
        registry = FlowRegistry.from_modules(settings.flows)
        # the targets' circuit breakers, shared with every process through the breaker actors
        breakers = make_board(settings, wire, settings.namespace)
        if systems_configured(settings):
            # the declarative flows run only where both systems are reachable (not in tests
            # of the runtime alone, which configure no systems); the deployed versions run, and
            # a new deploy is picked up before the next message (no restart, no Ray call)
            operations = SystemOperations.from_settings(settings, self.store)
            operations.breakers = breakers
            deployed = DeployedFlows(registry, settings, self.store, operations)
            deployed.load()
            registry.set_refresher(deployed.refresh)
        self.worker = EntityWorker(entity, self.store, registry,
                                   RetryPolicy(retry.base_s, retry.cap_s, retry.max_attempts),
                                   lease_s=settings.limits.lease_s,
                                   unhandled=settings.limits.unhandled_events,
                                   concurrency=settings.limits.entity_concurrency, breakers=breakers,
                                   alerter=Alerter(self.store, settings.alerting.webhook_url,
                                                   settings.alerting.min_severity))
        self._tasks: set[asyncio.Task[int]] = set()

    async def nudge(self, key: str, carrier: dict[str, str] | None = None) -> int:
        if self.worker.coalesce(key):
            return 0  # the record's running nudge claims again; no span for a no-op
        parent = context_from_traceparent((carrier or {}).get("traceparent"))
        with get_tracer().start_as_current_span("entity actor nudge", context=parent) as span:
            span.set_attribute("entity", self.worker.entity)
            span.set_attribute("record.key", key)
            return await self.worker.nudge(key)

    async def nudge_many(self, items: list[tuple[str, dict[str, str] | None]]) -> int:
        """Several nudges in one call (:class:`runtime.nudges.NudgeBatcher`): each record's
        work starts as a task of its own and the call returns at once; the journal holds the
        outcome. Returns how many were started."""
        for key, carrier in items:
            task = asyncio.get_running_loop().create_task(self.nudge(key, carrier))
            self._tasks.add(task)  # a strong reference until it ends
            task.add_done_callback(self._tasks.discard)
        return len(items)

    async def stats(self) -> dict[str, Any]:
        return {"entity": self.worker.entity, "processed": self.worker.processed}


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class DispatcherActor:
    """The singleton dispatcher. Its loop runs on a thread of its own, started by ``__init__``,
    so a restarted dispatcher resumes at once without anyone calling it.

    It works only while it holds the journal's dispatcher lease for ``holder`` (see
    :mod:`runtime.dispatch_lease`); the pollers beside it (AX and PrestaShop) run only then too."""

    def __init__(self, wire: dict[str, Any], holder: str, info: str) -> None:
        from runtime.dispatch_lease import LeaseKeeper
        from runtime.yaml_flows import systems_configured

        self.wire = wire
        settings = from_wire(wire)
        setup_tracing(settings.tracing)
        self.settings = settings
        self.store = AsyncStore(Store(settings.store_url()))
        self.handles: dict[str, Any] = {}
        self._polls = systems_configured(settings)
        self._poll_stop = asyncio.Event()
        self._pollers: list[asyncio.Task[None]] = []  # the running one, and any still finishing
        self.dispatcher = Dispatcher(self.store, NudgeBatcher(self._handle),
                                     interval_s=settings.limits.dispatch_interval_s,
                                     batch=settings.limits.dispatch_batch,
                                     lease=LeaseKeeper(self.store, holder, info), on_lease=self._on_lease)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),),
                                        name="dispatcher", daemon=True)
        self._thread.start()

    async def _main(self) -> None:
        """The dispatcher loop; the pollers are started and stopped beside it by :meth:`_on_lease`
        (they journal changed AX documents and shop records and wake the dispatcher, which nudges
        their actors at once)."""
        await self.dispatcher.run()
        self._poll_stop.set()
        await asyncio.gather(*self._pollers, return_exceptions=True)

    def _on_lease(self, held: bool) -> None:
        """Runs on the dispatcher's loop: poll AX and the shop while this dispatcher holds the
        lease, and only when both systems are configured."""
        if not self._polls:
            return
        self._pollers = [t for t in self._pollers if not t.done()]
        if held:
            self._poll_stop = asyncio.Event()
            self._pollers.append(asyncio.get_running_loop().create_task(self._poll(self._poll_stop)))
        else:
            self._poll_stop.set()

    async def _poll(self, stop: asyncio.Event) -> None:
        from runtime.pollers import run_pollers

        try:
            await run_pollers(self.settings, self.store, stop, on_new=self.dispatcher.wake)
        except Exception as exc:  # noqa: BLE001 - a broken flow folder must not stop the dispatcher
            log.error("the pollers stopped: %s", exc)

    def _handle(self, entity: str) -> Any:
        handle = self.handles.get(entity)
        if handle is None:
            handle = self.handles[entity] = entity_actor(entity, self.wire, self.settings.namespace)
        return handle

    def ticks(self) -> int:
        return self.dispatcher.ticks

    def active(self) -> bool:
        """Whether this dispatcher holds the lease and works (False: passive)."""
        return self.dispatcher.active

    def stop(self) -> bool:
        """Stop the loop and the poller and release the lease; True when the loop has ended."""
        self._loop.call_soon_threadsafe(self.dispatcher.stop)
        self._thread.join(timeout=10)
        return not self._thread.is_alive()


def entity_actor(entity: str, wire: dict[str, Any], namespace: str) -> Any:
    if entity not in ENTITIES:
        raise ValueError(f"Unknown entity '{entity}'.")
    return EntityActor.options(  # type: ignore[attr-defined]
        name=actor_name(entity), namespace=namespace, lifetime="detached", get_if_exists=True,
        resources=_placed(wire),
    ).remote(entity, wire)


def dispatcher_actor(wire: dict[str, Any], namespace: str, holder: str, info: str) -> Any:
    """The namespace's dispatcher (created if missing) working for the lease holder ``holder``."""
    return DispatcherActor.options(  # type: ignore[attr-defined]
        name="dispatcher", namespace=namespace, lifetime="detached", get_if_exists=True,
        resources=_placed(wire),
    ).remote(wire, holder, info)


def _placed(wire: dict[str, Any]) -> dict[str, float]:
    """The custom resource the actors ask for (``placement.actor_resource``), or none."""
    name = (wire.get("placement") or {}).get("actor_resource")
    return {name: 1} if name else {}


def kill_all(namespace: str) -> None:
    """Kill the bridge's detached actors in ``namespace`` (tests, local shutdown)."""
    from runtime.breaker import SYSTEMS
    from runtime.breaker_actor import breaker_name

    for name in ["dispatcher", *(actor_name(e) for e in ENTITIES), *(breaker_name(s) for s in SYSTEMS)]:
        try:
            ray.kill(ray.get_actor(name, namespace=namespace), no_restart=True)
        except ValueError:
            pass
