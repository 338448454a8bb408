"""One dispatcher per journal: the start-up check and the dispatcher loop's lease, on both backends."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime.dispatch_lease import (
    DISPATCHER_LEASE,
    BridgeConflict,
    LeaseKeeper,
    is_live,
    take_dispatcher_lease,
)
from runtime.dispatcher import Dispatcher
from runtime.messages import Message, new_message_id
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit


@pytest.fixture
def store(store_url: str) -> Store:
    s = Store(store_url, grace_s=0.0)
    yield s
    s.close()


def test_a_second_bridge_on_the_journal_is_refused_and_told_which_bridge_holds_it(store: Store) -> None:
    take_dispatcher_lease(store, "bridge-a", "the bridge started on host-a by pid 11")
    with pytest.raises(BridgeConflict) as refused:
        take_dispatcher_lease(store, "bridge-b", "the bridge started on host-b by pid 22")
    text = str(refused.value)
    assert "host-a by pid 11" in text and "stop it first" in text and "\n" not in text
    assert store.get_lease(DISPATCHER_LEASE).holder == "bridge-a"
    # the first one stops and releases: the next start takes the lease at once
    assert store.release_lease(DISPATCHER_LEASE, "bridge-a")
    take_dispatcher_lease(store, "bridge-b", "b")
    assert store.get_lease(DISPATCHER_LEASE).holder == "bridge-b"


def test_a_crashed_bridge_is_waited_out_not_a_live_one(store: Store) -> None:
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        time.sleep(s)

    # renewed 1 s ago with a 1.5 s lease: its holder missed its renewal (every 0.5 s), it is gone
    store.acquire_lease(DISPATCHER_LEASE, "crashed", 1.5, "crashed bridge", now=time.time() - 1.0)
    take_dispatcher_lease(store, "new", "new bridge", ttl_s=1.5, sleep=sleep)
    assert store.get_lease(DISPATCHER_LEASE).holder == "new"
    assert len(slept) == 1 and 0.3 < slept[0] < 1.0
    # a holder that renewed just now is alive: refused at once, no waiting
    slept.clear()
    with pytest.raises(BridgeConflict):
        take_dispatcher_lease(store, "third", "third bridge", ttl_s=1.5, sleep=sleep)
    assert slept == []


def test_a_holder_that_missed_a_renewal_is_not_live(store: Store) -> None:
    t = time.time()
    _, lease = store.acquire_lease(DISPATCHER_LEASE, "a", 15, now=t - 2)
    assert is_live(lease, t, 15)  # renewed 2 s ago; it renews every 5 s
    _, lease = store.acquire_lease(DISPATCHER_LEASE, "a", 15, now=t - 8)
    assert not is_live(lease, t, 15)  # missed its renewal at 5 s: killed, though its lease runs to 7 s
    assert not is_live(lease, t + 20, 15)


def _msg(key: str) -> Message:
    return Message(id=new_message_id(), entity="order", key=key, source="prestashop", event="order.created",
                   payload={"id": key}, idempotency_key=new_message_id())


async def _until(predicate, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < end, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_the_dispatcher_is_passive_while_another_holds_the_lease(store: Store) -> None:
    astore = AsyncStore(store)
    store.append(_msg("7"))
    assert store.acquire_lease(DISPATCHER_LEASE, "other", 30, "the other bridge")[0]
    nudged: list[str] = []
    changes: list[bool] = []
    d = Dispatcher(astore, lambda entity, key, carrier: nudged.append(key), interval_s=0.05,
                   lease=LeaseKeeper(astore, "me", "this bridge", ttl_s=1.5), on_lease=changes.append)
    run = asyncio.create_task(d.run())
    await _until(lambda: d.ticks >= 5)
    assert nudged == [] and changes == [] and not d.active  # alive, but nudges nothing
    store.release_lease(DISPATCHER_LEASE, "other")
    await _until(lambda: nudged)
    assert nudged[0] == "7" and changes == [True] and d.active
    assert store.get_lease(DISPATCHER_LEASE).holder == "me"
    d.stop()
    await run
    assert changes == [True, False] and store.get_lease(DISPATCHER_LEASE) is None  # released on stop


async def test_a_dispatcher_that_lost_its_lease_stops_nudging(store: Store) -> None:
    astore = AsyncStore(store)
    store.append(_msg("8"))
    nudged: list[str] = []
    changes: list[bool] = []
    d = Dispatcher(astore, lambda entity, key, carrier: nudged.append(key), interval_s=0.05,
                   lease=LeaseKeeper(astore, "me", "this bridge", ttl_s=0.6), on_lease=changes.append)
    run = asyncio.create_task(d.run())
    await _until(lambda: nudged)
    # another bridge whose clock is later sees the lease expired and takes it over
    assert store.acquire_lease(DISPATCHER_LEASE, "other", 60, "the other bridge", now=time.time() + 5)[0]
    await _until(lambda: changes == [True, False])
    count = len(nudged)
    await asyncio.sleep(0.3)
    assert len(nudged) == count and not d.active
    d.stop()
    await run
    assert store.get_lease(DISPATCHER_LEASE).holder == "other"  # stopping never releases another's lease
