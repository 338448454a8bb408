"""A restarted demo fulfils a new order (issue 8, item 1), and a second bridge on a journal that a
running bridge uses is refused before it deploys anything (item 3).

The demo rebuilds both sandboxes from their seed at each start, so the shop and AX re-use the
same ids and numbers in every life; the demo therefore starts its own journal anew with them
(:func:`runtime.demo.fresh_demo_store`). Here two lives run back to back on one data folder, each
with freshly seeded sandboxes, the journal wiped the way ``presta-ax demo`` wipes it, and a bridge
on the session's Ray; in each, a shop order must come back from AX with its tracking number.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import Client, ClientConfig, F
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from runtime.config import Settings
from runtime.demo import DEMO_WEBHOOK_ENTITIES, fresh_demo_store
from runtime.dispatch_lease import BridgeConflict
from runtime.server import start_bridge, stop_bridge
from runtime.store import Store
from tests.contract.runtime_operations.support import PS_KEY, place_order, sandbox_flow_dir
from tests.e2e.support import SECRET, TOKEN, wait_until

pytestmark = pytest.mark.e2e

LIMITS = {"lease_s": 3, "dispatch_interval_s": 0.3, "poll_interval_s": 0.5,
          "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}}


@contextmanager
def seeded_sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    """Both sandboxes rebuilt from the same seed, as every demo start does."""
    shop = SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=3,
                         webhook_url=f"http://127.0.0.1:{serve_port}/webhooks/prestashop",
                         webhook_secret=SecretStr(SECRET), webhook_entities=DEMO_WEBHOOK_ENTITIES,
                         webhook_backoff_s=0.2, webhook_backoff_max_s=1.0)
    with run_ps(shop) as ps_url, run_ax(AxSandboxConfig(seed=4, items=5, customers=3, open_orders=1)) as ax_url:
        yield ps_url, ax_url


def demo_settings(data_dir: Path, serve_port: int, ps_url: str, ax_url: str, flows: Path) -> Settings:
    return Settings.model_validate({
        "data_dir": str(data_dir), "namespace": f"t-{uuid.uuid4().hex[:8]}",
        "store": {"url": fresh_demo_store(data_dir)},  # what `presta-ax demo` does at each start
        "server": {"port": serve_port, "webhook_secrets": [SECRET], "admin_token": TOKEN},
        "systems": {"prestashop": {"base_url": ps_url, "api_key": PS_KEY},
                    "ax": {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop",
                           "company": "DAT"}},
        "flow_dirs": [str(flows)], "limits": LIMITS,
    })


async def one_life(settings: Settings, ps_url: str, ax_url: str, life: int) -> dict[str, Any]:
    """Start the bridge on a fresh demo journal, place an order, pack it in AX and wait for its
    tracking number in the shop; returns what happened."""
    store = Store(settings.store_url())
    assert store.counts() == {} and store.list_xrefs() == []  # the journal starts anew
    assert store.get_cursor("ax:SalesPackingSlipService") is None
    bridge = start_bridge(settings, start_serve=False)
    try:
        if life == 1:
            # a second bridge on this journal is refused before it deploys anything
            other = settings.model_copy(update={"namespace": f"t-{uuid.uuid4().hex[:8]}"})
            with pytest.raises(BridgeConflict, match="Another bridge already dispatches from this journal"):
                start_bridge(other, start_serve=False)
        async with Client(ClientConfig(base_url=ps_url, api_key=PS_KEY)) as shop:
            order = await place_order(shop, f"restart.{life}@example.com")
            oid = int(order["id"])

            async def in_ax() -> bool:
                return store.get_xref("order", ps_id=str(oid)) is not None
            await wait_until(in_ax, timeout_s=40)
            sales_id = store.get_xref("order", ps_id=str(oid))["ax_id"]
            async with httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
                for stage in ("pick", "pack"):
                    r = await http.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id})
                    assert r.json()["advanced"] == [{"sales_id": sales_id, "stage": stage}]

            async def tracked() -> bool:
                carriers = await shop.list("order_carriers", display="full", filters={"id_order": F.eq(oid)})
                return bool(carriers and carriers[0]["tracking_number"])
            await wait_until(tracked, timeout_s=40)
        return {"order": oid, "reference": order["reference"], "sales_id": sales_id}
    finally:
        stop_bridge(bridge)
        store.close()


async def test_a_restarted_demo_fulfils_a_new_order(serve_port: int, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    flows = sandbox_flow_dir(tmp_path / "demo")
    lives = []
    for life in (1, 2):
        with seeded_sandboxes(serve_port) as (ps_url, ax_url):
            settings = demo_settings(data_dir, serve_port, ps_url, ax_url, flows)
            lives.append(await one_life(settings, ps_url, ax_url, life))
    # the rebuilt sandboxes gave the second life's order the same ids as the first's: exactly the
    # case a journal kept across lives would mistake for the old order
    assert (lives[1]["order"], lives[1]["reference"]) == (lives[0]["order"], lives[0]["reference"])
