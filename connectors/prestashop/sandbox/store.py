"""The emulated shop's tables: in memory, optionally written through to a SQLite file.

A row is a ``dict`` from field name to the value as MySQL would print it: a ``str`` for scalar
fields, ``None`` for NULL, and ``dict[int, str]`` (language id -> text) for multilingual fields.
Stored associations (those PrestaShop persists through a ``setWs*`` setter, e.g. a product's
categories or a cart's rows) live under the row key ``"_assoc"`` as lists of small string maps.

Ids are auto-incremented per resource and never reused, like MySQL's AUTO_INCREMENT; rows iterate
in id order (the "database order" a list without ``sort`` returns).

All mutation happens on the server's event-loop thread inside one request handler, with no
``await`` in between, so no lock is needed; the SQLite write-through commits once per request
(:meth:`Store.commit`) so a crash loses at most the request in flight.
"""

from __future__ import annotations

import datetime as _dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["Clock", "Row", "Store"]

Row = dict[str, Any]
_MISSING = object()
_CI = "~casefold"


def _index_key(row: Row, column: str) -> Any:
    if column.endswith(_CI):
        return str(row.get(column[: -len(_CI)]) or "").casefold()
    return row.get(column)


class Clock:
    """Shop time with one-second resolution (``Y-m-d H:i:s``), UTC, optionally frozen or shifted.

    Freezing the clock lets tests create several records in the same second on purpose, which is
    exactly the case a ``date_upd`` poller must handle.
    """

    def __init__(self) -> None:
        self.frozen: _dt.datetime | None = None
        self.offset = _dt.timedelta(0)

    def now_dt(self) -> _dt.datetime:
        if self.frozen is not None:
            return self.frozen
        return _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0) + self.offset

    def now(self) -> str:
        return self.now_dt().strftime("%Y-%m-%d %H:%M:%S")

    def set(self, *, frozen: str | None = None, offset_s: float | None = None) -> None:
        """Freeze at ``frozen`` (``Y-m-d H:i:s``; empty string unfreezes) and/or shift by ``offset_s``."""
        if frozen is not None:
            self.frozen = _dt.datetime.strptime(frozen, "%Y-%m-%d %H:%M:%S") if frozen else None
        if offset_s is not None:
            self.offset = _dt.timedelta(seconds=offset_s)


def _encode_row(row: Row) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def _decode_row(text: str) -> Row:
    row: Row = json.loads(text)
    for key, value in row.items():
        # JSON turned the language ids into strings; multilingual maps are keyed by int.
        if isinstance(value, dict) and key != "_assoc":
            row[key] = {int(k): v for k, v in value.items()}
    return row


