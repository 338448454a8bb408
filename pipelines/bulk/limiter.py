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
* a permit is leased for ``lease_s`` (a few seconds); its holder renews the lease while it holds
  the permit (:meth:`AdaptiveLimit.renew`, every few seconds, and with each write's report), so a
  permit not renewed in time (its task died with its worker or node) is taken back within about
  one lease, and a lost task cannot shrink the budget for long. The holder never starts a write
  on a permit whose lease it has not seen renewed recently (:mod:`.permit_pool`), so a permit is
  not counted free while its holder still writes unless that holder's process stood still for
  most of a lease.

Everything is per run: a new run probes again from ``start``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from pipelines.bulk.permit_pool import PermitPool

__all__ = ["AdaptiveLimit", "LimiterActor", "Permits", "limiter_name"]


class AdaptiveLimit:
    """The policy of the module docstring. Not thread-safe: use it from one event loop (its
    waiters are futures of that loop)."""

    def __init__(self, max_limit: int, *, start: int = 2, flat_factor: float = 1.5, lease_s: float = 10.0) -> None:
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
        self.outcomes = 0  # writes (calls) whose outcome was reported: the rate the target served
        self.held_s = 0.0  # their latencies summed, as their holders saw them (permit-seconds in calls)
        self.lease_s = lease_s
        self._leases: dict[int, float] = {}  # grant id -> when it is taken back
        self._width: dict[int, int] = {}  # grant id -> the most permits out during its current write
        self._waiters: collections.deque[asyncio.Future[tuple[int, int]]] = collections.deque()
        self._tickets: dict[str, asyncio.Future[tuple[int, int] | None]] = {}  # waiting acquires by ticket
        self._timer: asyncio.TimerHandle | None = None

    def _reclaim(self, now: float) -> None:
        for grant, until in list(self._leases.items()):
            if until < now:  # its holder is gone: take it back
                del self._leases[grant]
                self._width.pop(grant, None)
                self.in_use = max(0, self.in_use - 1)
                self.reclaimed += 1

    def _can_grant(self) -> bool:
        now = time.monotonic()
        self._reclaim(now)
        return self.in_use < int(self.limit) and now >= self.blocked_until

    def _grant(self) -> tuple[int, int]:
        self.in_use += 1
        self.granted += 1
        self._leases[self.granted] = time.monotonic() + self.lease_s
        for other in self._width:  # (at most a few dozen permits are out)
            self._width[other] = max(self._width[other], self.in_use)
        self._width[self.granted] = self.in_use
        self.peak_in_use = max(self.peak_in_use, self.in_use)
        if self.halvings:
            self.peak_after_halving = max(self.peak_after_halving, self.in_use)
        return self.epoch, self.granted

    def _pump(self) -> None:
        """Hand free permits to the oldest waiters, one each (FIFO: a release wakes exactly the
        waiter it serves, not every waiter; with a few dozen waiters and one release per write,
        waking all of them cost the limiter's loop more than the writes it paces). While waiters
        remain that cannot be served now, wake again when that can change by itself: the end of
        a ``Retry-After`` pause or of the earliest lease."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiters and self._can_grant():
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(self._grant())
        if self._waiters:
            now = time.monotonic()
            wake = [self.blocked_until] if self.blocked_until > now else []
            if self.in_use >= int(self.limit) and self._leases:
                wake.append(min(self._leases.values()))
            if wake:
                self._timer = asyncio.get_running_loop().call_later(max(0.0, min(wake) - now) + 0.001, self._pump)

    async def acquire(self, ticket: str | None = None) -> tuple[int, int] | None:
        """Wait for a permit (first come, first served); returns ``(epoch, grant)`` (give both
        back to :meth:`release`), or None when the ``ticket`` was withdrawn before a grant
        (:meth:`withdraw`)."""
        if not self._waiters and self._can_grant():
            return self._grant()
        waiter: asyncio.Future[tuple[int, int] | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)  # type: ignore[arg-type]
        if ticket is not None:
            self._tickets[ticket] = waiter
        self._pump()
        try:
            return await waiter
        except asyncio.CancelledError:
            # granted just as the caller gave up: the permit goes back at once, not at its lease's end
            granted = waiter.result() if waiter.done() and not waiter.cancelled() else None
            if granted is not None:
                self._give_back(granted[1])
                self._pump()
            raise
        finally:
            if ticket is not None:
                self._tickets.pop(ticket, None)

    def withdraw(self, tickets: list[str]) -> int:
        """The acquires of ``tickets`` that still wait end with None (no permit); those already
        granted are untouched (their holder gives the permit back). Returns how many ended.

        This, not ``ray.cancel``, is how a holder takes back its asks: cancelling an actor call
        can report it cancelled although it already ran, and a permit granted by a call whose
        answer was lost stays out until its lease ends (measured: most of 2,000 racing cancels
        lost their answer)."""
        ended = 0
        for ticket in tickets:
            waiter = self._tickets.pop(ticket, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
                ended += 1
        return ended

    def _give_back(self, grant_id: int) -> None:
        self._width.pop(grant_id, None)
        if self._leases.pop(grant_id, None) is not None:
            self.in_use = max(0, self.in_use - 1)

    async def release(self, grant: tuple[int, int], latency_s: float, outcome: str = "ok",
                      retry_after_s: float | None = None) -> None:
        """Give a permit back with what happened: ``ok``, ``overload`` (429/503/timeout),
        ``error`` (any other failure: no change to the limit) or ``returned`` (no write: its
        outcome was reported already). A permit already taken back
        (its lease ran out) changes nothing but the limit."""
        epoch, grant_id = grant
        width = self._width.get(grant_id, self.in_use)
        self._give_back(grant_id)
        self._account(epoch, latency_s, outcome, retry_after_s, width)
        self._pump()

    def _account(self, epoch: int, latency_s: float, outcome: str, retry_after_s: float | None,
                 width: int = 0) -> None:
        """What one write's outcome does to the limit (see the module docstring). ``width``: the
        most permits out while the write was on its way. The ceiling learned from an overload is
        below both the limit and that width: the limit may have grown on other writes' answers
        meanwhile, so the limit alone can overstate the level that overloaded the target."""
        if outcome != "returned":
            self.outcomes += 1
            self.held_s += latency_s
        if outcome == "overload":
            if epoch == self.epoch:
                level = min(int(self.limit), width) if width else int(self.limit)
                self.ceiling = max(1.0, min(self.ceiling, float(level - 1)))
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

    def renew(self, grant_ids: list[int]) -> list[int]:
        """Extend the leases of ``grant_ids`` (their holder is alive and holds them) by ``lease_s``
        from now; returns those already taken back (their holder must not use them any more)."""
        self._reclaim(time.monotonic())  # an expired lease is not revived by a late renewal
        until = time.monotonic() + self.lease_s
        lost = []
        for grant_id in grant_ids:
            if grant_id in self._leases:
                self._leases[grant_id] = until
            else:
                lost.append(grant_id)
        self._pump()  # leases of other holders may have run out just now
        return lost

    async def report(self, grant: tuple[int, int], latency_s: float, outcome: str = "ok") -> dict[str, Any]:
        """Account one write's outcome while its holder keeps the permit for its next write
        (:class:`~pipelines.bulk.permit_pool.PermitPool`): the lease is renewed. The answer says
        whether the holder must give the permit back when it is next free (``give_back``: the
        budget shrank below what is out, or a ``Retry-After`` pause is on), or whether it was
        already taken back (``lost``: its lease had run out), and the current epoch (a kept
        permit's overloads count from then on)."""
        return self._report(grant, latency_s, outcome)

    def _report(self, grant: tuple[int, int], latency_s: float, outcome: str) -> dict[str, Any]:
        epoch, grant_id = grant
        self._reclaim(time.monotonic())  # an expired lease is not revived by a late report
        lost = grant_id not in self._leases
        self._account(epoch, latency_s, outcome, None, self._width.get(grant_id, self.in_use))
        give_back = self.in_use > int(self.limit) or time.monotonic() < self.blocked_until
        if not lost:
            self._leases[grant_id] = time.monotonic() + self.lease_s
            if not give_back:  # kept: its next write starts now
                self._width[grant_id] = self.in_use
        self._pump()  # the limit may have grown
        return {"epoch": self.epoch, "give_back": give_back, "lost": lost}

    def report_many(self, reports: list[tuple[tuple[int, int], float, str]]) -> list[dict[str, Any]]:
        """:meth:`report` for each ``(grant, latency_s, outcome)``, in order (one call carries the
        outcomes a holder's writes had while its previous call was on its way)."""
        return [self._report(grant, latency_s, outcome) for grant, latency_s, outcome in reports]

    def stats(self) -> dict[str, Any]:
        return {"limit": round(self.limit, 2), "in_use": self.in_use, "max": self.max_limit,
                "ceiling": round(self.ceiling, 2), "halvings": self.halvings, "granted": self.granted, "reclaimed": self.reclaimed,
                "outcomes": self.outcomes, "held_s": round(self.held_s, 2),
                "peak_in_use": self.peak_in_use, "peak_after_halving": self.peak_after_halving,
                "baseline_ms": None if self.baseline is None else round(self.baseline * 1000, 1)}


class LimiterActor:
    """Ray actor class (wrapped with ``ray.remote`` by :meth:`Permits.create_many`) around one
    :class:`AdaptiveLimit` per budget (a run's target system and, in an ax-to-ps run, AX's
    reads): one actor per run, so a run starts one process for its budgets, not one each. Async,
    so many tasks can wait on it at once. Every method names the ``budget`` it is about."""

    def __init__(self, budgets: dict[str, tuple[int, int]], lease_s: float = 10.0) -> None:
        self.limits = {name: AdaptiveLimit(most, start=start, lease_s=lease_s) for name, (most, start) in budgets.items()}

    async def acquire(self, budget: str, ticket: str | None = None) -> tuple[int, int] | None:
        return await self.limits[budget].acquire(ticket)

    def withdraw(self, budget: str, tickets: list[str]) -> int:
        return self.limits[budget].withdraw(tickets)

    async def release(self, budget: str, grant: tuple[int, int], latency_s: float, outcome: str = "ok",
                      retry_after_s: float | None = None) -> None:
        await self.limits[budget].release(grant, latency_s, outcome, retry_after_s)

    async def report(self, budget: str, grant: tuple[int, int], latency_s: float,
                     outcome: str = "ok") -> dict[str, Any]:
        return await self.limits[budget].report(grant, latency_s, outcome)

    async def renew(self, budget: str, grant_ids: list[int]) -> list[int]:  # async: on the loop its timers belong to
        return self.limits[budget].renew(grant_ids)

    async def report_many(self, budget: str,
                          reports: list[tuple[tuple[int, int], float, str]]) -> list[dict[str, Any]]:
        return self.limits[budget].report_many(reports)

    def stats(self, budget: str) -> dict[str, Any]:
        return self.limits[budget].stats()


class _BudgetCall:
    """``actor.method`` with the budget filled in: ``.remote(*args)`` as on the actor handle."""

    def __init__(self, method: Any, budget: str) -> None:
        self.method = method
        self.budget = budget

    def remote(self, *args: Any) -> Any:
        return self.method.remote(self.budget, *args)


class BudgetHandle:
    """One budget of a :class:`LimiterActor`, used like a handle of a one-budget actor
    (``handle.acquire.remote(ticket)``); picklable, as it holds only the actor's handle and a name."""

    def __init__(self, actor: Any, budget: str) -> None:
        self.actor = actor
        self.budget = budget

    def _call(self, name: str) -> _BudgetCall:
        return _BudgetCall(getattr(self.actor, name), self.budget)

    acquire = property(lambda self: self._call("acquire"))
    withdraw = property(lambda self: self._call("withdraw"))
    release = property(lambda self: self._call("release"))
    report = property(lambda self: self._call("report"))
    renew = property(lambda self: self._call("renew"))
    report_many = property(lambda self: self._call("report_many"))
    stats = property(lambda self: self._call("stats"))


# (limiter name, event loop) -> the pool of that loop: the bulk tasks of a run in one worker share
# its loop and so one pool (a few hundred bytes per run a worker served)
_pools: dict[tuple[str, asyncio.AbstractEventLoop], PermitPool] = {}


def limiter_name(run_id: str) -> str:
    """The name of a run's limiter actor (the driver adds a suffix per session of the run)."""
    return f"bulk-limiter:{run_id}"


class Permits:
    """A task's handle on the shared budget of one target system (picklable: it carries the
    limiter actor's handle to every task, on any node)."""

    def __init__(self, actor: Any, name: str, lease_s: float = 10.0) -> None:
        self._actor = actor
        self.name = name
        self.lease_s = lease_s

    @classmethod
    def create(cls, name: str, max_limit: int, *, start: int = 2, lease_s: float = 10.0) -> Permits:
        """Start a limiter actor with one budget (see :meth:`create_many`)."""
        return cls.create_many(name, {"": (max_limit, start)}, lease_s=lease_s)[""]

    @classmethod
    def create_many(cls, name: str, budgets: dict[str, tuple[int, int]], *,
                    lease_s: float = 10.0) -> dict[str, Permits]:
        """Start one limiter actor holding ``budgets`` (name -> (most, start)) and return each
        budget's permits. The actor belongs to the caller (the driver) and ends with it: a rerun
        starts with fresh budgets."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        remote = ray.remote(num_cpus=0, max_concurrency=1000)(LimiterActor)  # type: ignore[call-overload]
        # on the driver's node: losing another node must not take the run's budget with it
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        actor = remote.options(name=name, scheduling_strategy=here).remote(budgets, lease_s)  # type: ignore[attr-defined]
        return {budget: cls(BudgetHandle(actor, budget), f"{name}:{budget}" if budget else name, lease_s)
                for budget in budgets}

    def actor(self) -> Any:
        """This budget's handle (:class:`BudgetHandle`: the actor's methods for this budget)."""
        return self._actor

    def limiter(self) -> Any:
        """The limiter actor's own handle (shared by the budgets of a run), e.g. to kill it."""
        return self._actor.actor

    def pool(self) -> PermitPool:
        """This event loop's :class:`~pipelines.bulk.permit_pool.PermitPool` of these permits
        (one per limiter and loop, whichever copy of this handle asks)."""
        loop = asyncio.get_running_loop()
        pool = _pools.get((self.name, loop))
        if pool is None:
            pool = _pools[(self.name, loop)] = PermitPool(self.actor(), self.lease_s)
        return pool

    async def close(self) -> None:
        """At the end of a task's writes: withdraw what this loop still asks the limiter for
        (see :meth:`PermitPool.close`)."""
        pool = _pools.get((self.name, asyncio.get_running_loop()))
        if pool is not None:
            await pool.close()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[dict[str, Any]]:
        """Hold one permit around a write. Set ``outcome`` (``overload``/``error``) and
        ``retry_after`` in the yielded dict on failure (:mod:`pipelines.bulk.gate` does it).
        The permit may be kept for this process's next write (:mod:`.permit_pool`)."""
        pool = self.pool()
        held = await pool.take()
        report: dict[str, Any] = {"outcome": "ok", "retry_after": None}
        started = time.monotonic()
        try:
            yield report
        except BaseException:
            if report["outcome"] == "ok":
                report["outcome"] = "error"
            raise
        finally:
            pool.done(held, time.monotonic() - started, report["outcome"], report["retry_after"])

    def stats(self) -> dict[str, Any]:
        import ray

        return ray.get(self.actor().stats.remote())  # type: ignore[no-any-return]
