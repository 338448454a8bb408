"""Journal commits per second at each SQLite ``synchronous`` level, against NORMAL in the same run.

Appends signed-webhook messages (with their receipts, as the ingest path writes them) through
``Store.append_many`` in batches of 1 and 16 into a fresh journal per level, and prints messages/s
and the ratio to ``synchronous=NORMAL`` (the default). What each level guarantees:
docs/performance.md ("Durability levels").

Then, per backend (SQLite ``NORMAL``; PostgreSQL on a throw-away server as tests/pg.py starts it,
skipped when PostgreSQL is not installed): a batch written by ``append_many`` (a batch of new
messages: three multi-row statements, runtime/store/batch_insert.py) against the same batch
written message by message in one transaction (three statements per message, the path before
the set-based insert and still the one for batches with a duplicate), ratio in the same run.

Usage: ``python benchmarks/journal_commit.py [--commits 200] [--stores sqlite,postgresql] [--quick]``
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _batch(size: int, base: int) -> tuple[list, list]:  # type: ignore[type-arg]
    from runtime.messages import Message, new_message_id
    from runtime.store import Receipt

    msgs, receipts = [], []
    for i in range(size):
        data = {"id": base + i, "date_upd": "2026-12-07 10:00:00"}
        msgs.append(Message(id=new_message_id(), entity="order", key=str(base + i), source="prestashop",
                            event="order.created", payload=data, idempotency_key=f"bench:{uuid.uuid4().hex}",
                            source_version=data["date_upd"]))
        receipts.append(Receipt(uuid.uuid4().hex, "c" * 64, f"prestashop:order:{base + i}:{data['date_upd']}"))
    return msgs, receipts


def rate(level: str, size: int, commits: int) -> float:
    from runtime.store import Store

    with tempfile.TemporaryDirectory(prefix="presta-ax-commit-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'journal.db'}?synchronous={level}")
        batches = [_batch(size, n * 1000) for n in range(commits)]
        started = time.perf_counter()
        for msgs, receipts in batches:
            store.append_many(msgs, receipts)
        elapsed = time.perf_counter() - started
        store.close()
    return commits * size / elapsed


def _one_by_one(store: Any, msgs: list, receipts: list) -> None:  # type: ignore[type-arg]
    """The batch in one transaction, three statements per message (Store's sequential path)."""
    now = time.time()
    with store.backend.tx() as cur:
        for m, r in zip(msgs, receipts, strict=True):
            store._insert_with_receipt(cur, m, r, now)


def set_vs_sequential(url_for: Any, size: int, commits: int) -> tuple[float, float]:
    """Messages/s of ``append_many`` and of the message-by-message path, batches of ``size``."""
    from runtime.store import Store

    rates = []
    for write in (lambda s, m, r: s.append_many(m, r), _one_by_one):
        store = Store(url_for())
        batches = [_batch(size, n * 1000) for n in range(commits)]
        started = time.perf_counter()
        for msgs, receipts in batches:
            write(store, msgs, receipts)
        rates.append(commits * size / (time.perf_counter() - started))
        store.close()
    return rates[0], rates[1]


def _pg_urls() -> Any:
    """A context giving a function that makes a fresh database URL, or None without PostgreSQL."""
    import contextlib

    from tests.pg import _bindir, postgres_server

    try:
        _bindir()
    except RuntimeError as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return contextlib.nullcontext(None)

    @contextlib.contextmanager
    def urls() -> Any:
        import psycopg

        with postgres_server() as admin:
            def fresh() -> str:
                name = "bench_" + uuid.uuid4().hex[:10]
                with psycopg.connect(admin, autocommit=True) as c:
                    c.execute(f'CREATE DATABASE "{name}"')
                return str(admin.rsplit("/", 1)[0] + "/" + name)
            yield fresh
    return urls()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, default=200, help="transactions per level and batch size")
    ap.add_argument("--stores", default="sqlite,postgresql", help="backends of the set-based comparison")
    ap.add_argument("--quick", action="store_true", help="50 transactions each")
    args = ap.parse_args()
    if args.quick:
        args.commits = 50
    stores = args.stores.split(",")
    for size in (1, 16):
        base = rate("NORMAL", size, args.commits)
        print(f"batch {size:>2}: synchronous=NORMAL {base:9.0f} messages/s (baseline)")
        for level in ("FULL", "EXTRA"):
            r = rate(level, size, args.commits)
            print(f"batch {size:>2}: synchronous={level:<6} {r:9.0f} messages/s  ratio {r / base:.2f}")
    tmp = Path(tempfile.mkdtemp(prefix="presta-ax-commit-"))
    backends: list[tuple[str, Any]] = []
    if "sqlite" in stores:
        backends.append(("sqlite", contextlib.nullcontext(lambda: f"sqlite:///{tmp / uuid.uuid4().hex}.db")))
    if "postgresql" in stores:
        backends.append(("postgresql", _pg_urls()))
    for name, ctx in backends:
        with ctx as url_for:
            if url_for is None:
                continue
            for size in (16, 64):
                batched, sequential = set_vs_sequential(url_for, size, args.commits)
                print(f"{name:10s} batch {size:>2}: set-based {batched:8.0f} messages/s, one by one {sequential:8.0f}"
                      f"  ratio {batched / sequential:.2f}")
                if size == 16:
                    print(f"journal_set_ratio_{name}: {batched / sequential:.2f}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
