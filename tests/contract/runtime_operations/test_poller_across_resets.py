"""The AX poller across a reset of the source: the demo rebuilds its AX sandbox from the same
seed on every start, so document numbers and RecVersions come back identical; the journal
survives. The RecId in the idempotency key (never reused by an AOS, and started above the last
life by the sandbox) keeps the second life's documents from colliding with the first's."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from runtime.pollers import AxPoller, PollRoute
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.contract

SLIPS = PollRoute("ax_fulfilment_to_ps", "shipment", "SalesPackingSlipService")
CONFIG = AxSandboxConfig(seed=11, items=4, customers=2, open_orders=1)


async def one_life(store: AsyncStore) -> None:
    """Start the sandbox, poll, pack its order, poll again, stop the sandbox."""
    with run_ax(CONFIG) as url:
        async with AxClient(AxConfig(base_url=url + "/MicrosoftDynamicsAXAif60", port_name="WebShop",
                                     company="DAT")) as ax, httpx.AsyncClient(base_url=url) as http:
            poller = AxPoller(store, ax, [SLIPS])
            await poller.poll()
            for _ in range(2):  # pick, pack
                (await http.post("/_sandbox/fulfilment/step", json={})).raise_for_status()
            assert await poller.poll() == {"SalesPackingSlipService": 1}


async def test_a_packing_slip_of_each_sandbox_life_is_its_own_message(tmp_path: Path) -> None:
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'journal.db'}"))
    try:
        await one_life(store)
        await one_life(store)  # same seed: same PackingSlipId, same RecVersion
        slips = [m for m in await store.list_messages(entity="shipment", limit=100)
                 if m.event == "packing_slip.posted"]
        assert len(slips) == 2
        first, second = sorted(slips, key=lambda m: int(m.payload["rec_id"]))
        assert first.key == second.key and first.payload["rec_version"] == second.payload["rec_version"]
        assert first.payload["rec_id"] != second.payload["rec_id"]
        assert first.idempotency_key != second.idempotency_key
    finally:
        store.close()
