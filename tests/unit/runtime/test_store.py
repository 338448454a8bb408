"""The store on both backends (SQLite and a real PostgreSQL server)."""

from __future__ import annotations

import threading
import time

import pytest

from runtime.messages import Message, new_message_id
from runtime.store import MIGRATIONS, Store

pytestmark = pytest.mark.unit


def msg(key: str = "1", idem: str | None = None, entity: str = "order", **kw: object) -> Message:
    return Message(id=new_message_id(), entity=entity, key=key, source="prestashop", event="order.created",
                   payload={"id": key, "n": kw.pop("n", 0)}, idempotency_key=idem or new_message_id(), **kw)


@pytest.fixture
def store(store_url: str) -> Store:
    s = Store(store_url, grace_s=0.0)
    yield s
    s.close()


def test_migrations_are_versioned_and_applied_once(store_url: str) -> None:
    a = Store(store_url)
    b = Store(store_url)  # a second open applies nothing again
    assert a.schema_version == b.schema_version == MIGRATIONS[-1][0]
    with a.backend.tx() as cur:
        cur.execute("SELECT COUNT(*) FROM schema_migrations")
        assert cur.fetchone()[0] == len(MIGRATIONS)
    a.close()
    b.close()


def test_append_is_idempotent_on_the_idempotency_key(store: Store) -> None:
    first = msg(idem="hook-1")
    mid, created = store.append(first)
    again, created_again = store.append(msg(idem="hook-1"))
    assert created and not created_again and again == mid
    assert store.counts() == {"order": {"new": 1}}
    stored = store.get(mid)
    assert stored is not None and stored.payload == first.payload and stored.status == "new"
    assert [e["kind"] for e in store.timeline(mid)] == ["received"]


def test_claims_follow_journal_order_one_at_a_time_per_key(store: Store) -> None:
    ids = [store.append(msg("A", n=i))[0] for i in range(3)]
    other = store.append(msg("B"))[0]
    c1 = store.claim_next("order", "A", lease_s=30)
    assert c1 is not None and c1[0].id == ids[0] and c1[0].attempts == 1
    assert store.claim_next("order", "A", lease_s=30) is None  # head still running
    cb = store.claim_next("order", "B", lease_s=30)  # other records proceed
    assert cb is not None and cb[0].id == other
    assert store.complete(ids[0], c1[1])
    c2 = store.claim_next("order", "A", lease_s=30)
    assert c2 is not None and c2[0].id == ids[1]


def test_a_retrying_head_blocks_later_messages_of_its_record(store: Store) -> None:
    first, second = store.append(msg("A"))[0], store.append(msg("A"))[0]
    m, token = store.claim_next("order", "A", 30)
    assert store.fail(first, token, {"type": "TransientError", "message": "down"}, retry_at=time.time() + 60) == "retry"
    assert store.claim_next("order", "A", 30) is None
    assert store.due() == []  # nothing due until the backoff expires
    assert [(e, k) for e, k, _ in store.due(now=time.time() + 61)] == [("order", "A")]
    assert store.get(second).status == "new"  # still waiting behind the retry


def test_expired_lease_makes_a_message_claimable_again_and_the_old_claim_loses(store: Store) -> None:
    mid = store.append(msg("A"))[0]
    _, old_token = store.claim_next("order", "A", lease_s=0.05)
    time.sleep(0.1)
    assert [k for _, k, _ in store.due()] == ["A"]
    m, new_token = store.claim_next("order", "A", lease_s=30)
    assert m.id == mid and m.attempts == 2
    assert not store.complete(mid, old_token)  # the crashed worker's late answer is ignored
    assert store.complete(mid, new_token)
    kinds = [e["kind"] for e in store.timeline(mid)]
    assert kinds == ["received", "attempt_started", "lease_expired", "attempt_started", "attempt_succeeded"]


def test_dead_letter_replay_and_discard(store: Store) -> None:
    mid = store.append(msg("A"))[0]
    _, token = store.claim_next("order", "A", 30)
    assert store.fail(mid, token, {"type": "ValidationError", "message": "bad email"}, retry_at=None) == "dead"
    dead = store.list_messages(status="dead")
    assert [m.id for m in dead] == [mid] and dead[0].last_error["message"] == "bad email"
    assert store.replay(mid)
    again = store.get(mid)
    assert again.status == "new" and again.attempts == 0
    assert not store.replay(mid)  # only dead/discarded messages replay
    _, token = store.claim_next("order", "A", 30)
    store.fail(mid, token, {"type": "ValidationError", "message": "bad"}, retry_at=None)
    assert store.discard(mid, "operator said so")
    assert store.get(mid).status == "discarded"
    kinds = [e["kind"] for e in store.timeline(mid)]
    assert kinds.count("dead") == 2 and "replayed" in kinds and kinds[-1] == "discarded"


def test_filters_by_trace_id_entity_and_key(store: Store) -> None:
    tp = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    a = store.append(msg("A", traceparent=tp))[0]
    store.append(msg("B", entity="customer"))
    assert [m.id for m in store.list_messages(trace_id="ab" * 16)] == [a]
    assert [m.key for m in store.list_messages(entity="customer")] == ["B"]
    assert [m.id for m in store.list_messages(key="A")] == [a]


