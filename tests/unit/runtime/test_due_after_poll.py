"""A webhook's message waits for its ingest nudge (grace); a poller's is due at once (no nudge follows)."""

from __future__ import annotations

import time

import pytest

from runtime.messages import Message, new_message_id
from runtime.store import Store

pytestmark = pytest.mark.unit


def test_a_message_with_next_attempt_at_is_due_at_once_others_after_the_grace(store_url: str) -> None:
    store = Store(store_url, grace_s=30.0)
    try:
        now = time.time()
        webhook = Message(id=new_message_id(), entity="order", key="1", source="prestashop", event="order.created",
                          payload={"id": 1}, idempotency_key="w1", received_at=now)
        polled = Message(id=new_message_id(), entity="shipment", key="PS-1", source="ax",
                         event="packing_slip.posted", payload={}, idempotency_key="p1", received_at=now,
                         next_attempt_at=now)
        store.append_many([webhook, polled])
        assert store.due(now=now + 1) == [("shipment", "PS-1", None)]
        assert {k for _, k, _ in store.due(now=now + 31)} == {"1", "PS-1"}
    finally:
        store.close()
