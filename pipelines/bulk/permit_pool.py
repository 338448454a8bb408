"""A task process's share of a limiter's permits: a permit is kept for the next write.

Between two writes on the same permit, asking the limiter actor for it back costs two round
trips (a release and an acquire) that the target does not see: on the 2-core benchmark machine
they cost about a sixth of each 50 ms write, so the budget was never fully used
(``benchmarks/bulk_catalog.py``). :class:`PermitPool` keeps a permit whose write just ended for
the next write of the same task when one is waiting, and only *reports* the outcome to the
limiter (:meth:`~pipelines.bulk.limiter.AdaptiveLimit.report_many`) without waiting for the
answer. The reports go in batches: one call to the limiter at a time per pool, carrying every
outcome that ended while the previous call was on its way (a Ray actor call per write cost the
task process about as much CPU as the write's HTTP request; at the target's capacity the tasks
of a 2-core box were CPU-bound).

Contract, so that the limiter's accounting stays exact:

* a permit is held (counted ``in_use`` by the limiter) from the grant until it is given back;
  every write made with it is within that count, so the writes in flight never exceed what
  the limiter granted;
* a free permit with no local waiter goes back at once (nothing idles in a pool);
* an overload gives the permit back with the outcome (the limiter halves);
* the report's answer can ask for the permit back (the budget shrank below what is out, or a
  ``Retry-After`` pause is on): it goes back when its current write ends, so after a halving
  each kept permit makes at most one more write before the budget shrinks to the new limit;
* every permit held (in a write or on its way to one) has its lease renewed every
  ``lease_s / 5`` (:meth:`~pipelines.bulk.limiter.AdaptiveLimit.renew`; a write's report renews
  it too); a permit is handed to a write only while the lease the limiter last confirmed has more
  than ``lease_s / 4`` left, otherwise it goes back and a fresh one is asked for. So the limiter
  may take back the permits of a dead process after one lease, and a live holder's write is never
  counted free unless its process stood still (no renewal sent or answered) for most of a lease;
* :meth:`close` (at the end of a task) withdraws the acquires still waiting at the limiter
  (by ticket, :meth:`~pipelines.bulk.limiter.AdaptiveLimit.withdraw`: never by ``ray.cancel``,
  which can lose the answer of a call that already granted a permit), so a finished task is
  not granted permits it has no use for; a grant already on its way is given back.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import time
from typing import Any

__all__ = ["Held", "PermitPool"]


class Held:
    """One permit of the pool: its grant and what the limiter said of it last."""

    __slots__ = ("grant", "give_back", "lost", "valid_until")

    def __init__(self, grant: tuple[int, int], valid_until: float) -> None:
        self.grant = grant
        self.give_back = False
        self.lost = False
        #: this process's clock: until when the limiter surely keeps the lease (see the module docstring)
        self.valid_until = valid_until


class PermitPool:
    """The permits of one limiter actor held by one event loop (one task process)."""

    def __init__(self, actor: Any, lease_s: float = 10.0) -> None:
        self.loop = asyncio.get_running_loop()
        self._actor = actor
        self.lease_s = lease_s
        self._held: dict[int, Held] = {}  # grant id -> the permits this pool holds (renewed)
        self._renewer: asyncio.Task[None] | None = None
        self._waiters: collections.deque[asyncio.Future[Held]] = collections.deque()
        self._asks: dict[asyncio.Task[None], str] = {}  # acquires waiting at the limiter -> their tickets
        self._answers: set[asyncio.Task[None]] = set()
        self._reports: list[tuple[Held, float, str, float]] = []  # outcomes not sent yet
        self._reporter: asyncio.Task[None] | None = None
        self._prefix = f"{os.getpid()}-{id(self):x}-"
        self._tickets = itertools.count()

    async def take(self) -> Held:
        """Wait for a permit: one freed by this pool's last write, or a new grant."""
        waiter: asyncio.Future[Held] = self.loop.create_future()
        self._waiters.append(waiter)
        self._ask_enough()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._free(waiter.result())  # granted as the caller gave up: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def _ask_enough(self) -> None:
        """As many acquires waiting at the limiter as local waiters: a waiter must never depend
        on a permit this pool holds, since that permit may have to go back instead (an overload,
        a shrunk budget) and would then serve nobody here."""
        waiting = sum(1 for w in self._waiters if not w.done())
        while len(self._asks) < waiting:
            ticket = f"{self._prefix}{next(self._tickets)}"
            ask = self.loop.create_task(self._ask(self._actor.acquire.remote(ticket)))
            self._asks[ask] = ticket

    async def _ask(self, ref: Any) -> None:
        try:
            grant = await ref
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the limiter is gone: the oldest waiter learns why
            self._asks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_exception(exc)
                    break
            return
        self._asks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
        if grant is None:  # withdrawn before a grant (close)
            self._ask_enough()
            return
        # granted at the limiter before this answer came: half a lease is a safe guess of what is
        # left of it (the first renewal, within a fifth of a lease, tells for sure)
        held = Held(tuple(grant), time.monotonic() + self.lease_s / 2)  # type: ignore[arg-type]
        self._hold(held)
        self._free(held)

    def _hold(self, held: Held) -> None:
        self._held[held.grant[1]] = held
        if self._renewer is None or self._renewer.done():
            self._renewer = self.loop.create_task(self._renew())

    def _drop(self, held: Held) -> None:
        self._held.pop(held.grant[1], None)

    async def _renew(self) -> None:
        """Renew the leases of the permits held, every fifth of a lease, while any is held."""
        while self._held:
            await asyncio.sleep(self.lease_s / 5)
            held = list(self._held.values())
            if not held:
                return
            sent = time.monotonic()
            try:
                lost = set(await self._actor.renew.remote([h.grant[1] for h in held]))
            except Exception:  # noqa: BLE001 - the limiter is gone: the writes' own calls report it
                return
            for h in held:
                if h.grant[1] in lost:
                    h.lost = True
                    self._drop(h)
                else:
                    h.valid_until = max(h.valid_until, sent + self.lease_s)

    def _free(self, held: Held) -> None:
        """``held`` has no write: to the oldest local waiter, else back to the limiter."""
        if held.lost:
            self._drop(held)
            self._ask_enough()
            return  # the limiter already took it back
        if not held.give_back and held.valid_until - time.monotonic() > self.lease_s / 4:
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(held)
                    return
        self._drop(held)
        self._actor.release.remote(held.grant, 0.0, "returned")
        self._ask_enough()

    def done(self, held: Held, latency_s: float, outcome: str, retry_after_s: float | None) -> None:
        """The write made with ``held`` ended with ``outcome`` (see :mod:`.limiter`)."""
        if outcome == "overload":
            self._drop(held)
            self._actor.release.remote(held.grant, latency_s, outcome, retry_after_s)
            self._ask_enough()
            return
        self._reports.append((held, held.grant, latency_s, outcome))  # type: ignore[arg-type]
        if self._reporter is None or self._reporter.done():
            self._reporter = self.loop.create_task(self._report())
            self._answers.add(self._reporter)
            self._reporter.add_done_callback(self._answers.discard)
        self._free(held)

    async def _report(self) -> None:
        """Send the outcomes not sent yet in one call, and again while more ended meanwhile."""
        while self._reports:
            batch, self._reports = self._reports, []
            sent = time.monotonic()
            try:
                answers = await self._actor.report_many.remote([(grant, latency, outcome)
                                                                for _, grant, latency, outcome in batch])
            except Exception:  # noqa: BLE001 - the limiter is gone: the next acquire says so
                return
            for (held, _, _, _), answer in zip(batch, answers, strict=True):
                self._answer(held, answer, sent)

    def _answer(self, held: Held, answer: dict[str, Any], sent: float) -> None:
        held.lost = held.lost or bool(answer["lost"])
        held.give_back = held.give_back or bool(answer["give_back"])
        if held.lost:
            self._drop(held)
        else:  # the report renewed the lease
            held.valid_until = max(held.valid_until, sent + self.lease_s)
        if not held.give_back:  # kept: its overloads count from the current epoch on
            held.grant = (int(answer["epoch"]), held.grant[1])

    async def close(self) -> None:
        """Withdraw the acquires still waiting at the limiter; a grant that was already on its
        way back is given back."""
        tickets = list(self._asks.values())
        if tickets:
            # bounded: a limiter that no longer answers must not hold up the end of a task
            with contextlib.suppress(Exception):  # the limiter is gone: nothing waits there any more
                ref = self._actor.withdraw.remote(tickets)
                await asyncio.wait_for(asyncio.wrap_future(ref.future()), timeout=5.0)
        pending = list(self._asks) + list(self._answers)
        if pending:
            await asyncio.wait(pending, timeout=5.0)
