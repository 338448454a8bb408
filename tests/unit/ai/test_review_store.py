"""The review queue in the store (SQLite and PostgreSQL): hold, list, release (with edits),
reject, decisions taken once, the timeline; the guard statistics round trip."""

from __future__ import annotations

import pytest

from runtime.messages import Message, new_message_id
from runtime.store import Store

pytestmark = pytest.mark.unit


@pytest.fixture
def store(store_url: str) -> Store:
    s = Store(store_url, grace_s=0.0)
    yield s
    s.close()


def _held(store: Store, key: str) -> tuple[str, str]:
    m = Message(id=new_message_id(), entity="order", key=key, source="prestashop", event="order.created",
                payload={"id": key}, idempotency_key=f"k-{key}")
    store.append(m)
    claimed, token = store.claim_next("order", key, 30)
    detail = {"status": "held", "step": "guard", "reason": "Currency JPY is not one of the shop's currencies (EUR).",
              "held_flow": "ps_order_to_ax", "review": {"input": {"id": key, "total_paid": "10.00"},
                                                         "score": 1.0, "signal": "order_currency"}}
    rid = store.hold(claimed.id, token, flow="ps_order_to_ax", detail=detail)
    assert rid is not None
    return claimed.id, rid


def test_a_hold_parks_the_message_and_queues_the_record(store: Store) -> None:
    mid, rid = _held(store, "1")
    assert store.get(mid).status == "held"
    assert store.claim_next("order", "1", 30) is None  # nobody takes a held message
    [item] = store.list_reviews()
    assert (item["id"], item["status"], item["flow"], item["step"], item["signal"]) == \
        (rid, "pending", "ps_order_to_ax", "guard", "order_currency")
    assert item["snapshot"] == {"id": "1", "total_paid": "10.00"}
    held = [e for e in store.timeline(mid) if e["kind"] == "held"]
    assert held and held[0]["detail"]["review_id"] == rid and "review" not in held[0]["detail"]


def test_release_with_edits_makes_the_message_due_and_is_taken_once(store: Store) -> None:
    mid, rid = _held(store, "2")
    item = store.release_review(rid, edit={"total_paid": "12.00"}, by="ops")
    assert item is not None and item["status"] == "released" and item["edit"] == {"total_paid": "12.00"}
    assert store.get(mid).status == "new" and store.claim_next("order", "2", 30) is not None
    assert store.released_review(mid)["edit"] == {"total_paid": "12.00"}
    assert store.release_review(rid) is None and store.reject_review(rid, "late") is None
    released = [e for e in store.timeline(mid) if e["kind"] == "released"][0]["detail"]
    assert released == {"review_id": rid, "by": "ops", "edited": ["total_paid"]}  # names, never values
    with pytest.raises(ValueError, match="edit"):
        store.release_review(rid, edit=["not", "an", "object"])  # type: ignore[arg-type]


def test_reject_ends_the_message_with_its_reason(store: Store) -> None:
    mid, rid = _held(store, "3")
    with pytest.raises(ValueError, match="reason"):
        store.reject_review(rid, "  ")
    item = store.reject_review(rid, "A test order, cancelled in the shop.")
    assert item is not None and item["decision"] == "A test order, cancelled in the shop."
    assert store.get(mid).status == "rejected"
    assert [e["detail"]["reason"] for e in store.timeline(mid) if e["kind"] == "rejected"] == \
        ["A test order, cancelled in the shop."]
    assert store.list_reviews() == [] and [i["id"] for i in store.list_reviews("rejected")] == [rid]


def test_guard_statistics_round_trip(store: Store) -> None:
    assert store.guard_stats_load(["p:A"]) == {}
    store.guard_stats_save({"p:A": {"w": [1.0, 2.0], "s": [1.0, 2.0], "last": 2.0}, "shop": {"n": 1, "cur": {}}})
    store.guard_stats_save({"p:A": {"w": [3.0], "s": [3.0], "last": 3.0}})
    assert store.guard_stats_load(["p:A", "shop", "nope"]) == {"p:A": {"w": [3.0], "s": [3.0], "last": 3.0},
                                                               "shop": {"n": 1, "cur": {}}}
