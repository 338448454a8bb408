"""The dispatcher's re-nudge back-off: a record that stays due after its nudge (its actor busy, or
the nudge lost) is not nudged at every tick, and a record that became due anew (a retry whose
backoff expired) is nudged at the first tick that finds it."""

from __future__ import annotations

import time

import pytest

from runtime.dispatcher import Dispatcher
from runtime.messages import Message, new_message_id
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit


def _msg(key: str) -> Message:
    return Message(id=new_message_id(), entity="order", key=key, source="prestashop", event="order.created",
                   payload={"id": key}, idempotency_key=new_message_id())


async def test_a_record_left_due_is_nudged_once_per_back_off_not_at_every_tick(store_url: str) -> None:
    store = Store(store_url, grace_s=0.0)
    try:
        store.append(_msg("1"))
        store.append(_msg("2"))
        nudged: list[str] = []
        # a long interval: the back-to-back ticks below all fall inside the first back-off
        d = Dispatcher(AsyncStore(store), lambda entity, key, carrier: nudged.append(key), interval_s=5.0)
        sent = [await d.tick() for _ in range(30)]
        assert sent == [2] + [0] * 29 and sorted(nudged) == ["1", "2"]
        # "1" is claimed and fails: it leaves the due set, then its retry comes due at once
        claimed = store.claim_next("order", "1", lease_s=30)
        assert claimed is not None
        assert await d.tick() == 0  # "2" still in its back-off, "1" running
        store.fail(claimed[0].id, claimed[1], {"type": "TransientError", "message": "x"}, retry_at=time.time())
        assert await d.tick() == 1 and nudged[-1] == "1"
    finally:
        store.close()
