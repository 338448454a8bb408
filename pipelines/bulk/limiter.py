"""One adaptive concurrency budget per target system, shared by every bulk task on every node.

:class:`AdaptiveLimit` is the policy (plain asyncio, testable without Ray); :class:`LimiterActor`
hosts one per target system as a named Ray actor so that all chunk tasks of a run, wherever
they run, draw permits from the same budget; :class:`Permits` is what a task holds: ``async
with permits.slot(): ...write...`` and the outcome is reported back (:mod:`.gate` does this
for every write request of the shop).

Policy (additive increase, multiplicative decrease, like TCP congestion control):

* it starts at ``start`` permits and never grants more than ``max_limit`` at once;
* each successful write whose latency stays within ``flat_factor`` x the best latency seen
  (the baseline) adds ``1 / limit`` (one permit per full window of good writes); a write that
  is slower than that holds the limit where it is (the target is queueing: more would only
  add latency);
* an overload (429, 503, a timeout) halves the limit (at least 1) and remembers the level that
  overloaded the target: growth stays below it for the rest of the run (the "learned ceiling"),
  so after the first halving the run stays at or under the target's cap. Overloads reported by
  writes that were already in flight at the halving do not halve again;
* ``Retry-After`` stops granting until that time has passed;
* a permit not given back within ``lease_s`` (its task died with its worker or node) is taken
  back, so a lost task cannot shrink the budget for good.

Everything is per run: a new run probes again from ``start``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["AdaptiveLimit", "LimiterActor", "Permits", "limiter_name"]


class AdaptiveLimit:
    """The policy of the module docstring. Not thread-safe: use it from one event loop."""

    def __init__(self, max_limit: int, *, start: int = 2, flat_factor: float = 1.5, lease_s: float = 60.0) -> None:
        if max_limit < 1:
            raise ValueError("The concurrency maximum must be at least 1.")
        self.max_limit = max_limit
        self.limit = float(min(max(start, 1), max_limit))
        self.flat_factor = flat_factor
        self.ceiling = float(max_limit)
        self.in_use = 0
        self.baseline: float | None = None
        self.blocked_until = 0.0
        self.epoch = 0  # bumped at each halving: overloads of older grants do not halve again
        self.peak_in_use = 0
        self.peak_after_halving = 0
        self.halvings = 0
        self.granted = 0
        self.reclaimed = 0
        self.lease_s = lease_s
        self._leases: dict[int, float] = {}  # grant id -> when it is taken back
        self._cond = asyncio.Condition()

    def _can_grant(self) -> bool:
        now = time.monotonic()
        for grant, until in list(self._leases.items()):
            if until < now:  # its holder is gone: take it back
                del self._leases[grant]
                self.in_use = max(0, self.in_use - 1)
                self.reclaimed += 1
        return self.in_use < int(self.limit) and now >= self.blocked_until

    async def acquire(self) -> tuple[int, int]:
        """Wait for a permit; returns ``(epoch, grant)`` (give both back to :meth:`release`)."""
        async with self._cond:
            while not self._can_grant():
                wait = self.blocked_until - time.monotonic()
                try:
                    await asyncio.wait_for(self._cond.wait(), timeout=min(wait, 1.0) if wait > 0 else 1.0)
                except TimeoutError:
                    pass
            self.in_use += 1
            self.granted += 1
            self._leases[self.granted] = time.monotonic() + self.lease_s
            self.peak_in_use = max(self.peak_in_use, self.in_use)
            if self.halvings:
                self.peak_after_halving = max(self.peak_after_halving, self.in_use)
            return self.epoch, self.granted

    async def release(self, grant: tuple[int, int], latency_s: float, outcome: str = "ok",
                      retry_after_s: float | None = None) -> None:
        """Give a permit back with what happened: ``ok``, ``overload`` (429/503/timeout) or
        ``error`` (any other failure: no change to the limit). A permit already taken back
        (its lease ran out) changes nothing but the limit."""
        epoch, grant_id = grant
        async with self._cond:
            if self._leases.pop(grant_id, None) is not None:
                self.in_use = max(0, self.in_use - 1)
            if outcome == "overload":
                if epoch == self.epoch:
                    self.ceiling = max(1.0, min(self.ceiling, float(int(self.limit) - 1)))
                    self.limit = max(1.0, self.limit / 2)
                    self.epoch += 1
                    self.halvings += 1
                if retry_after_s:
                    self.blocked_until = max(self.blocked_until, time.monotonic() + retry_after_s)
            elif outcome == "ok":
                if self.baseline is None or latency_s < self.baseline:
                    self.baseline = latency_s
                if latency_s <= self.flat_factor * self.baseline + 0.002:
                    self.limit = min(self.limit + 1 / self.limit, self.ceiling, float(self.max_limit))
            self._cond.notify_all()

    def stats(self) -> dict[str, Any]:
        return {"limit": round(self.limit, 2), "in_use": self.in_use, "max": self.max_limit,
                "ceiling": round(self.ceiling, 2), "halvings": self.halvings, "granted": self.granted, "reclaimed": self.reclaimed,
                "peak_in_use": self.peak_in_use, "peak_after_halving": self.peak_after_halving,
                "baseline_ms": None if self.baseline is None else round(self.baseline * 1000, 1)}


class LimiterActor:
    """Ray actor class (wrapped with ``ray.remote`` by :func:`Permits.create`) around one
    :class:`AdaptiveLimit`; async, so many tasks can wait on it at once."""

    def __init__(self, max_limit: int, start: int = 2, lease_s: float = 60.0) -> None:
        self.limit = AdaptiveLimit(max_limit, start=start, lease_s=lease_s)

    async def acquire(self) -> tuple[int, int]:
        return await self.limit.acquire()

    async def release(self, grant: tuple[int, int], latency_s: float, outcome: str = "ok",
                      retry_after_s: float | None = None) -> None:
        await self.limit.release(grant, latency_s, outcome, retry_after_s)

    def stats(self) -> dict[str, Any]:
        return self.limit.stats()


def limiter_name(run_id: str, system: str) -> str:
    return f"bulk-limiter:{run_id}:{system}"


class Permits:
    """A task's handle on the shared budget of one target system (picklable: it carries the
    limiter actor's handle to every task, on any node)."""

    def __init__(self, actor: Any, name: str) -> None:
        self._actor = actor
        self.name = name

    @classmethod
    def create(cls, name: str, max_limit: int, *, start: int = 2, lease_s: float = 60.0) -> Permits:
        """Start the limiter actor. It belongs to the caller (the driver) and ends with it: a
        rerun starts with a fresh budget."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote = ray.remote(num_cpus=0, max_concurrency=1000)(LimiterActor)  # type: ignore[call-overload]
        # on the driver's node: losing another node must not take the run's budget with it
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        actor = remote.options(name=name, scheduling_strategy=here).remote(max_limit, start, lease_s)  # type: ignore[attr-defined]
        return cls(actor, name)

    def actor(self) -> Any:
        return self._actor

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[dict[str, Any]]:
        """Hold one permit around a write. Set ``outcome`` (``overload``/``error``) and
        ``retry_after`` in the yielded dict on failure (:mod:`pipelines.bulk.gate` does it)."""
        actor = self.actor()
        grant = await actor.acquire.remote()
        report: dict[str, Any] = {"outcome": "ok", "retry_after": None}
        started = time.monotonic()
        try:
            yield report
        except BaseException:
            if report["outcome"] == "ok":
                report["outcome"] = "error"
            raise
        finally:
            await actor.release.remote(grant, time.monotonic() - started, report["outcome"], report["retry_after"])

    def stats(self) -> dict[str, Any]:
        import ray

        return ray.get(self.actor().stats.remote())  # type: ignore[no-any-return]
