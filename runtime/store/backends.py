"""SQL backends of the store: SQLite (WAL, the embedded default) and PostgreSQL (clusters).

A backend owns connections (one per thread), transactions and the few dialect differences;
the store's queries are written once with ``?`` placeholders and run on both. Schema changes are
versioned migrations applied in order on open, each inside a transaction, so two processes that
open the same store at once never half-apply one.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Backend", "SqliteBackend", "PostgresBackend", "WriteBusy", "backend_for_url", "MIGRATIONS"]


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


# Each migration: (version, statements). {AUTO} becomes the dialect's auto-increment key,
# {REAL} its double type. Keep statements idempotent-free: a version is applied exactly once.
MIGRATIONS: list[tuple[int, list[str]]] = [
    (1, [
        """CREATE TABLE messages (
            seq {AUTO},
            id TEXT NOT NULL UNIQUE,
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            source TEXT NOT NULL,
            event TEXT NOT NULL,
            payload TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE,
            traceparent TEXT,
            received_at {REAL} NOT NULL,
            source_version TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at {REAL},
            lease_until {REAL},
            claim_token TEXT,
            last_error TEXT,
            flow TEXT,
            updated_at {REAL} NOT NULL
        )""",
        "CREATE INDEX messages_key ON messages (entity, key, seq)",
        "CREATE INDEX messages_due ON messages (status, next_attempt_at)",
        """CREATE TABLE message_events (
            seq {AUTO},
            message_id TEXT NOT NULL,
            at {REAL} NOT NULL,
            kind TEXT NOT NULL,
            attempt INTEGER,
            detail TEXT
        )""",
        "CREATE INDEX message_events_msg ON message_events (message_id, seq)",
        """CREATE TABLE xrefs (
            entity TEXT NOT NULL,
            ps_id TEXT NOT NULL,
            ax_id TEXT NOT NULL,
            updated_at {REAL} NOT NULL,
            PRIMARY KEY (entity, ps_id)
        )""",
        "CREATE UNIQUE INDEX xrefs_ax ON xrefs (entity, ax_id)",
        """CREATE TABLE sync_state (
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            source_version TEXT,
            ps_hash TEXT,
            ax_hash TEXT,
            updated_at {REAL} NOT NULL,
            PRIMARY KEY (entity, key)
        )""",
        """CREATE TABLE poll_cursors (
            name TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at {REAL} NOT NULL
        )""",
        """CREATE TABLE bulk_checkpoints (
            run_id TEXT NOT NULL,
            chunk TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at {REAL} NOT NULL,
            PRIMARY KEY (run_id, chunk)
        )""",
        """CREATE TABLE flow_versions (
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            content TEXT NOT NULL,
            deployed_at {REAL} NOT NULL,
            PRIMARY KEY (name, version)
        )""",
        """CREATE TABLE alerts (
            seq {AUTO},
            at {REAL} NOT NULL,
            severity TEXT NOT NULL,
            source TEXT NOT NULL,
            message TEXT NOT NULL,
            acknowledged INTEGER NOT NULL DEFAULT 0
        )""",
    ]),
    # leases: a named role (the dispatcher) that one process at a time may play on this store
    (2, [
        """CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            info TEXT NOT NULL,
            acquired_at {REAL} NOT NULL,
            renewed_at {REAL} NOT NULL,
            expires_at {REAL} NOT NULL
        )""",
    ]),
    # echo suppression and field ownership: when each side's hash was written, and the conflict log
    (3, [
        "ALTER TABLE sync_state ADD COLUMN ps_hash_at {REAL}",
        "ALTER TABLE sync_state ADD COLUMN ax_hash_at {REAL}",
        """CREATE TABLE conflicts (
            seq {AUTO},
            at {REAL} NOT NULL,
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            flow TEXT,
            message_id TEXT,
            field TEXT NOT NULL,
            winner TEXT NOT NULL,
            rule TEXT NOT NULL,
            ps_value TEXT,
            ax_value TEXT,
            ps_version TEXT,
            ax_version TEXT
        )""",
        "CREATE INDEX conflicts_record ON conflicts (entity, key, seq)",
    ]),
    # webhook ids of changes journaled under their change key (entity + id + date_upd): the id's
    # receipt is claimed in the append's own transaction (journal.Store.append_many)
    (4, [
        """CREATE TABLE webhook_receipts (
            webhook_id TEXT PRIMARY KEY,
            message_id TEXT NOT NULL,
            content TEXT NOT NULL,
            received_at {REAL} NOT NULL
        )""",
    ]),
    # the review queue of records a guard held, and the anomaly guard's per-key statistics
    # (runtime/store/review.py)
    (5, [
        """CREATE TABLE review_items (
            id TEXT PRIMARY KEY,
            message_id TEXT NOT NULL,
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            flow TEXT,
            step TEXT,
            status TEXT NOT NULL,
            reason TEXT,
            score {REAL},
            signal TEXT,
            snapshot TEXT,
            edit TEXT,
            created_at {REAL} NOT NULL,
            decided_at {REAL},
            decided_by TEXT,
            decision TEXT
        )""",
        "CREATE INDEX review_items_status ON review_items (status, created_at)",
        "CREATE INDEX review_items_message ON review_items (message_id, created_at)",
        """CREATE TABLE guard_stats (
            key TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            updated_at {REAL} NOT NULL
        )""",
    ]),
    # bulk-sync runs: progress and summary (runtime/store/bulk_runs.py)
    (6, [
        """CREATE TABLE bulk_runs (
            run_id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            signature TEXT NOT NULL,
            status TEXT NOT NULL,
            record TEXT NOT NULL,
            started_at {REAL} NOT NULL,
            updated_at {REAL} NOT NULL
        )""",
        "CREATE INDEX bulk_runs_kind ON bulk_runs (kind, signature, started_at)",
    ]),
    # what each step of an attempt produced, masked and capped (pipelines/step_payloads.py)
    (7, [
        """CREATE TABLE message_payloads (
            seq {AUTO},
            message_id TEXT NOT NULL,
            attempt INTEGER,
            step TEXT NOT NULL,
            kind TEXT,
            at {REAL} NOT NULL,
            payload TEXT NOT NULL,
            truncated INTEGER NOT NULL,
            size INTEGER NOT NULL
        )""",
        "CREATE INDEX message_payloads_msg ON message_payloads (message_id, attempt, seq)",
    ]),
]


class WriteBusy(Exception):
    """Another writer holds the store's write lock (see :meth:`Backend.try_tx`)."""