class Store:
    """Tables of rows keyed by resource name, plus a small key/value area for shop settings.

    ``path`` None keeps everything in memory; a path opens (or creates) a SQLite file whose
    content is loaded at start and updated on every change, so a restarted sandbox resumes.
    """

    def __init__(self, path: str | None = None) -> None:
        self.tables: dict[str, dict[int, Row]] = {}
        self.next_ids: dict[str, int] = {}
        self.settings: dict[str, Any] = {}
        self.clock = Clock()
        self._indexes: dict[tuple[str, str], tuple[dict[Any, dict[int, None]], dict[int, Any]]] = {}
        #: (resource, index name) -> the key of a row in that index, for indexes of ids_where
        self._index_keys: dict[tuple[str, str], Callable[[Row], Any]] = {}
        self._db: sqlite3.Connection | None = None
        self._dirty = False
        if path:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS rows (resource TEXT, id INTEGER, data TEXT, "
                "PRIMARY KEY (resource, id))"
            )
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._db.execute("BEGIN")
            self._load()

    # -- reading --------------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not any(self.tables.values())

    def get(self, resource: str, row_id: int) -> Row | None:
        return self.tables.get(resource, {}).get(row_id)

    def rows(self, resource: str) -> Iterator[Row]:
        """Rows in id order (insertion order equals id order: ids only grow)."""
        return iter(list(self.tables.get(resource, {}).values()))

    def count(self, resource: str) -> int:
        return len(self.tables.get(resource, {}))

    def find(self, resource: str, **where: str) -> list[Row]:
        """Rows (in id order) whose fields equal every given string value: a small WHERE.

        The first condition goes through a hash index on that column, built on first use and kept
        up to date by every insert, save and delete, so lookups by foreign key stay cheap.
        """
        table = self.tables.get(resource, {})
        if not where:
            return list(table.values())
        (first, wanted), *rest = where.items()
        hits = [table[i] for i in sorted(self._index(resource, first)[0].get(wanted, {}))]
        return [r for r in hits if all(r.get(k) == v for k, v in rest)] if rest else hits

    def find_casefold(self, resource: str, column: str, value: str) -> list[Row]:
        """Rows whose ``column`` equals ``value`` ignoring case (MySQL's ``*_ci`` collations)."""
        table = self.tables.get(resource, {})
        return [table[i] for i in sorted(self._index(resource, column + _CI)[0].get(value.casefold(), {}))]

    def ids_where(self, resource: str, column: str, kind: str, key: Callable[[Any], Any],
                  wanted: Iterable[Any]) -> list[int]:
        """Ids (in id order) of the rows whose ``key(row[column])`` is one of ``wanted``, through a
        hash index named ``kind`` on that column, kept up to date like the others. The list
        filters use it with their own comparison (``key``), so a lookup finds exactly the rows a
        scan would (sandbox/query.py)."""
        name = f"{column}~{kind}"
        if (resource, name) not in self._index_keys:
            self._index_keys[(resource, name)] = lambda row: key(row.get(column))
        buckets = self._index(resource, name)[0]
        return sorted({i for w in wanted for i in buckets.get(w, {})})

    def _index(self, resource: str, column: str) -> tuple[dict[Any, dict[int, None]], dict[int, Any]]:
        index = self._indexes.get((resource, column))
        if index is None:
            buckets: dict[Any, dict[int, None]] = {}
            reverse: dict[int, Any] = {}
            for row_id, row in self.tables.get(resource, {}).items():
                key = self._key_of(resource, column, row)
                buckets.setdefault(key, {})[row_id] = None
                reverse[row_id] = key
            index = self._indexes[(resource, column)] = (buckets, reverse)
        return index

    def _key_of(self, resource: str, column: str, row: Row) -> Any:
        custom = self._index_keys.get((resource, column))
        return custom(row) if custom is not None else _index_key(row, column)

    def _reindex(self, resource: str, row_id: int, row: Row | None) -> None:
        for (res, column), (buckets, reverse) in self._indexes.items():
            if res != resource:
                continue
            old = reverse.pop(row_id, _MISSING)
            if old is not _MISSING:
                buckets.get(old, {}).pop(row_id, None)
            if row is not None:
                key = self._key_of(resource, column, row)
                buckets.setdefault(key, {})[row_id] = None
                reverse[row_id] = key

    # -- writing --------------------------------------------------------------------------------
    def insert(self, resource: str, row: Row) -> int:
        """Assign the next id to ``row``, store it and return the id."""
        new_id = self.next_ids.get(resource, 1)
        self.next_ids[resource] = new_id + 1
        row["id"] = str(new_id)
        self.tables.setdefault(resource, {})[new_id] = row
        self._reindex(resource, new_id, row)
        self._persist(resource, new_id, row)
        return new_id

    def put(self, resource: str, row_id: int, row: Row) -> None:
        """Store ``row`` under an explicit id (seed data with the ids of a fresh install)."""
        row["id"] = str(row_id)
        self.tables.setdefault(resource, {})[row_id] = row
        self.next_ids[resource] = max(self.next_ids.get(resource, 1), row_id + 1)
        self._reindex(resource, row_id, row)
        self._persist(resource, row_id, row)

    def save(self, resource: str, row: Row) -> None:
        """Store an existing row (replacing the previous version of the same id)."""
        row_id = int(row["id"])
        self.tables.setdefault(resource, {})[row_id] = row
        self._reindex(resource, row_id, row)
        self._persist(resource, row_id, row)

    def delete(self, resource: str, row_id: int) -> None:
        self.tables.get(resource, {}).pop(row_id, None)
        self._reindex(resource, row_id, None)
        if self._db is not None:
            self._db.execute("DELETE FROM rows WHERE resource=? AND id=?", (resource, row_id))
            self._dirty = True

    def set_setting(self, key: str, value: Any) -> None:
        self.settings[key] = value
        if self._db is not None:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))
            self._dirty = True

    def commit(self) -> None:
        """Make the changes of the current request durable (no-op in memory)."""
        if self._db is not None and self._dirty:
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('next_ids', ?)", (json.dumps(self.next_ids),)
            )
            self._db.execute("COMMIT")
            self._db.execute("BEGIN")
            self._dirty = False

    def close(self) -> None:
        if self._db is not None:
            self.commit()
            self._db.execute("COMMIT")
            self._db.close()
            self._db = None

    # -- internals ------------------------------------------------------------------------------
    def _persist(self, resource: str, row_id: int, row: Row) -> None:
        if self._db is not None:
            self._db.execute(
                "INSERT OR REPLACE INTO rows VALUES (?, ?, ?)", (resource, row_id, _encode_row(row))
            )
            self._dirty = True

    def _load(self) -> None:
        assert self._db is not None
        for resource, row_id, data in self._db.execute("SELECT resource, id, data FROM rows ORDER BY resource, id"):
            self.tables.setdefault(resource, {})[int(row_id)] = _decode_row(data)
        for key, value in self._db.execute("SELECT key, value FROM meta"):
            if key == "next_ids":
                self.next_ids = {k: int(v) for k, v in json.loads(value).items()}
            else:
                self.settings[key] = json.loads(value)
        for resource, table in self.tables.items():
            if table:
                self.next_ids[resource] = max(self.next_ids.get(resource, 1), max(table) + 1)
