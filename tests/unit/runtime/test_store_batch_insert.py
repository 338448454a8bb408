"""The set-based batch insert (runtime/store/batch_insert.py) writes what the message-by-message
path writes, and hands any batch that is not all new to that path (both backends)."""

from __future__ import annotations

import pytest

from runtime.messages import Message, new_message_id
from runtime.store import Receipt, Store

pytestmark = pytest.mark.unit


def webhook(i: int, *, tag: str = "a", versioned: bool = True) -> tuple[Message, Receipt | None]:
    data = {"id": i, "date_upd": "2026-11-26 10:00:00"} if versioned else {"id": i}
    msg = Message(id=new_message_id(), entity="order", key=str(i), source="prestashop",
                  event="order.updated" if versioned else "order.status_changed", payload=data,
                  idempotency_key=f"prestashop:webhook:{tag}{i}", traceparent=f"00-{i:032x}-{i:016x}-01",
                  source_version=data.get("date_upd"))
    receipt = Receipt(f"{tag}{i}", f"digest-{i}", f"prestashop:order:{i}:2026-11-26 10:00:00") if versioned else None
    return msg, receipt


def journal(store: Store) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Messages, events and receipts as comparable rows (no sequence numbers or write times)."""
    with store.backend.read() as cur:
        cur.execute("SELECT id, entity, key, source, event, payload, idempotency_key, traceparent, received_at, "
                    "source_version, status, attempts, next_attempt_at FROM messages ORDER BY seq")
        messages = [tuple(r) for r in cur.fetchall()]
        cur.execute("SELECT message_id, kind, attempt, detail FROM message_events ORDER BY seq")
        events = [tuple(r) for r in cur.fetchall()]
        cur.execute("SELECT webhook_id, message_id, content FROM webhook_receipts ORDER BY webhook_id")
        receipts = [tuple(r) for r in cur.fetchall()]
    return messages, events, receipts


@pytest.fixture
def stores(store_url: str, tmp_path) -> tuple[Store, Store]:
    """The store under test and a SQLite store written one message at a time, for comparison."""
    a, b = Store(store_url, grace_s=2.0), Store(f"sqlite:///{tmp_path / 'one_by_one.db'}", grace_s=2.0)
    yield a, b
    a.close()
    b.close()


def test_a_batch_of_new_messages_is_journaled_as_one_by_one(stores: tuple[Store, Store]) -> None:
    batched, one_by_one = stores
    pairs = [webhook(i, versioned=i % 3 != 0) for i in range(1, 301)]  # more rows than one statement takes
    msgs, receipts = [m for m, _ in pairs], [r for _, r in pairs]
    assert batched.append_many(msgs, receipts) == [(m.id, True) for m in msgs]
    for m, r in pairs:
        one_by_one.append_many([m], [r])
    assert journal(batched) == journal(one_by_one)
    messages, events, stored_receipts = journal(batched)
    assert len(messages) == len(events) == 300 and len(stored_receipts) == 200
    assert messages[0][6] == "prestashop:order:1:2026-11-26 10:00:00"  # a versioned one: under its change key
    assert messages[2][6] == "prestashop:webhook:a3"
    assert messages[0][12] == pytest.approx(msgs[0].received_at + 2.0)  # due after the grace period


@pytest.mark.parametrize("dup", ["delivery id", "idempotency key", "twice in the batch"])
def test_a_batch_with_a_duplicate_has_the_sequential_outcome_and_nothing_twice(
        stores: tuple[Store, Store], dup: str) -> None:
    batched, one_by_one = stores
    known = [webhook(1), webhook(2, versioned=False)]
    for store in stores:
        store.append_many([m for m, _ in known], [r for _, r in known])
    fresh = [webhook(i, tag="b") for i in range(10, 14)]
    if dup == "delivery id":
        again = webhook(1)  # the same webhook id as the stored message 1, a new message id
    elif dup == "idempotency key":
        again = webhook(2, versioned=False)
    else:
        again = webhook(11, tag="b")
    pairs = [*fresh[:2], again, *fresh[2:]]
    results = batched.append_many([m for m, _ in pairs], [r for _, r in pairs])
    expected = [one_by_one.append_many([m], [r])[0] for m, r in pairs]
    assert results == expected
    assert [created for _, created in results] == [True, True, False, True, True]
    assert journal(batched) == journal(one_by_one)
    assert len(journal(batched)[0]) == 6  # two known + four fresh: the duplicate wrote nothing
