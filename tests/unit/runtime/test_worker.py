"""The entity worker without Ray: journal order, stale versions, error classes, alerts."""

from __future__ import annotations

import asyncio
import random

import pytest

from runtime.flows import FlowRegistry, FunctionFlow
from runtime.messages import Message, new_message_id
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.worker import EntityWorker
from tests import flows_for_tests

pytestmark = pytest.mark.unit


def message(key: str, version: str | None = None, **payload: object) -> Message:
    return Message(id=new_message_id(), entity="product", key=key, source="prestashop", event="product.updated",
                   payload={"id": key, **payload}, idempotency_key=new_message_id(), source_version=version)


@pytest.fixture
def setup(store_url: str):
    store = AsyncStore(Store(store_url, grace_s=0.0))
    registry = FlowRegistry()
    flows_for_tests.register(registry)
    registry.register("customer", "customer.auth", FunctionFlow("auth", flows_for_tests.auth_flow))
    worker = EntityWorker("product", store, registry, RetryPolicy(0.01, 0.02, 3, random.Random(1)), lease_s=30)
    yield store, registry, worker
    store.close()


async def test_stale_versions_are_skipped_and_order_is_kept(setup) -> None:
    store, _, worker = setup
    ids = [store.sync.append(message("P1", v))[0] for v in ("2026-01-01 10:00:02", "2026-01-01 10:00:01",
                                                              "2026-01-01 10:00:03")]
    assert await worker.nudge("P1") == 3
    kinds = [[e["kind"] for e in store.sync.timeline(i)][-1] for i in ids]
    assert kinds == ["attempt_succeeded", "skipped_stale", "attempt_succeeded"]
    _, log = flows_for_tests.read_sink(store.sync)
    assert [v for _, _, v in log] == ["2026-01-01 10:00:02", "2026-01-01 10:00:03"]
    assert store.sync.get_sync_state("product", "P1")["source_version"] == "2026-01-01 10:00:03"


async def test_concurrent_nudges_of_one_record_never_overlap(setup) -> None:
    store, _, worker = setup
    for i in range(20):
        store.sync.append(message("P2", str(i), sleep=0.001))
    ran = await asyncio.gather(*(worker.nudge("P2") for _ in range(5)))
    assert sum(ran) == 20
    _, log = flows_for_tests.read_sink(store.sync)
    assert [int(v) for _, _, v in log] == list(range(20))


async def test_retries_exhaust_into_the_dead_letter_queue(setup) -> None:
    store, _, worker = setup
    mid = store.sync.append(message("P3", fail_times=10))[0]
    for _ in range(3):
        await worker.nudge("P3")
        await asyncio.sleep(0.03)
    m = store.sync.get(mid)
    assert m.status == "dead" and m.attempts == 3 and m.last_error["type"] == "TransientError"


async def test_auth_errors_raise_an_alert_and_keep_the_message(setup) -> None:
    store, registry, _ = setup
    worker = EntityWorker("customer", store, registry, RetryPolicy(0.01, 0.02, 3, random.Random(1)), lease_s=30)
    mid = store.sync.append(Message(id=new_message_id(), entity="customer", key="C1", source="prestashop",
                                    event="customer.auth", payload={}, idempotency_key="a1"))[0]
    await worker.nudge("C1")
    assert store.sync.get(mid).status == "retry"
    alerts = store.sync.list_alerts()
    assert alerts[0]["source"] == "prestashop" and "code 17" in alerts[0]["message"]


async def test_a_message_with_no_flow_is_dead_with_a_clear_reason_when_strict(setup) -> None:
    store, _, worker = setup
    mid = store.sync.append(Message(id=new_message_id(), entity="customer", key="C2", source="prestashop",
                                    event="customer.merged", payload={}, idempotency_key="n1"))[0]
    w = EntityWorker("customer", store, FlowRegistry(), RetryPolicy(), lease_s=30, unhandled="dead")
    await w.nudge("C2")
    m = store.sync.get(mid)
    assert m.status == "dead" and "No flow handles event 'customer.merged'" in m.last_error["message"]


async def test_a_message_with_no_flow_is_skipped_and_noted_by_default(setup) -> None:
    store, _, _ = setup
    mid = store.sync.append(Message(id=new_message_id(), entity="order", key="O9", source="prestashop",
                                    event="order.updated", payload={}, idempotency_key="n2"))[0]
    await EntityWorker("order", store, FlowRegistry(), RetryPolicy(), lease_s=30).nudge("O9")
    m = store.sync.get(mid)
    last = store.sync.timeline(mid)[-1]
    assert m.status == "done" and last["kind"] == "skipped_no_flow"
    assert "No flow handles event 'order.updated'" in last["detail"]["reason"]


async def test_a_slow_flow_keeps_its_lease_so_no_one_else_claims_it(setup) -> None:
    store, registry, _ = setup
    worker = EntityWorker("product", store, registry, RetryPolicy(), lease_s=0.3)
    mid = store.sync.append(message("P9", sleep=1.0))[0]
    task = asyncio.create_task(worker.nudge("P9"))
    await asyncio.sleep(0.7)  # more than twice the lease: only the heartbeat keeps the claim
    assert store.sync.claim_next("product", "P9", lease_s=30) is None
    assert store.sync.due() == []
    assert await task == 1
    assert store.sync.get(mid).status == "done" and store.sync.get(mid).attempts == 1
