"""The dispatcher: finds due messages in the journal and nudges their entity actors.

Due means: new messages whose ingest nudge did not lead to a claim within the grace period,
retries whose backoff expired, and claims whose lease expired because a worker crashed. This
loop is what makes recovery automatic after any restart: nothing is remembered in memory that
the journal does not also hold. A nudge is fire-and-forget; a lost nudge is repeated.

A record that stays due after its nudge (its actor has every slot busy under a backlog, or the
nudge was lost) is nudged again after 1, 2, 4 … ticks, at most ``renudge_max_s`` apart, not at
every tick: at a backlog of hundreds of records, nudging each of them every tick (and at every
wake by a poller) cost more CPU than the orders themselves. A record forgets its back-off as
soon as it is not due any more (claimed, finished), so a retry whose backoff expired or a new
message is nudged at the first tick that finds it due.

With a :class:`runtime.dispatch_lease.LeaseKeeper`, the loop works only while it holds the
journal's dispatcher lease (one dispatcher per journal), tells ``on_lease`` when that changes, and
releases the lease when it stops.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.trace import SpanKind

from runtime.store import AsyncStore
from runtime.tracing import context_from_traceparent, get_tracer, inject_carrier

__all__ = ["Dispatcher"]

log = logging.getLogger("presta_ax.dispatcher")

Nudge = Callable[[str, str, dict[str, str]], Any]


class Dispatcher:
    """``nudge(entity, key, carrier)`` is called for every due record once per tick.

    ``lease`` (optional): a :class:`runtime.dispatch_lease.LeaseKeeper`; ticks run only while it
    holds the lease, and ``on_lease(held)`` is called whenever that changes (the AX poller
    beside the dispatcher follows it).
    """

    def __init__(self, store: AsyncStore, nudge: Nudge, *, interval_s: float = 1.0, batch: int = 500,
                 lease: Any = None, on_lease: Callable[[bool], None] | None = None,
                 renudge_max_s: float = 8.0) -> None:
        self.store = store
        self.nudge = nudge
        self.interval_s = interval_s
        self.renudge_max_s = max(renudge_max_s, interval_s)
        #: (entity, key) -> (monotonic time before which it is not nudged again, nudges so far)
        self._nudged: dict[tuple[str, str], tuple[float, int]] = {}
        self.batch = batch
        self.ticks = 0
        self.lease = lease
        self.on_lease = on_lease
        #: whether the last pass held the lease (always True without a lease keeper)
        self.active = lease is None
        self._stop = asyncio.Event()
        #: set by :meth:`wake` (or :meth:`stop`): the next tick runs now instead of after the interval
        self._wake = asyncio.Event()

    async def tick(self) -> int:
        """One pass; returns the number of records nudged (due ones still in their re-nudge
        back-off are not counted)."""
        due = await self.store.due(self.batch)
        tracer = get_tracer()
        now = time.monotonic()
        nudged: dict[tuple[str, str], tuple[float, int]] = {}
        sent = 0
        for entity, key, traceparent in due:
            before = self._nudged.get((entity, key))
            if before is not None and now < before[0]:
                nudged[(entity, key)] = before
                continue
            count = 0 if before is None else before[1] + 1
            nudged[(entity, key)] = (now + min(self.interval_s * 2 ** min(count, 16), self.renudge_max_s), count)
            sent += 1
            with tracer.start_as_current_span("dispatch", context=context_from_traceparent(traceparent),
                                              kind=SpanKind.PRODUCER) as span:
                span.set_attribute("entity", entity)
                span.set_attribute("record.key", key)
                try:
                    self.nudge(entity, key, inject_carrier())
                except Exception as exc:  # noqa: BLE001 - one bad actor must not stop the loop
                    log.warning("could not nudge %s actor: %s", entity, type(exc).__name__)
        self._nudged = nudged  # records no longer due forget their back-off
        self.ticks += 1
        return sent

    async def _may_work(self) -> bool:
        if self.lease is None:
            return True
        held = bool(await self.lease.keep())
        if held != self.active:
            self.active = held
            if self.on_lease is not None:
                self.on_lease(held)
        return held

    async def run(self) -> None:
        """Tick until :meth:`stop`; a failing tick (store briefly down) is logged and retried.
        A passive pass (lease held elsewhere) counts as a tick too: the loop is alive."""
        try:
            while not self._stop.is_set():
                try:
                    if await self._may_work():
                        await self.tick()
                    else:
                        self.ticks += 1
                except Exception as exc:  # noqa: BLE001
                    log.warning("dispatcher tick failed: %s", exc)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.interval_s)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            if self.lease is not None:
                if self.active and self.on_lease is not None:
                    self.on_lease(False)
                self.active = False
                try:
                    await self.lease.release()
                except Exception as exc:  # noqa: BLE001 - it expires by itself
                    log.warning("could not release the dispatcher lease: %s", type(exc).__name__)

    def wake(self) -> None:
        """Tick now (on the dispatcher's loop): a poller journaled messages that are due at once,
        and waiting for the next interval would add up to ``interval_s`` to each of them."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