class Backend:
    """Connections per thread, transactions, and dialect details."""

    dialect = "generic"
    auto = "INTEGER PRIMARY KEY"
    real = "REAL"
    for_update = ""

    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def q(self, sql: str) -> str:
        """Translate the store's ``?`` placeholders to the driver's style."""
        return sql

    def _connect(self) -> Any:
        raise NotImplementedError

    def conn(self) -> Any:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = self._connect()
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    @contextmanager
    def tx(self) -> Iterator[Cursor]:
        """A write transaction: committed when the block ends, rolled back when it raises."""
        raise NotImplementedError
        yield  # pragma: no cover

    @contextmanager
    def try_tx(self) -> Iterator[Cursor]:
        """A write transaction only if it can start without waiting for another writer; raises
        :class:`WriteBusy` (nothing done) otherwise. For callers that must not block (an event
        loop's inline group commit); a backend that cannot tell always raises it."""
        raise WriteBusy("this backend has no non-blocking transactions")
        yield  # pragma: no cover

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        """A read-only transaction (one snapshot); it takes no write lock where the dialect
        allows, so readers (the dispatcher's scan, the admin API, the summary) never queue
        behind or in front of writers. Writing inside it is a bug."""
        with self.tx() as cur:
            yield cur

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                try:
                    c.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
            self._all.clear()
        self._local = threading.local()

    def migrate(self) -> int:
        """Apply pending migrations; return the schema version now in force."""
        with self.tx() as cur:
            self._lock_for_migration(cur)
            cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
            current = int(cur.fetchone()[0])
            for version, statements in MIGRATIONS:
                if version <= current:
                    continue
                for stmt in statements:
                    cur.execute(stmt.replace("{AUTO}", self.auto).replace("{REAL}", self.real))
                cur.execute(self.q("INSERT INTO schema_migrations (version, applied_at) VALUES (?, CURRENT_TIMESTAMP)"),
                            (version,))
                current = version
        return current

    def _lock_for_migration(self, cur: Cursor) -> None:
        """Serialise concurrent migrators (SQLite's BEGIN IMMEDIATE already does)."""


