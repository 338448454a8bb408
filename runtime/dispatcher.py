"""The dispatcher: finds due messages in the journal and nudges their entity actors.

Due means: new messages whose ingest nudge did not lead to a claim within the grace period,
retries whose backoff expired, and claims whose lease expired because a worker crashed. This
loop is what makes recovery automatic after any restart: nothing is remembered in memory that
the journal does not also hold. A nudge is fire-and-forget; a lost nudge is repeated next tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from opentelemetry.trace import SpanKind

from runtime.store import AsyncStore
from runtime.tracing import context_from_traceparent, get_tracer, inject_carrier

__all__ = ["Dispatcher"]

log = logging.getLogger("presta_ax.dispatcher")

Nudge = Callable[[str, str, dict[str, str]], Any]


class Dispatcher:
    """``nudge(entity, key, carrier)`` is called for every due record once per tick."""

    def __init__(self, store: AsyncStore, nudge: Nudge, *, interval_s: float = 1.0, batch: int = 500) -> None:
        self.store = store
        self.nudge = nudge
        self.interval_s = interval_s
        self.batch = batch
        self.ticks = 0
        self._stop = asyncio.Event()

    async def tick(self) -> int:
        """One pass; returns the number of records nudged."""
        due = await self.store.due(self.batch)
        tracer = get_tracer()
        for entity, key, traceparent in due:
            with tracer.start_as_current_span("dispatch", context=context_from_traceparent(traceparent),
                                              kind=SpanKind.PRODUCER) as span:
                span.set_attribute("entity", entity)
                span.set_attribute("record.key", key)
                try:
                    self.nudge(entity, key, inject_carrier())
                except Exception as exc:  # noqa: BLE001 - one bad actor must not stop the loop
                    log.warning("could not nudge %s actor: %s", entity, type(exc).__name__)
        self.ticks += 1
        return len(due)

    async def run(self) -> None:
        """Tick until :meth:`stop`; a failing tick (store briefly down) is logged and retried."""
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # noqa: BLE001
                log.warning("dispatcher tick failed: %s", exc)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval_s)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stop.set()