def test_sync_state_never_moves_the_source_version_backwards(store: Store) -> None:
    assert store.put_sync_state("product", "P1", source_version="2026-01-02 10:00:00", ps_hash="h1")
    assert not store.put_sync_state("product", "P1", source_version="2026-01-01 09:00:00", ps_hash="old")
    assert store.put_sync_state("product", "P1", source_version="2026-01-02 10:00:00", ax_hash="a1")
    st = store.get_sync_state("product", "P1")
    assert st["source_version"] == "2026-01-02 10:00:00" and st["ps_hash"] == "h1" and st["ax_hash"] == "a1"
    assert store.put_sync_state("stock", "S", source_version="9")
    assert store.put_sync_state("stock", "S", source_version="10")  # numeric, not text, order
    assert not store.put_sync_state("stock", "S", source_version="9")


def test_xrefs_cursors_checkpoints_flow_versions_alerts(store: Store) -> None:
    store.put_xref("customer", "12", "C-0001")
    store.put_xref("customer", "13", "C-0001")  # the AX record now pairs with another shop id
    assert store.get_xref("customer", ax_id="C-0001")["ps_id"] == "13"
    assert store.get_xref("customer", ps_id="12") is None
    store.put_cursor("ps:orders", {"cursor": "2026-01-01 00:00:00", "seen": [1, 2]})
    store.put_cursor("ps:orders", {"cursor": "2026-01-01 00:00:01", "seen": [3]})
    assert store.get_cursor("ps:orders") == {"cursor": "2026-01-01 00:00:01", "seen": [3]}
    store.put_checkpoint("run1", "0-99", {"done": True})
    assert store.get_checkpoints("run1") == {"0-99": {"done": True}}
    assert store.record_flow_version("order_to_cash", "v1", "yaml")
    assert not store.record_flow_version("order_to_cash", "v1", "yaml")
    assert [v["version"] for v in store.flow_versions("order_to_cash")] == ["v1"]
    store.add_alert("error", "prestashop", "API key refused")
    assert store.list_alerts()[0]["message"] == "API key refused"


def test_concurrent_appends_from_threads_lose_nothing(store: Store) -> None:
    def work(t: int) -> None:
        for i in range(25):
            store.append(msg(f"K{t}", idem=f"{t}-{i}"))
            store.append(msg(f"K{t}", idem=f"{t}-{i}"))  # duplicate delivery
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.counts()["order"]["new"] == 100


async def test_group_commit_appends_concurrently_and_deduplicates(store_url: str) -> None:
    import asyncio

    from runtime.store import AsyncStore

    astore = AsyncStore(Store(store_url))
    msgs = [msg(f"K{i % 7}", idem=f"g-{i % 150}") for i in range(300)]  # every idempotency key twice
    results = await asyncio.gather(*(astore.append(m) for m in msgs))
    created = [r for r in results if r[1]]
    assert len(created) == 150
    by_key: dict[str, str] = {}
    for m, (mid, _) in zip(msgs, results, strict=True):
        assert by_key.setdefault(m.idempotency_key, mid) == mid  # both deliveries answer the same id
    assert astore.sync.counts() == {"order": {"new": 150}}
    astore.close()


def test_a_lease_has_one_holder_until_it_expires_or_is_released(store: Store) -> None:
    t = 1_000_000.0
    ok, lease = store.acquire_lease("dispatcher", "bridge-a", 15, "bridge A", now=t)
    assert ok and (lease.holder, lease.info, lease.acquired_at, lease.expires_at) == ("bridge-a", "bridge A", t, t + 15)
    # a second holder is refused while the lease runs, and learns who holds it
    ok, lease = store.acquire_lease("dispatcher", "bridge-b", 15, "bridge B", now=t + 5)
    assert not ok and lease.holder == "bridge-a" and lease.info == "bridge A"
    # the holder renews: the expiry moves, the time it was taken stays
    ok, lease = store.acquire_lease("dispatcher", "bridge-a", 15, "bridge A", now=t + 10)
    assert ok and lease.acquired_at == t and lease.renewed_at == t + 10 and lease.expires_at == t + 25
    assert not store.acquire_lease("dispatcher", "bridge-b", 15, now=t + 24)[0]
    # an expired lease goes to whoever asks next; the old holder has lost it
    ok, lease = store.acquire_lease("dispatcher", "bridge-b", 15, "bridge B", now=t + 25)
    assert ok and lease.holder == "bridge-b" and lease.acquired_at == t + 25
    assert not store.acquire_lease("dispatcher", "bridge-a", 15, now=t + 26)[0]
    # other names are independent
    assert store.acquire_lease("other", "bridge-a", 15, now=t + 26)[0]
    # only the holder can release
    assert not store.release_lease("dispatcher", "bridge-a")
    assert store.get_lease("dispatcher").holder == "bridge-b"
    assert store.release_lease("dispatcher", "bridge-b")
    assert store.get_lease("dispatcher") is None
    assert store.acquire_lease("dispatcher", "bridge-a", 15, now=t + 27)[0]


def test_racing_for_a_free_lease_gives_it_to_exactly_one(store_url: str) -> None:
    stores = [Store(store_url) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    won: list[str] = []

    def race(i: int) -> None:
        barrier.wait()
        if stores[i].acquire_lease("dispatcher", f"bridge-{i}", 30)[0]:
            won.append(f"bridge-{i}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(stores))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(won) == 1 and stores[0].get_lease("dispatcher").holder == won[0]
    for s in stores:
        s.close()
