"""A chunk's reads overlapped with its writes: read part ``i + 1`` while part ``i`` is written.

Reading a whole chunk before its first write left the target's permits idle for the length of
the read (the AX ``read``/``find`` calls of 100-200 keys take about as long as writing them at
the target's capacity), and the chunk's last writes then ran with nothing queued behind them.
:func:`pipelined` cuts the chunk's keys into parts, reads them one after another in a reader
coroutine and hands the items to ``workers`` concurrent handlers through a bounded queue, so
writes start after the first part's read and never wait for a later part's read unless the
reader falls behind the writes.

Contract:

* ``read_part(keys)`` is called once per part, in order, never two at once (the source sees
  the same calls as a sequential read, part by part); the items it returns are handled in
  order of reading, by up to ``workers`` handlers at a time;
* memory is bounded whatever the chunk's size: the items of at most the part being read, the
  queue (``ahead`` parts' worth of items) and those in the handlers' hands;
* the first exception of the reader or a handler cancels the rest and is raised as is (not
  wrapped), after every coroutine ended; nothing is left running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

__all__ = ["pipelined"]

K = TypeVar("K")
T = TypeVar("T")

_DONE: Any = object()  # tells a handler that the reader has nothing more


async def pipelined(keys: Sequence[K], part_size: int, read_part: Callable[[list[K]], Awaitable[list[T]]],
                    handle: Callable[[T], Awaitable[None]], *, workers: int, ahead: int = 1) -> dict[str, float]:
    """Read ``keys`` in parts of ``part_size`` and handle every item read (module docstring).
    Returns ``{"read_s": time spent in read_part, "parts": number of parts}``."""
    if part_size < 1 or workers < 1 or ahead < 1:
        raise ValueError("part_size, workers and ahead must be at least 1.")
    queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max(1, ahead * part_size))
    stats = {"read_s": 0.0, "parts": 0.0}

    async def reader() -> None:
        for start in range(0, len(keys), part_size):
            t0 = time.perf_counter()
            items = await read_part(list(keys[start:start + part_size]))
            stats["read_s"] += time.perf_counter() - t0
            stats["parts"] += 1
            for item in items:
                await queue.put(item)  # waits while the handlers are a full queue behind
        for _ in range(workers):
            await queue.put(_DONE)

    async def worker() -> None:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            await handle(item)

    tasks = [asyncio.ensure_future(reader())] + [asyncio.ensure_future(worker()) for _ in range(workers)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return stats
