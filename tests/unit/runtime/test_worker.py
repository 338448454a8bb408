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
    assert m.status == "dead" and m.last_error["message"] == (
        "No deployed flow handles customer customer.merged (limits.unhandled_events: dead). Deploy a flow for "
        f"customer.merged, then replay the message (presta-ax dlq replay {mid}), or discard it "
        f"(presta-ax dlq discard {mid}).")


async def test_a_message_with_no_flow_is_skipped_and_noted_by_default(setup) -> None:
    store, _, _ = setup
    mid = store.sync.append(Message(id=new_message_id(), entity="order", key="O9", source="prestashop",
                                    event="order.updated", payload={}, idempotency_key="n2"))[0]
    await EntityWorker("order", store, FlowRegistry(), RetryPolicy(), lease_s=30).nudge("O9")
    m = store.sync.get(mid)
    last = store.sync.timeline(mid)[-1]
    assert m.status == "done" and last["kind"] == "skipped_no_flow"
    reason = last["detail"]["reason"]
    # no flow at all for orders: not an echo of ours; a finished message cannot be replayed, so
    # the advice is to re-send the event after deploying a flow, never to replay it
    assert last["detail"]["echo"] is False
    assert reason.startswith("No deployed flow handles order order.updated; it was finished without effect.")
    assert "have the source send the event again" in reason and "replay the message" not in reason


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


async def _noop(ctx: object, message: Message) -> dict[str, str]:
    return {"status": "done"}


def _shop_orders() -> FlowRegistry:
    """Orders handled the way the default flows do: order.created has a flow, order.updated not."""
    registry = FlowRegistry()
    registry.register("order", "order.created", FunctionFlow("ps_order_to_ax", _noop))
    return registry


def _order_updated(key: str) -> Message:
    return Message(id=new_message_id(), entity="order", key=key, source="prestashop", event="order.updated",
                   payload={}, idempotency_key=new_message_id())


async def test_the_shops_echo_of_our_write_back_is_named_so_and_asks_for_nothing(setup) -> None:
    store, _, _ = setup
    mid = store.sync.append(_order_updated("O10"))[0]
    await EntityWorker("order", store, _shop_orders(), RetryPolicy(), lease_s=30).nudge("O10")
    last = store.sync.timeline(mid)[-1]
    assert store.sync.get(mid).status == "done" and last["kind"] == "skipped_no_flow"
    assert last["detail"]["echo"] is True
    assert last["detail"]["reason"] == (
        "The shop's echo of our own write-back: flows handle order events, but no deployed flow handles "
        "order order.updated; it was finished without effect. Nothing to do.")


async def test_a_dead_echo_offers_discard_or_replay_and_replay_works_once_a_flow_exists(setup) -> None:
    store, _, _ = setup
    mid = store.sync.append(_order_updated("O11"))[0]
    await EntityWorker("order", store, _shop_orders(), RetryPolicy(), lease_s=30, unhandled="dead").nudge("O11")
    m = store.sync.get(mid)
    assert m.status == "dead" and m.last_error["message"].startswith("The shop's echo of our own write-back")
    assert f"presta-ax dlq discard {mid}" in m.last_error["message"]
    assert f"presta-ax dlq replay {mid}" in m.last_error["message"]
    # the advice works: deploy a flow for the event, replay, and the message is processed
    registry = _shop_orders()
    registry.register("order", "order.updated", FunctionFlow("order_updates", _noop))
    assert store.sync.replay(mid)
    await EntityWorker("order", store, registry, RetryPolicy(), lease_s=30, unhandled="dead").nudge("O11")
    assert store.sync.get(mid).status == "done" and store.sync.get(mid).flow == "order_updates"


async def test_an_update_of_an_entity_no_flow_handles_is_not_called_an_echo(setup) -> None:
    store, _, _ = setup
    msg = Message(id=new_message_id(), entity="customer", key="C5", source="prestashop", event="customer.updated",
                  payload={}, idempotency_key="c5")
    mid = store.sync.append(msg)[0]
    await EntityWorker("customer", store, _shop_orders(), RetryPolicy(), lease_s=30).nudge("C5")
    reason = store.sync.timeline(mid)[-1]["detail"]["reason"]
    assert "echo" not in reason and reason.startswith("No deployed flow handles customer customer.updated;")


async def test_a_message_claims_its_version_before_its_flow_writes(setup) -> None:
    """A bulk task (another process) holding an older read of the record tries to claim it while
    the real-time flow is writing: it is refused, so its older value cannot land after ours."""
    store, registry, worker = setup
    seen: dict[str, object] = {}

    async def writing(ctx: object, msg: Message) -> dict[str, object]:
        seen["applied_during_write"] = store.sync.get_sync_state("product", msg.key)["source_version"]
        seen["older_claim"] = store.sync.put_sync_state("product", msg.key, source_version="2026-01-01 10:00:01")
        return {"status": "ok"}

    registry.register("product", "product.raced", FunctionFlow("raced", writing))
    m = message("P9", "2026-01-01 10:00:05")
    m.event = "product.raced"
    mid = store.sync.append(m)[0]
    assert await worker.nudge("P9") == 1
    assert [e["kind"] for e in store.sync.timeline(mid)][-1] == "attempt_succeeded"
    assert seen == {"applied_during_write": "2026-01-01 10:00:05", "older_claim": False}
