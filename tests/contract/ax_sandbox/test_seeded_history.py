"""The sandbox's seeded data predates the bridge, as a real company's does: a poller's first
``getChangedKeys`` (from about the start) lists none of it, and the automatic fulfilment works
the orders that arrive while it runs, not the seeded ones. RecIds start above the last life's."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import httpx
import pytest

from connectors.dynamics_ax import AxConfig, Client, EntityKey
from connectors.dynamics_ax.sandbox.config import SandboxConfig
from connectors.dynamics_ax.sandbox.model import FIRST_RECID
from connectors.dynamics_ax.sandbox.server import run_in_thread

pytestmark = pytest.mark.contract

CONFIG = SandboxConfig(seed=12, items=4, customers=3, open_orders=2, fulfilment_interval=0.2)
SERVICES = ("customer", "sales_order", "item", "on_hand")


def client(url: str) -> Client:
    return Client(AxConfig(base_url=url + "/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT"))


async def changed_since(ax: Client, entity: str, since: dt.datetime) -> list[str]:
    return [k.value async for page in ax.changed_keys(entity, since) for k in page.keys]


async def test_seeded_documents_are_not_changed_since_the_start_and_stay_open() -> None:
    before = time.time()
    with run_in_thread(CONFIG) as url:
        async with client(url) as ax, httpx.AsyncClient(base_url=url) as http:
            first_poll = dt.datetime.fromtimestamp(before - 120, dt.UTC)  # a poller's first cursor
            for entity in SERVICES:
                assert await changed_since(ax, entity, first_poll) == [], entity
            # they are tracked though: a cursor from the day before lists them
            day_before = dt.datetime.fromtimestamp(before - 36 * 3600, dt.UTC)
            assert len(await changed_since(ax, "sales_order", day_before)) == 2
            seeded = [k async for page in ax.all_keys("sales_order") for k in page.keys]
            await asyncio.sleep(1.0)  # five ticks of the automatic fulfilment
            for key in seeded:
                (order,) = await ax.read("sales_order", [EntityKey.of(SalesId=key.value)])
                assert order.document_status in (None, "None", ""), order
            assert await changed_since(ax, "packing_slip", first_poll) == []
            # a test may still step them by hand
            step = (await http.post("/_sandbox/fulfilment/step", json={})).json()["advanced"]
            assert {s["sales_id"] for s in step} == {k.value for k in seeded}


async def test_each_life_starts_its_recids_above_the_previous_one() -> None:
    lives = []
    for _ in range(2):
        with run_in_thread(SandboxConfig(seed=12, items=2, customers=1, open_orders=0)) as url:
            async with client(url) as ax:
                keys = [k async for page in ax.all_keys("customer") for k in page.keys]
                (customer,) = await ax.read("customer", keys)
                lives.append((keys[0].value, customer.rec_id))
    (first_account, first_recid), (second_account, second_recid) = lives
    assert first_account == second_account  # same seed, same data
    assert FIRST_RECID < first_recid < second_recid
