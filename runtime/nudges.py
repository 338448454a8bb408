"""Nudges to the entity actors, coalesced: one Ray call per entity and event-loop turn.

A nudge only says "look at this record in the journal" (see :mod:`runtime.worker`), so nudges can
be merged freely. The Serve replica nudges once per accepted webhook and the dispatcher once per
due record; each ``handle.nudge.remote()`` costs the caller a Ray task submission (a few hundred
microseconds of CPU). :class:`NudgeBatcher` collects the nudges made during one turn of the event
loop (the webhooks of one group commit finish in the same turn, as do a dispatcher tick's records)
and sends them as one ``nudge_many`` call per entity at the end of that turn, so no nudge waits
for a timer. A record named twice in one batch is nudged once.

A failed submission is logged and dropped: the message is in the journal and the dispatcher
nudges it after the grace period, as for any lost nudge.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["NudgeBatcher"]

log = logging.getLogger("presta_ax.nudges")

Item = tuple[str, dict[str, str]]


class NudgeBatcher:
    """``batcher(entity, key, carrier)``: queue a nudge (never blocks, never raises for a dead
    actor). ``handle_for(entity)`` returns the entity's actor handle (created on first use).

    Called from a running event loop, the nudge is sent at the end of the loop's current turn
    together with the others of that turn; called without one (a synchronous caller), at once.
    """

    def __init__(self, handle_for: Callable[[str], Any]) -> None:
        self.handle_for = handle_for
        self._pending: dict[str, dict[str, dict[str, str]]] = {}
        self._scheduled = False
        #: Ray calls made and nudges they carried (``/metrics``, tests)
        self.calls = 0
        self.nudges = 0

    def __call__(self, entity: str, key: str, carrier: dict[str, str]) -> None:
        self._pending.setdefault(entity, {}).setdefault(key, carrier)  # the first carrier wins
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Send what is queued: one ``nudge_many`` call per entity."""
        self._scheduled = False
        pending, self._pending = self._pending, {}
        for entity, items in pending.items():
            try:
                self.handle_for(entity).nudge_many.remote(list(items.items()))
            except Exception as exc:  # noqa: BLE001 - the dispatcher nudges again after the grace period
                log.warning("nudge of the %s actor failed (%s); the dispatcher will retry", entity, type(exc).__name__)
                continue
            self.calls += 1
            self.nudges += len(items)
