"""The store survives a PostgreSQL restart (found by the chaos campaign, benchmarks/chaos.py): a
store's per-thread connection broken by the server's restart used to fail every later
transaction of that thread for good (the journal of a running bridge stayed unreachable until
the process ended). Now the next transaction reconnects."""

from __future__ import annotations

import pytest

from benchmarks._pg_ctl import PgServer
from runtime.messages import Message, new_message_id
from runtime.store import Store

pytestmark = pytest.mark.chaos


def _message(n: int) -> Message:
    return Message(id=new_message_id(), entity="order", key=str(n), source="prestashop", event="order.created",
                   payload={"id": n}, idempotency_key=f"restart-test-{n}")


def test_a_store_keeps_working_after_postgresql_restarts() -> None:
    pg = PgServer().start()
    try:
        store = Store(pg.create_database("restart"))
        store.append(_message(1))
        assert store.counts() == {"order": {"new": 1}}

        pg.stop()  # immediate: the store's open connection is cut
        with pytest.raises(Exception):  # noqa: B017,PT011 - whatever the driver raises while the server is down
            store.counts()
        pg.start()

        # the first transaction after the restart works: BEGIN on the dead connection reconnects
        store.append(_message(2))
        assert store.counts() == {"order": {"new": 2}}
        store.close()
    finally:
        pg.close()


def test_a_connection_dropped_while_the_server_stays_up_is_replaced_at_the_next_transaction() -> None:
    pg = PgServer().start()
    try:
        store = Store(pg.create_database("dropped"))
        store.append(_message(1))
        pg.stop()
        pg.start()  # back before the store noticed: its connection is dead all the same
        assert store.counts() == {"order": {"new": 1}}
        store.close()
    finally:
        pg.close()
