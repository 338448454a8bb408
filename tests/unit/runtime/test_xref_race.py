"""Two processes pairing the same AX id with different shop ids at the same moment (an order's
customer and the customer flow) on PostgreSQL: neither fails, and one pairing is left."""

from __future__ import annotations

import threading

import pytest

from runtime.store import Store

pytestmark = pytest.mark.unit


def test_concurrent_pairings_of_one_ax_id_both_succeed(pg_database: str) -> None:
    stores = [Store(pg_database), Store(pg_database)]  # two connections, as two actors have
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def pair(store: Store, ps_id: str) -> None:
        try:
            for i in range(60):
                if i % 10 == 0:
                    start.wait(10)
                store.put_xref("customer", f"{ps_id}-{i}", f"CUST-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=pair, args=(s, p)) for s, p in zip(stores, ("a", "b"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for i in range(60):
        row = stores[0].get_xref("customer", ax_id=f"CUST-{i}")
        assert row is not None and row["ps_id"] in (f"a-{i}", f"b-{i}")
    for s in stores:
        s.close()
