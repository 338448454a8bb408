"""The bridge's durable store (journal + state) on SQLite or PostgreSQL.

``Store`` is synchronous and thread-safe; ``AsyncStore`` runs the same calls on a small thread
pool so an event loop (Serve replica, async actor) never blocks on the database.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runtime.store.backends import MIGRATIONS, WriteBusy, backend_for_url
from runtime.store.journal import Receipt, Store
from runtime.store.state import Lease
from runtime.store.versions import version_newer_or_equal

__all__ = ["AsyncStore", "Lease", "MIGRATIONS", "Receipt", "Store", "WriteBusy", "backend_for_url",
           "version_newer_or_equal"]

_Pending = tuple[Any, "Receipt | None", "asyncio.Future[tuple[str, bool]]", asyncio.AbstractEventLoop]


#: the GIL switch interval of a process that uses an AsyncStore (see AsyncStore.__init__)
_SWITCH_INTERVAL_S = 0.0005


def _settle(done: list[tuple[asyncio.Future[tuple[str, bool]], Any]], error: BaseException | None) -> None:
    """On the caller's loop: hand each waiting append its result (or the batch's error). A
    caller that stopped waiting (cancelled) is skipped; its message is committed all the same."""
    for fut, result in done:
        if fut.done():
            continue
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)


class AsyncStore:
    """Awaitable facade: ``await astore.append(msg)`` runs ``Store.append`` off the event loop.

    Calls keep running to completion in their thread even if the awaiting task is cancelled,
    which is what makes a write that was started durable regardless of client disconnects.
    """

    def __init__(self, store: Store, max_workers: int = 4, max_batch: int = 256) -> None:
        self.sync = store
        # Store calls run on threads that hold the store's write lock (all processes queue on
        # it) while they need the GIL between SQLite steps; with CPython's default 5 ms switch
        # interval a busy event loop kept such a thread -- and so every writer of the journal --
        # waiting up to 5 ms per step, and a committed batch's answers as long (measured: ingest
        # p99 ~100 ms -> ~22 ms in fast mode).
        sys.setswitchinterval(min(sys.getswitchinterval(), _SWITCH_INTERVAL_S))
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="store")
        self._appends: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._max_batch = max_batch
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        #: SQLite: a batch is first tried on the caller's loop (see append)
        self._inline = store.backend.dialect == "sqlite"
        self._turn: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        self._last_batch = 0  # size of the last inline batch (adaptive group commit, see append)
        #: batches committed on the loop / handed to the writer thread (tests, benchmarks)
        self.inline_batches = 0
        self.thread_batches = 0

    async def append(self, msg: Any, receipt: Receipt | None = None) -> tuple[str, bool]:
        """Group commit: appends made during one turn of the event loop share one transaction
        (two turns when the previous batch held more than one message: under load the batches
        grow instead of the commits multiplying). Each caller gets its answer only after its
        message is committed.
        ``receipt``: a webhook change (see :class:`runtime.store.journal.Receipt`).

        On SQLite the batch is written at the end of the turn on the loop itself when no other
        writer holds the store (the common case; a batch costs a fraction of a millisecond, no
        thread hop), and otherwise by the writer thread, so the loop never waits for another
        process. PostgreSQL batches always go to the writer thread (a network round trip).

        The message is queued before this coroutine first waits, so cancelling the awaiting
        task (a client that disconnects) never cancels the write: it commits, and only the
        answer is dropped."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[str, bool]] = loop.create_future()
        if self._inline:
            turn = self._turn.get(loop)
            if turn is None:
                turn = self._turn[loop] = []
                if self._last_batch > 1:
                    # under load (the last batch was shared), one more loop turn lets the requests
                    # already read join this batch: fewer, larger commits (measured at 16
                    # connections: ~5 -> ~9 messages a commit), for a loop turn of latency
                    loop.call_soon(loop.call_soon, self._commit_turn, loop)
                else:
                    loop.call_soon(self._commit_turn, loop)
            turn.append((msg, receipt, fut, loop))
        else:
            self._to_writer([(msg, receipt, fut, loop)])
        return await fut

    def _commit_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """End of a loop turn: write its appends now, or hand them to the writer thread."""
        batch = self._turn.pop(loop, [])
        self._last_batch = len(batch)
        for i in range(0, len(batch), self._max_batch):
            part = batch[i:i + self._max_batch]
            try:
                results = self.sync.append_many([m for m, _, _, _ in part], [r for _, r, _, _ in part], wait=False)
            except WriteBusy:
                self._to_writer(part)
                continue
            except BaseException as exc:  # noqa: BLE001 - every waiting caller learns of the failure
                _settle([(f, None) for _, _, f, _ in part], exc)
                continue
            self.inline_batches += 1
            _settle([(f, r) for (_, _, f, _), r in zip(part, results, strict=True)], None)

    def _to_writer(self, items: list[_Pending]) -> None:
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_loop, name="store-writer", daemon=True)
                    self._writer.start()
        for item in items:
            self._appends.put(item)

    def _write_loop(self) -> None:
        while True:
            item = self._appends.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self._max_batch:
                try:
                    nxt = self._appends.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._appends.put(None)  # finish this batch, then stop
                    break
                batch.append(nxt)
            error: BaseException | None = None
            results: list[Any] = [None] * len(batch)
            try:
                results = self.sync.append_many([m for m, _, _, _ in batch], [r for _, r, _, _ in batch])
                self.thread_batches += 1
            except BaseException as exc:  # noqa: BLE001 - every waiting caller learns of the failure
                error = exc
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any]]] = {}
            for (_, _, fut, loop), result in zip(batch, results, strict=True):
                by_loop.setdefault(loop, []).append((fut, result))
            for loop, done in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_settle, done, error)
                except RuntimeError:
                    pass  # that loop is closed: nobody waits for these answers any more

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self.sync, name)
        if not callable(fn):
            return fn

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

        return call

    def close(self) -> None:
        if self._writer is not None:
            self._appends.put(None)
            self._writer.join(timeout=10)
        self._pool.shutdown(wait=True)
        self.sync.close()
