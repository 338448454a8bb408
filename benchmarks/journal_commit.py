"""Journal commits per second at each SQLite ``synchronous`` level, against NORMAL in the same run.

Appends signed-webhook messages (with their receipts, as the ingest path writes them) through
``Store.append_many`` in batches of 1 and 16 into a fresh journal per level, and prints messages/s
and the ratio to ``synchronous=NORMAL`` (the default). What each level guarantees:
docs/performance.md ("Durability levels").

Usage: ``python benchmarks/journal_commit.py [--commits 200]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commits", type=int, default=200, help="transactions per level and batch size")
    args = ap.parse_args()
    for size in (1, 16):
        base = rate("NORMAL", size, args.commits)
        print(f"batch {size:>2}: synchronous=NORMAL {base:9.0f} messages/s (baseline)")
        for level in ("FULL", "EXTRA"):
            r = rate(level, size, args.commits)
            print(f"batch {size:>2}: synchronous={level:<6} {r:9.0f} messages/s  ratio {r / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
