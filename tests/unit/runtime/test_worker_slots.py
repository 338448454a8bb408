"""``limits.entity_concurrency``: an entity worker works on at most that many records at once;
the others wait for a slot without claiming (their messages stay ``new``), then all complete."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from runtime.flows import FlowRegistry, FunctionFlow
from runtime.messages import Message, new_message_id
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.worker import EntityWorker


async def test_at_most_the_configured_number_of_records_run_at_once(tmp_path: Path) -> None:
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}", grace_s=0.0))
    running: set[str] = set()
    peak = 0
    release = asyncio.Event()

    async def flow(ctx: Any, msg: Message) -> dict[str, Any]:
        nonlocal peak
        running.add(msg.key)
        peak = max(peak, len(running))
        await release.wait()
        running.discard(msg.key)
        return {"ok": True}

    registry = FlowRegistry()
    registry.register("product", "product.updated", FunctionFlow("slots", flow))
    worker = EntityWorker("product", store, registry, RetryPolicy(0.01, 0.02, 3, random.Random(1)), lease_s=30,
                          concurrency=2)
    keys = [f"P{i}" for i in range(6)]
    for key in keys:
        store.sync.append(Message(id=new_message_id(), entity="product", key=key, source="prestashop",
                                  event="product.updated", payload={"id": key}, idempotency_key=new_message_id()))
    nudges = [asyncio.ensure_future(worker.nudge(key)) for key in keys]
    while len(running) < 2:
        await asyncio.sleep(0.01)
    for _ in range(20):
        await asyncio.sleep(0)  # the other four had every chance to start
    assert len(running) == 2
    statuses = sorted(m.status for m in store.sync.list_messages(entity="product"))
    assert statuses == ["new"] * 4 + ["processing"] * 2  # the waiting ones claimed nothing
    release.set()
    assert await asyncio.gather(*nudges) == [1] * 6
    assert peak == 2
    assert store.sync.counts() == {"product": {"done": 6}}
    store.close()


async def test_repeated_nudges_of_a_waiting_record_coalesce_and_news_is_not_missed(tmp_path: Path) -> None:
    """Under a backlog the dispatcher nudges every waiting record each tick: those nudges return
    at once instead of queueing, and a message that arrives while the record's nudge runs is
    still worked by that nudge."""
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}", grace_s=0.0))
    release = asyncio.Event()
    seen: list[str] = []

    async def flow(ctx: Any, msg: Message) -> dict[str, Any]:
        seen.append(f"{msg.key}:{msg.payload['n']}")
        if msg.key == "A":
            await release.wait()
        return {"ok": True}

    registry = FlowRegistry()
    registry.register("product", "product.updated", FunctionFlow("coalesce", flow))
    worker = EntityWorker("product", store, registry, RetryPolicy(0.01, 0.02, 3, random.Random(1)), lease_s=30,
                          concurrency=1)

    def append(key: str, n: int) -> None:
        store.sync.append(Message(id=new_message_id(), entity="product", key=key, source="prestashop",
                                  event="product.updated", payload={"id": key, "n": n},
                                  idempotency_key=new_message_id()))

    append("A", 1)
    append("B", 1)
    first_a = asyncio.ensure_future(worker.nudge("A"))
    while not seen:
        await asyncio.sleep(0.01)
    first_b = asyncio.ensure_future(worker.nudge("B"))  # waits for the only slot
    await asyncio.sleep(0)
    again = [await worker.nudge(k) for k in ("B", "B", "A", "B")]  # none of them waits
    assert again == [0, 0, 0, 0] and not first_b.done()
    append("A", 2)  # arrives while A's nudge runs: A's own nudge must still work it
    release.set()
    assert await first_a == 2 and await first_b == 1
    assert seen == ["A:1", "A:2", "B:1"]
    assert store.sync.counts() == {"product": {"done": 3}}
    store.close()
