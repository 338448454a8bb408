"""The adaptive limit on its own (no Ray, no HTTP): growth while latency is flat, halving on an
overload once per burst, the learned ceiling, Retry-After, the maximum; and the refusal of a
multi-node run on SQLite."""

from __future__ import annotations

import asyncio
import time

import pytest

from connectors.errors import ConfigError
from pipelines.bulk import AdaptiveLimit, check_cluster_store


def _ok_writes(limit: AdaptiveLimit, n: int, latency: float = 0.01) -> None:
    async def go() -> None:
        for _ in range(n):
            grant = await limit.acquire()
            await limit.release(grant, latency, "ok")
    asyncio.run(go())


def test_grows_while_latency_is_flat_and_never_above_the_maximum() -> None:
    limit = AdaptiveLimit(6, start=1)
    _ok_writes(limit, 10)
    assert limit.limit > 3
    _ok_writes(limit, 200)
    assert limit.limit == 6


def test_slow_writes_hold_the_limit() -> None:
    limit = AdaptiveLimit(20, start=2)
    _ok_writes(limit, 1, latency=0.01)
    before = limit.limit
    _ok_writes(limit, 50, latency=0.2)  # 20x the baseline: the target is queueing
    assert limit.limit == before


def test_an_overload_halves_once_per_burst_and_sets_the_ceiling() -> None:
    async def go() -> AdaptiveLimit:
        limit = AdaptiveLimit(16, start=8)
        grants = [await limit.acquire() for _ in range(8)]
        for grant in grants:  # eight writes of the same burst all see 503
            await limit.release(grant, 0.01, "overload")
        return limit

    limit = asyncio.run(go())
    assert limit.limit == 4 and limit.halvings == 1 and limit.ceiling == 7
    _ok_writes(limit, 500)
    assert limit.limit == 7  # grows back, never to the level that overloaded the target


def test_retry_after_stops_granting_until_it_passed() -> None:
    async def go() -> float:
        limit = AdaptiveLimit(4, start=4)
        grant = await limit.acquire()
        await limit.release(grant, 0.01, "overload", retry_after_s=0.3)
        started = time.monotonic()
        await limit.acquire()
        return time.monotonic() - started

    assert asyncio.run(go()) >= 0.25


def test_a_permit_whose_holder_died_is_taken_back() -> None:
    async def go() -> AdaptiveLimit:
        limit = AdaptiveLimit(2, start=2, lease_s=0.2)
        lost = [await limit.acquire(), await limit.acquire()]  # both holders die: never released
        late = await asyncio.wait_for(limit.acquire(), timeout=5)  # granted once a lease ran out
        await limit.release(lost[0], 0.01, "ok")  # a late release of a reclaimed permit counts nothing
        await limit.release(late, 0.01, "ok")
        return limit

    limit = asyncio.run(go())
    assert limit.reclaimed == 2 and limit.in_use == 0


def test_a_kept_permit_is_reported_and_asked_back_after_a_halving() -> None:
    async def go() -> tuple[list[dict[str, object]], AdaptiveLimit]:
        limit = AdaptiveLimit(8, start=4)
        grants = [await limit.acquire() for _ in range(4)]
        answers = [await limit.report(grants[0], 0.01, "ok")]  # kept for its next write
        await limit.release(grants[1], 0.01, "overload")  # 4 -> 2: three out, one too many
        answers.append(await limit.report(grants[2], 0.01, "ok"))
        return answers, limit

    (kept, shrink), limit = asyncio.run(go())
    assert kept == {"epoch": 0, "give_back": False, "lost": False}
    assert shrink["give_back"] is True and shrink["epoch"] == 1
    assert limit.in_use == 3  # a report does not give the permit back; only the overload did


def test_the_learned_ceiling_is_below_the_widest_level_the_refused_write_saw() -> None:
    async def go() -> AdaptiveLimit:
        limit = AdaptiveLimit(16, start=4)
        grants = [await limit.acquire() for _ in range(4)]  # four writes out
        for _ in range(3):  # the three others write on, kept, and answer fine: the limit grows past 5
            for grant in grants[1:]:
                await limit.report(grant, 0.01, "ok")
        assert limit.limit >= 5
        await limit.release(grants[0], 0.01, "overload")  # refused with 4 out, not 5
        return limit

    assert asyncio.run(go()).ceiling == 3


def test_a_cluster_with_a_sqlite_store_is_refused() -> None:
    check_cluster_store("sqlite:///data/journal.db", 1)
    check_cluster_store("postgresql://db/bridge", 3)
    with pytest.raises(ConfigError, match="PostgreSQL"):
        check_cluster_store("sqlite:///data/journal.db", 3)


def test_a_withdrawn_acquire_ends_without_a_permit_and_a_granted_one_stays_granted() -> None:
    async def go() -> tuple[AdaptiveLimit, object, object, int]:
        limit = AdaptiveLimit(2, start=2)
        held = [await limit.acquire("a"), await limit.acquire("b")]  # the budget is out
        waiting = asyncio.ensure_future(limit.acquire("c"))
        await asyncio.sleep(0)
        assert not waiting.done()
        ended = limit.withdraw(["a", "c", "unknown"])  # "a" was granted already: untouched
        gone = await asyncio.wait_for(waiting, timeout=5)
        await limit.release(held[0], 0.01, "ok")
        late = await asyncio.wait_for(limit.acquire("d"), timeout=5)  # the freed permit is grantable
        return limit, gone, late, ended

    limit, gone, late, ended = asyncio.run(go())
    assert gone is None and ended == 1
    assert late is not None and limit.in_use == 2  # "b" and "d": the withdrawn ask took nothing


def test_a_renewed_lease_is_kept_and_a_late_renewal_does_not_revive_a_reclaimed_one() -> None:
    async def go() -> tuple[AdaptiveLimit, list[int], list[int]]:
        limit = AdaptiveLimit(2, start=2, lease_s=0.3)
        kept, dead = await limit.acquire(), await limit.acquire()
        for _ in range(6):  # 0.6 s: twice the lease, renewed by its holder every 0.1 s
            await asyncio.sleep(0.1)
            assert limit.renew([kept[1]]) == []
        third = await asyncio.wait_for(limit.acquire(), timeout=5)  # the dead holder's permit came back
        return limit, limit.renew([kept[1], dead[1]]), [third[1]]

    limit, lost, _ = asyncio.run(go())
    assert lost == [2]  # the dead holder's grant: taken back, not revived by a late renewal
    assert limit.reclaimed == 1 and limit.in_use == 2  # the renewed one and the new grant