class SqliteBackend(Backend):
    """SQLite in WAL mode. ``synchronous=NORMAL``: a commit survives a crash of any process;
    only an OS crash or power loss may lose the last commits (set ``FULL`` for that).

    Writers of all processes (Serve replica, entity actors, dispatcher, CLI) queue on an
    ``flock`` of ``<db>.writer-lock`` before ``BEGIN IMMEDIATE``. SQLite alone would make a
    writer that finds the lock taken sleep in its busy handler (1, 2, 5, 10 … 100 ms, growing),
    which under steady traffic added tens to hundreds of milliseconds to an order; the kernel
    wakes the next ``flock`` waiter the moment the lock is released. ``busy_timeout`` stays as
    the fallback for writers that do not take the file lock (another tool on the file).
    Readers (:meth:`read`) take no lock at all: WAL gives them a snapshot.
    """

    dialect = "sqlite"
    auto = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self, path: str, synchronous: str = "NORMAL") -> None:
        super().__init__()
        self.path = path
        self.synchronous = synchronous
        self._fds: list[int] = []
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

    def _connect(self) -> sqlite3.Connection:
        c = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute(f"PRAGMA synchronous={self.synchronous}")
        c.execute("PRAGMA busy_timeout=30000")
        return c

    def _writer_lock(self) -> int | None:
        """This thread's descriptor of the writers' lock file (``flock`` locks belong to an open
        file description, so each thread opens its own and threads queue like processes)."""
        if self.path == ":memory:":
            return None  # one connection per thread, nothing shared across processes
        fd = getattr(self._local, "lock_fd", None)
        if fd is None:
            fd = os.open(self.path + ".writer-lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._local.lock_fd = fd
            with self._lock:
                self._fds.append(fd)
        return fd

    @contextmanager
    def tx(self) -> Iterator[Cursor]:
        with self._write(wait=True) as cur:
            yield cur

    @contextmanager
    def try_tx(self) -> Iterator[Cursor]:
        with self._write(wait=False) as cur:
            yield cur

    @contextmanager
    def _write(self, *, wait: bool) -> Iterator[Cursor]:
        """A write transaction under the writers' file lock; ``wait=False`` raises
        :class:`WriteBusy` instead of waiting for the file lock or SQLite's own."""
        c = self.conn()
        cur = c.cursor()
        fd = self._writer_lock()
        if fd is not None:
            try:
                # releases the GIL while it waits
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WriteBusy("another writer holds the store") from None
        try:
            self._begin(cur, wait)
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)

    @staticmethod
    def _begin(cur: Any, wait: bool) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that later upgrades
        # fails with SQLITE_BUSY at once instead of waiting on busy_timeout.
        if wait:
            cur.execute("BEGIN IMMEDIATE")
            return
        # a writer outside the file lock (another tool on the file) must not make us wait
        cur.execute("PRAGMA busy_timeout=0")
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise WriteBusy(str(exc)) from None
        finally:
            cur.execute("PRAGMA busy_timeout=30000")

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        c = self.conn()
        cur = c.cursor()
        cur.execute("BEGIN")  # deferred: a read snapshot, no write lock
        try:
            yield cur
        finally:
            cur.execute("COMMIT")

    def close(self) -> None:
        super().close()
        with self._lock:
            fds, self._fds = self._fds, []
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass


class PostgresBackend(Backend):
    """PostgreSQL through psycopg 3, autocommit connections with explicit transactions."""

    dialect = "postgresql"
    auto = "BIGSERIAL PRIMARY KEY"
    real = "DOUBLE PRECISION"
    for_update = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def q(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    @contextmanager
    def tx(self) -> Iterator[Cursor]:
        """A transaction on this thread's connection. A connection the server dropped (a restart,
        a failover) is replaced: before BEGIN, or when BEGIN itself fails on it (nothing ran yet,
        so starting again is safe); a failure after BEGIN raises, and the next call reconnects."""
        import psycopg

        with ExitStack() as stack:
            c = self._live()
            try:
                stack.enter_context(c.transaction())
            except psycopg.OperationalError:
                if not c.closed:
                    raise
                c = self._live()
                stack.enter_context(c.transaction())
            cur = stack.enter_context(c.cursor())
            yield _PgCursor(cur, self)

    def _live(self) -> Any:
        """This thread's connection, a new one if the old one is closed or broken."""
        c = self.conn()
        if c.closed:
            with self._lock:
                if c in self._all:
                    self._all.remove(c)
            self._local.conn = None
            c = self.conn()
        return c

    def _lock_for_migration(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(7215001)")


class _PgCursor:
    """Adapts ``?`` placeholders so store code is written once."""

    def __init__(self, cur: Any, backend: PostgresBackend) -> None:
        self._cur = cur
        self._b = backend

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(self._b.q(sql), params)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


#: SQLite's ``synchronous`` levels a store URL may ask for (``sqlite:///j.db?synchronous=FULL``)
SQLITE_SYNC_LEVELS = ("NORMAL", "FULL", "EXTRA")


def backend_for_url(url: str) -> Backend:
    """``sqlite:///relative/or/absolute.db[?synchronous=NORMAL|FULL|EXTRA]``, ``sqlite:///:memory:``
    or ``postgresql://...``. SQLite's default is ``NORMAL`` (see :class:`SqliteBackend`; the
    guarantees of each level are in docs/performance.md)."""
    if url.startswith("sqlite:///"):
        path, _, query = url[len("sqlite:///"):].partition("?")
        level = "NORMAL"
        for part in filter(None, query.split("&")):
            name, _, value = part.partition("=")
            if name != "synchronous" or value.upper() not in SQLITE_SYNC_LEVELS:
                raise ValueError(f"A SQLite store URL takes one option, synchronous={'|'.join(SQLITE_SYNC_LEVELS)}; "
                                 f"got '{part}'.")
            level = value.upper()
        return SqliteBackend(path, synchronous=level)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresBackend(url)
    raise ValueError("A store URL must start with sqlite:/// or postgresql:// .")
