"""The runtime's side of the guard step: history from the store, releases, held details.

* :class:`StoreHistory` is the :class:`pipelines.ai.guard.flow.GuardHistory` the flows get:
  the anomaly scorer's per-key statistics in the store's ``guard_stats`` table;
* :func:`guard_context` builds the flow context's ``guard`` entry for one message of one flow:
  the history, and how to find the reviewer's release when this flow's guard held this message
  before (looked up only when a guard step is about to hold it again);
* :func:`held_detail` adds to a held flow's detail what the review queue keeps (the guard's
  input as the reviewer sees it, score, signal, the flow that held it);
* :func:`held_part` finds the held detail in a worker's result (a flow group nests it).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import Any

from pipelines.ai.guard.flow import GuardContext
from pipelines.steps import resolve_input

__all__ = ["StoreHistory", "guard_context", "held_detail", "held_part"]


class StoreHistory:
    """Guard statistics in the store; works with a :class:`runtime.store.Store` (run off the
    event loop in the default executor) or an :class:`runtime.store.AsyncStore`."""

    def __init__(self, store: Any) -> None:
        self.store = store

    async def _call(self, name: str, *args: Any) -> Any:
        sync = getattr(self.store, "sync", None)
        if sync is not None:  # AsyncStore: its own pool
            return await getattr(self.store, name)(*args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(getattr(self.store, name), *args))

    async def load(self, keys: list[str]) -> dict[str, Any]:
        return dict(await self._call("guard_stats_load", list(keys)))

    async def save(self, states: Mapping[str, Any]) -> None:
        await self._call("guard_stats_save", dict(states))


async def guard_context(store: Any, message: Any, flow: str) -> GuardContext:
    """The ``guard`` entry of ``flow``'s context for ``message`` (see the module docstring)."""
    if store is None:
        return GuardContext()
    history = StoreHistory(store)

    async def find_release() -> dict[str, Any] | None:
        item = await history._call("released_review", message.id)
        if item is None or item.get("flow") != flow:
            return None
        return {"step": item.get("step"), "edit": item.get("edit") or {}}

    return GuardContext(history=history, find_release=find_release)


def held_detail(outcome: Any, loaded: Any) -> dict[str, Any]:
    """What the review queue keeps of a held run of ``loaded`` (a LoadedFlow): ``{"held_flow",
    "review": {"input", "score", "signal"}}`` -- the guard step's input is what a reviewer judges
    and may edit."""
    verdict = outcome.verdict
    spec = next((s for s in loaded.spec.steps if s.id == outcome.failed_step), None)
    try:
        snapshot = resolve_input(outcome.state, spec.input) if spec is not None else None
    except Exception:  # noqa: BLE001 - a snapshot is a convenience, never a reason to fail
        snapshot = None
    return {"held_flow": loaded.name, "review": {"input": snapshot, "score": getattr(verdict, "score", None),
                                                 "signal": getattr(verdict, "signal", None)}}


def held_part(detail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The held flow's detail inside a worker result (top level, or one of a group's ``flows``)."""
    if not detail:
        return None
    if detail.get("status") == "held":
        return dict(detail)
    for sub in (detail.get("flows") or {}).values():
        if isinstance(sub, Mapping) and sub.get("status") == "held":
            return {**sub, "flow_version": detail.get("flow_version")}
    return None
