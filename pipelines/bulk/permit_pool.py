"""A task process's share of a limiter's permits: a permit is kept for the next write.

Between two writes on the same permit, asking the limiter actor for it back costs two round
trips (a release and an acquire) that the target does not see: on the 2-core benchmark machine
they cost about a sixth of each 50 ms write, so the budget was never fully used
(``benchmarks/bulk_catalog.py``). :class:`PermitPool` keeps a permit whose write just ended for
the next write of the same task when one is waiting, and only *reports* the outcome to the
limiter (:meth:`~pipelines.bulk.limiter.AdaptiveLimit.report`) without waiting for the answer.

Contract, so that the limiter's accounting stays exact:

* a permit is held (counted ``in_use`` by the limiter) from the grant until it is given back;
  every write made with it is within that count, so the writes in flight never exceed what
  the limiter granted;
* a free permit with no local waiter goes back at once (nothing idles in a pool);
* an overload gives the permit back with the outcome (the limiter halves);
* the report's answer can ask for the permit back (the budget shrank below what is out, or a
  ``Retry-After`` pause is on): it goes back when its current write ends, so after a halving
  each kept permit makes at most one more write before the budget shrinks to the new limit;
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
from typing import Any

__all__ = ["Held", "PermitPool"]


class Held:
    """One permit of the pool: its grant and what the limiter said of it last."""

    __slots__ = ("grant", "give_back", "lost")

    def __init__(self, grant: tuple[int, int]) -> None:
        self.grant = grant
        self.give_back = False
        self.lost = False


class PermitPool:
    """The permits of one limiter actor held by one event loop (one task process)."""

    def __init__(self, actor: Any) -> None:
        self.loop = asyncio.get_running_loop()
        self._actor = actor
        self._waiters: collections.deque[asyncio.Future[Held]] = collections.deque()
        self._asks: dict[asyncio.Task[None], str] = {}  # acquires waiting at the limiter -> their tickets
        self._answers: set[asyncio.Task[None]] = set()
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
        self._free(Held(tuple(grant)))  # type: ignore[arg-type]

    def _free(self, held: Held) -> None:
        """``held`` has no write: to the oldest local waiter, else back to the limiter."""
        if held.lost:
            self._ask_enough()
            return  # the limiter already took it back
        if not held.give_back:
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(held)
                    return
        self._actor.release.remote(held.grant, 0.0, "returned")
        self._ask_enough()

    def done(self, held: Held, latency_s: float, outcome: str, retry_after_s: float | None) -> None:
        """The write made with ``held`` ended with ``outcome`` (see :mod:`.limiter`)."""
        if outcome == "overload":
            self._actor.release.remote(held.grant, latency_s, outcome, retry_after_s)
            self._ask_enough()
            return
        answer = self.loop.create_task(self._answer(held, self._actor.report.remote(held.grant, latency_s, outcome)))
        self._answers.add(answer)
        answer.add_done_callback(self._answers.discard)
        self._free(held)

    async def _answer(self, held: Held, ref: Any) -> None:
        with contextlib.suppress(Exception):
            answer = await ref
            held.lost = held.lost or bool(answer["lost"])
            held.give_back = held.give_back or bool(answer["give_back"])
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
