"""The bridge's durable store (journal + state) on SQLite or PostgreSQL.

``Store`` is synchronous and thread-safe; ``AsyncStore`` runs the same calls on a small thread
pool so an event loop (Serve replica, async actor) never blocks on the database.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runtime.store.backends import MIGRATIONS, backend_for_url
from runtime.store.journal import Store
from runtime.store.versions import version_newer_or_equal

__all__ = ["AsyncStore", "MIGRATIONS", "Store", "backend_for_url", "version_newer_or_equal"]


class AsyncStore:
    """Awaitable facade: ``await astore.append(msg)`` runs ``Store.append`` off the event loop.

    Calls keep running to completion in their thread even if the awaiting task is cancelled,
    which is what makes a write that was started durable regardless of client disconnects.
    """

    def __init__(self, store: Store, max_workers: int = 4) -> None:
        self.sync = store
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="store")

    def __getattr__(self, name: str) -> Any:
        fn = getattr(self.sync, name)
        if not callable(fn):
            return fn

        async def call(*args: Any, **kwargs: Any) -> Any:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

        return call

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.sync.close()
