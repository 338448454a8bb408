"""Finding changed records by ``date_upd``, without missing or repeating any.

PrestaShop stamps ``date_upd`` with one-second resolution, has no change feed, and its ``>``
filter is strict. Polling ``date_upd > last`` would miss a record saved later within the same
second as the last one seen; polling ``>=`` would repeat records forever. The poller therefore
keeps ``{cursor, seen_ids}``: the latest second handed over and the ids already handed over at
that second. Each pass

1. re-reads the cursor second (``filter[date_upd]=[cursor]``, paged by id) and yields the ids
   not seen yet, then
2. reads newer records (``filter[date_upd]=>[cursor]``, ``sort=[date_upd_ASC,id_ASC]``) a page
   at a time, advancing the cursor, and goes back to step 1 for the new cursor second while
   pages come back full.

``date=1`` is always sent (PrestaShop refuses date filters without it). State is loaded from and
saved to a :class:`CursorStore` passed in, after each page whose changes were all taken by the
consumer: a consumer that stops or crashes mid-page sees that page again (at-least-once; the
bridge deduplicates). The poller knows nothing of the runtime and works from a plain script.
A record saved again later is a new change and is yielded again, which is what a sync wants.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec

from connectors.errors import ConfigError

from .client import Client
from .codec import Record
from .query import F
from .schemas import schema

__all__ = ["Change", "CursorStore", "FileCursorStore", "MemoryCursorStore", "PollState", "Poller"]

EPOCH = "1970-01-01 00:00:00"


class PollState(msgspec.Struct, kw_only=True):
    """What a poller remembers between passes. Defaults keep old stored states readable."""

    cursor: str = EPOCH
    seen_ids: list[int] = msgspec.field(default_factory=list)


class CursorStore(Protocol):
    """Where a poller keeps its state (the runtime stores it in its journal)."""

    async def load(self) -> PollState | None: ...

    async def save(self, state: PollState) -> None: ...


class MemoryCursorStore:
    """A :class:`CursorStore` in memory, for scripts and tests; ``saves`` counts the commits."""

    def __init__(self, state: PollState | None = None) -> None:
        self.state = state
        self.saves = 0

    async def load(self) -> PollState | None:
        return None if self.state is None else msgspec.structs.replace(self.state)

    async def save(self, state: PollState) -> None:
        self.state = msgspec.structs.replace(state, seen_ids=list(state.seen_ids))
        self.saves += 1


class FileCursorStore:
    """A :class:`CursorStore` in a JSON file, for scripts and the CLI.

    Saves are atomic (write a sibling file, then rename) so a crash never leaves half a state.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    async def load(self) -> PollState | None:
        try:
            return msgspec.json.decode(self.path.read_bytes(), type=PollState)
        except FileNotFoundError:
            return None
        except msgspec.DecodeError as exc:
            raise ConfigError(f"The poll state file {self.path} is not a poller state: {exc}.") from None

    async def save(self, state: PollState) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_bytes(msgspec.json.encode(state))
        os.replace(tmp, self.path)


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """One changed record: ``record`` holds the fields asked for with ``display``."""

    resource: str
    id: int
    date_upd: str
    record: dict[str, Any]


class Poller:
    """Polls one resource for records whose ``date_upd`` moved.

    ``display`` must include ``id`` and ``date_upd`` when it is a field list (``"full"`` by
    default). ``since`` is the starting cursor when the store holds no state yet.
    Raises :class:`ConfigError` for a resource without ``date_upd`` (``stock_availables`` has
    none: poll ``products``/``combinations`` instead).
    """

    def __init__(
        self,
        client: Client,
        resource: str,
        store: CursorStore,
        *,
        display: str | Sequence[str] = "full",
        page_size: int = 100,
        since: str = EPOCH,
        filters: dict[str, str] | None = None,
    ) -> None:
        res = schema(resource)
        if not res.has_date_upd:
            raise ConfigError(
                f"'{resource}' has no date_upd field, so it cannot be polled for changes.", system="prestashop"
            )
        if not isinstance(display, str) and not {"id", "date_upd"} <= set(display):
            raise ConfigError("A poller's display list must include 'id' and 'date_upd'.", system="prestashop")
        if page_size < 1:
            raise ConfigError("A poller's page_size must be at least 1.", system="prestashop")
        self.client = client
        self.resource = resource
        self.store = store
        self.display = display
        self.page_size = page_size
        self.since = since
        self.filters = dict(filters or {})
        if {"date_upd", "id"} & set(self.filters):
            raise ConfigError("A poller's extra filters may not use 'id' or 'date_upd'.", system="prestashop")

    async def _page(self, filters: dict[str, str], sort: list[str]) -> list[Record]:
        return await self.client.list(
            self.resource, display=self.display, filters={**self.filters, **filters},
            sort=sort, limit=(0, self.page_size), date=True,
        )

    def _change(self, row: Record) -> Change:
        return Change(resource=self.resource, id=int(row["id"]), date_upd=str(row.get("date_upd", "")), record=row)

    async def changes(self) -> AsyncIterator[Change]:
        """One pass: yield every change since the stored state, oldest first, then return."""
        state = await self.store.load() or PollState(cursor=self.since)
        cursor, seen = state.cursor, set(state.seen_ids)

        async def commit() -> None:
            await self.store.save(PollState(cursor=cursor, seen_ids=sorted(seen)))

        while True:
            # 1. records at the cursor second not handed over yet (saved in that second after
            #    the previous read, or beyond the previous page)
            last_id = 0
            while True:
                rows = await self._page({"date_upd": F.eq(cursor), "id": F.gt(last_id)}, ["id_ASC"])
                fresh = [r for r in rows if int(r["id"]) not in seen]
                for row in fresh:
                    yield self._change(row)
                    seen.add(int(row["id"]))
                if fresh:
                    await commit()
                if len(rows) < self.page_size:
                    break
                last_id = int(rows[-1]["id"])
            # 2. newer records, oldest first
            rows = await self._page({"date_upd": F.gt(cursor)}, ["date_upd_ASC", "id_ASC"])
            for row in rows:
                stamp = str(row["date_upd"])
                if stamp > cursor:
                    cursor, seen = stamp, set()
                seen.add(int(row["id"]))
                yield self._change(row)
            if rows:
                await commit()
            if len(rows) < self.page_size:
                return

    async def newest_state(self) -> PollState:
        """The state of a poller that has seen everything up to the newest ``date_upd`` of the
        resource (that second and every id saved in it), or the empty state for an empty
        resource. A new watcher starts from it when it must not hand over what is already there.
        Reads the newest record, then the ids of its second a page at a time; saves nothing."""
        rows = await self.client.list(self.resource, display=["id", "date_upd"], filters=self.filters,
                                      sort=["date_upd_DESC", "id_DESC"], limit=(0, 1), date=True)
        if not rows:
            return PollState(cursor=self.since)
        cursor = str(rows[0]["date_upd"])
        seen: list[int] = []
        last_id = 0
        while True:
            page = await self._page({"date_upd": F.eq(cursor), "id": F.gt(last_id)}, ["id_ASC"])
            seen.extend(int(r["id"]) for r in page)
            if len(page) < self.page_size:
                return PollState(cursor=cursor, seen_ids=seen)
            last_id = int(page[-1]["id"])

    async def poll(self) -> list[Change]:
        """Collect one pass into a list (state committed as the pass goes)."""
        return [change async for change in self.changes()]
