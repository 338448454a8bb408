"""Permit leases on the real limiter actor: a holder that is alive keeps its permit through a
write many leases long (its pool renews the lease), and the permit of a holder whose process died
comes back after about one lease instead of staying out (the kill-a-task case of a bulk run)."""

from __future__ import annotations

import asyncio
import os
import uuid
from typing import Any

import pytest

from pipelines.bulk.limiter import Permits

pytestmark = pytest.mark.e2e


def _die_holding_a_permit(permits: Permits) -> None:
    async def hold() -> None:
        async with permits.slot():
            os._exit(1)  # the worker dies mid-write: nobody gives the permit back or renews it

    asyncio.run(hold())


def test_a_live_holder_keeps_its_permit_and_a_dead_ones_comes_back(ray_session: None) -> None:
    import ray

    permits = Permits.create(f"test-lease-{uuid.uuid4().hex[:8]}", 2, start=2, lease_s=0.5)
    try:
        async def long_write() -> dict[str, Any]:
            async with permits.slot():
                await asyncio.sleep(2.0)  # four leases long
                during = await permits.actor().stats.remote()
            await permits.close()
            return during  # type: ignore[no-any-return]

        during = asyncio.run(long_write())
        assert during["in_use"] == 1 and during["reclaimed"] == 0  # renewed, never counted free

        task = ray.remote(num_cpus=0, max_retries=0)(_die_holding_a_permit)
        with pytest.raises(ray.exceptions.RayError):
            ray.get(task.remote(permits), timeout=120)
        assert ray.get(permits.actor().stats.remote())["in_use"] == 1  # the dead holder's, still out

        async def both() -> None:  # needs the dead holder's permit back
            async with permits.slot(), permits.slot():
                pass
            await permits.close()

        asyncio.run(asyncio.wait_for(both(), timeout=60))
        after = ray.get(permits.actor().stats.remote())
        assert after["reclaimed"] == 1 and after["in_use"] == 0
    finally:
        ray.kill(permits.limiter())
