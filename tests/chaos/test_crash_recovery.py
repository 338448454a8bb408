"""Crash recovery: kill the entity actor, and separately the Serve replica, while 500 messages
are in flight; every message ends ``done`` exactly once, checked through the idempotent sink."""

from __future__ import annotations

import asyncio

import pytest
import ray

from runtime.actors import actor_name
from runtime.server import APP_NAME
from runtime.store import Store
from tests.e2e.support import send_all, signed, wait_until
from tests.flows_for_tests import read_sink

pytestmark = pytest.mark.chaos
N = 500


def _assert_exactly_once(store: Store) -> None:
    counts = store.counts()
    assert counts == {"order": {"done": N}}, counts
    effects, _ = read_sink(store)
    assert len(effects) == N  # every message's effect landed, once (keyed by message id)
    with store.backend.tx() as cur:
        cur.execute("SELECT message_id, COUNT(*) FROM message_events WHERE kind = 'attempt_succeeded' "
                    "GROUP BY message_id")
        succeeded = dict(cur.fetchall())
    assert len(succeeded) == N and set(succeeded.values()) == {1}


async def test_killing_the_entity_actor_mid_stream_loses_and_duplicates_nothing(bridge) -> None:
    items = [signed("order.created", {"id": 1000 + i % 50, "n": i, "sleep": 0.005}) for i in range(N)]
    store = Store(bridge.settings.store_url())
    sender = asyncio.create_task(send_all(bridge.url, items, concurrency=16))

    async def some_done() -> bool:
        return store.counts().get("order", {}).get("done", 0) >= 50
    await wait_until(some_done, interval_s=0.05)
    actor = ray.get_actor(actor_name("order"), namespace=bridge.settings.namespace)
    ray.kill(actor, no_restart=False)  # a crash: Ray restarts it, in-flight calls are lost
    assert set(await sender) <= {200, 202}

    async def all_done() -> bool:
        return store.counts().get("order", {}).get("done", 0) == N
    await wait_until(all_done, timeout_s=120)
    _assert_exactly_once(store)
    with store.backend.tx() as cur:
        cur.execute("SELECT COUNT(*) FROM message_events WHERE kind = 'attempt_started'")
        started = cur.fetchone()[0]
    assert started >= N
    store.close()


async def test_killing_the_serve_replica_mid_stream_loses_and_duplicates_nothing(bridge) -> None:
    items = [signed("order.created", {"id": 2000 + i % 50, "n": i}) for i in range(N)]
    store = Store(bridge.settings.store_url())
    sender = asyncio.create_task(send_all(bridge.url, items, concurrency=16, deadline_s=150))

    async def some_received() -> bool:
        return sum(store.counts().get("order", {}).values()) >= 100
    await wait_until(some_received, interval_s=0.05)
    replicas = [a for a in ray.util.list_named_actors(all_namespaces=True)
                if "SERVE_REPLICA" in a["name"] and APP_NAME in a["name"]]
    assert replicas, "no Serve replica found"
    for a in replicas:
        ray.kill(ray.get_actor(a["name"], namespace=a["namespace"]), no_restart=True)  # Serve replaces it
    assert set(await sender) <= {200, 202}

    async def all_done() -> bool:
        return store.counts().get("order", {}).get("done", 0) == N
    await wait_until(all_done, timeout_s=120)
    _assert_exactly_once(store)
    store.close()
