"""The bridge's durable store (journal + state) on SQLite or PostgreSQL.

``Store`` is synchronous and thread-safe; ``AsyncStore`` runs the same calls on a small thread
pool so an event loop (Serve replica, async actor) never blocks on the database.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from runtime.store.backends import MIGRATIONS, backend_for_url
from runtime.store.journal import Receipt, Store
from runtime.store.state import Lease
from runtime.store.versions import version_newer_or_equal

__all__ = ["AsyncStore", "Lease", "MIGRATIONS", "Receipt", "Store", "backend_for_url", "version_newer_or_equal"]

_Pending = tuple[Any, "Receipt | None", "Future[tuple[str, bool]]"]


class AsyncStore:
    """Awaitable facade: ``await astore.append(msg)`` runs ``Store.append`` off the event loop.

    Calls keep running to completion in their thread even if the awaiting task is cancelled,
    which is what makes a write that was started durable regardless of client disconnects.
    """

    def __init__(self, store: Store, max_workers: int = 4, max_batch: int = 256) -> None:
        self.sync = store
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="store")
        self._appends: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._max_batch = max_batch
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()

    async def append(self, msg: Any, receipt: Receipt | None = None) -> tuple[str, bool]:
        """Group commit: appends waiting at the same moment share one transaction, written by one
        thread. Each caller still gets its answer only after its message is committed.
        ``receipt``: a webhook change (see :class:`runtime.store.journal.Receipt`)."""
        if self._writer is None:
            with self._writer_lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_loop, name="store-writer", daemon=True)
                    self._writer.start()
        fut: Future[tuple[str, bool]] = Future()
        self._appends.put((msg, receipt, fut))
        return await asyncio.wrap_future(fut)

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
            try:
                results = self.sync.append_many([m for m, _, _ in batch], [r for _, r, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - every waiting caller learns of the failure
                for _, _, f in batch:
                    f.set_exception(exc)
                continue
            for (_, _, f), result in zip(batch, results, strict=True):
                f.set_result(result)

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
