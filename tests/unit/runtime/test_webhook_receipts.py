"""Webhook receipts: a webhook id is claimed in the append's own transaction (both backends)."""

from __future__ import annotations

import asyncio

import pytest

from runtime.messages import Message, new_message_id
from runtime.store import AsyncStore, Receipt, Store

pytestmark = pytest.mark.unit


def change(key: str = "7", date_upd: str = "2026-11-26 10:00:00", wid: str = "evt_1",
           payload: dict | None = None, found_by: str | None = None) -> tuple[Message, Receipt]:
    data = dict(payload or {"id": int(key), "date_upd": date_upd})
    if found_by:
        data["found_by"] = found_by
    msg = Message(id=new_message_id(), entity="customer", key=key, source="prestashop", event="customer.updated",
                  payload=data, idempotency_key=f"prestashop:webhook:{wid}", source_version=date_upd)
    return msg, Receipt(wid, f"digest-of-{wid}-{sorted(data.items())}", f"prestashop:customer:{key}:{date_upd}")


@pytest.fixture
def store(store_url: str) -> Store:
    s = Store(store_url, grace_s=0.0)
    yield s
    s.close()


def test_two_deliveries_of_one_id_in_one_batch_make_one_message(store: Store) -> None:
    (a, ra), (b, rb) = change(), change()
    (id_a, created_a), (id_b, created_b) = store.append_many([a, b], [ra, rb])
    assert created_a and not created_b and id_b == id_a
    assert rb.seen_content == ra.content  # same body: no mismatch to report
    assert store.get(id_a).idempotency_key == "prestashop:customer:7:2026-11-26 10:00:00"
    assert store.counts() == {"customer": {"new": 1}}


def test_a_reused_id_with_another_body_is_a_duplicate_that_shows_its_stored_content(store: Store) -> None:
    first, r1 = change()
    mid, created = store.append_many([first], [r1])[0]
    other, r2 = change(date_upd="2026-11-27 08:00:00")  # a new version under the same webhook id
    assert store.append_many([other], [r2])[0] == (mid, False)
    assert r2.seen_content == r1.content and r2.seen_content != r2.content
    assert store.counts() == {"customer": {"new": 1}}


def test_a_version_the_poller_journaled_is_a_duplicate_for_the_webhook(store: Store) -> None:
    polled = Message(id=new_message_id(), entity="customer", key="7", source="prestashop", event="customer.updated",
                     payload={"id": 7, "date_upd": "2026-11-26 10:00:00", "found_by": "poll"},
                     idempotency_key="prestashop:customer:7:2026-11-26 10:00:00")
    pid, _ = store.append(polled)
    msg, receipt = change()
    assert store.append_many([msg], [receipt])[0] == (pid, False)
    again, r_again = change()  # the same webhook id again: its receipt names the polled message
    assert store.append_many([again], [r_again])[0] == (pid, False)


def test_a_version_another_webhook_brought_is_a_new_delivery_under_its_own_id(store: Store) -> None:
    first, r1 = change(wid="evt_1")
    id1, _ = store.append_many([first], [r1])[0]
    second, r2 = change(wid="evt_2")
    id2, created = store.append_many([second], [r2])[0]
    assert created and id2 != id1
    assert store.get(id2).idempotency_key == "prestashop:webhook:evt_2"


async def test_the_async_store_passes_receipts_through_group_commit(store_url: str) -> None:
    astore = AsyncStore(Store(store_url, grace_s=0.0))
    try:
        pairs = [change() for _ in range(8)]  # eight concurrent deliveries of one webhook id
        results = await asyncio.gather(*(astore.append(m, r) for m, r in pairs))
        assert len({mid for mid, _ in results}) == 1
        assert sum(created for _, created in results) == 1
    finally:
        astore.close()
