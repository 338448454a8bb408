"""The part of the runtime's store a bulk run uses, as the runtime passes it in.

``pipelines`` never imports ``runtime``: the driver is given a picklable ``store_factory`` (a
zero-argument callable, e.g. ``functools.partial(runtime.store.bulk_runs.open_bulk_store, url)``)
and calls it in each process that needs the store (the driver, every task's worker, once per
process). The object it returns has these synchronous methods; each is one short transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["BulkStore", "StoreFactory", "store_of"]


class BulkStore(Protocol):
    url: str

    # what the operations and the sync rules use (runtime.store.Store has them)
    def get_xref(self, entity: str, *, ps_id: str | None = None, ax_id: str | None = None) -> dict[str, Any] | None: ...
    def put_xref(self, entity: str, ps_id: str, ax_id: str) -> None: ...
    def get_sync_state(self, entity: str, key: str) -> dict[str, Any] | None: ...
    def put_sync_state(self, entity: str, key: str, *, source_version: str | None = None,
                       ps_hash: str | None = None, ax_hash: str | None = None, written: bool = True) -> bool: ...
    def put_checkpoint(self, run_id: str, chunk: str, state: Any) -> None: ...
    def get_checkpoints(self, run_id: str) -> dict[str, Any]: ...

    # batch reads of a chunk (one query each)
    def xrefs_by_ax(self, entity: str, ax_ids: list[str]) -> dict[str, str]:
        """``{ax_id: ps_id}`` of those of ``ax_ids`` that have a cross-reference."""
        ...

    def sync_states(self, entity: str, keys: list[str]) -> dict[str, dict[str, Any]]:
        """``{key: sync_state row}`` of those of ``keys`` that have one."""
        ...

    # the dead-letter queue and the run record
    def dead_letter(self, *, entity: str, key: str, source: str, event: str, flow: str,
                    error: dict[str, Any], payload: dict[str, Any]) -> str:
        """Journal a failed record as a message in state ``dead`` (replayable); returns its id.
        Idempotent per (entity, key, event, payload)."""
        ...

    def save_run(self, run: dict[str, Any]) -> None: ...
    def get_run(self, run_id: str) -> dict[str, Any] | None: ...
    def open_run(self, kind: str, signature: str) -> dict[str, Any] | None:
        """The latest unfinished run of ``kind`` with these arguments (a rerun continues it)."""
        ...

    def last_done_run(self, kind: str, signatures: list[str]) -> dict[str, Any] | None:
        """The latest run of ``kind`` that finished (``done``) with one of ``signatures``."""
        ...


StoreFactory = Callable[[], BulkStore]

_opened: dict[Any, BulkStore] = {}


def store_of(factory: StoreFactory) -> BulkStore:
    """The store of ``factory`` in this process, opened once (workers run many chunks)."""
    key = getattr(factory, "args", None) or id(factory)
    key = (getattr(getattr(factory, "func", None), "__qualname__", ""), key)
    found = _opened.get(key)
    if found is None:
        found = _opened[key] = factory()
    return found
