"""Order to cash on Ray + Serve: a PrestaShop order placed in the shop sandbox becomes an AX sales
order in the AX sandbox through the bridge (shop webhook -> journal -> entity actor -> YAML flow
-> connectors), with the cross-reference recorded, the write-back done, and no second AX order
when the webhook is delivered again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from runtime.store import Store
from tests.contract.runtime_operations.support import AX_ITEM, PS_KEY, place_order, sandbox_flow_dir
from tests.e2e.support import SECRET, TOKEN, signed, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    """The shop (its webhooks signed with the e2e secret, sent to the bridge) and AX."""
    shop = SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=3,
                         webhook_url=f"http://127.0.0.1:{serve_port}/webhooks/prestashop",
                         webhook_secret=SecretStr(SECRET), webhook_entities=["orders"],
                         webhook_backoff_s=0.2, webhook_backoff_max_s=1.0)
    with run_ps(shop) as ps_url, run_ax(AxSandboxConfig(seed=4, items=5, customers=3, open_orders=1)) as ax_url:
        yield ps_url, ax_url


def _order_messages(store: Store, key: str) -> list[Any]:
    return [m for m in store.list_messages(entity="order", key=key) if m.event == "order.created"]


async def test_a_shop_order_becomes_one_ax_sales_order_with_xref_and_write_back(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[],
                            flow_dirs=[str(sandbox_flow_dir(tmp_path))])
    store = Store(bridge.settings.store_url())
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax:
        order = await place_order(shop, "e2e.buyer@example.com")  # the shop sends order.created
        key = str(order["id"])

        async def processed(n: int) -> bool:
            msgs = _order_messages(store, key)
            return len(msgs) == n and all(m.status == "done" for m in msgs)

        await wait_until(lambda: processed(1), timeout_s=45)
        (message,) = _order_messages(store, key)
        assert message.flow == "ps_order_to_ax"

        found = [o for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", order["reference"])])
                 if o.purch_order_form_num == order["reference"]]
        assert len(found) == 1
        sales_order = await ax.read_sales_order(found[0].sales_id)
        assert sales_order is not None and sales_order.purch_order_form_num == order["reference"]
        assert [line.item_id for line in sales_order.lines] == [AX_ITEM]
        assert store.get_xref("order", ps_id=key)["ax_id"] == sales_order.sales_id
        assert store.get_xref("customer", ps_id=str(order["id_customer"]))["ax_id"] == sales_order.cust_account
        assert (await shop.get("orders", int(key)))["current_state"] == "3"  # the write-back

        # the same event again: once under its first id (deduplicated at ingest) and once under a
        # new id (a second delivery); the flow runs again and finds the AX order it made
        body, headers = signed("order.created", {k: order[k] for k in ("id", "id_customer", "reference", "date_upd")},
                               wid="evt_resend_1")
        async with httpx.AsyncClient(base_url=bridge.url, timeout=10) as http:
            assert (await http.post("/webhooks/prestashop", content=body, headers=headers)).status_code == 202
            again = await http.post("/webhooks/prestashop", content=body, headers=headers)
            assert again.status_code == 200 and again.json()["duplicate"] is True
            await wait_until(lambda: processed(2), timeout_s=45)
            detail = (await http.get(f"/api/v1/messages/{again.json()['message_id']}",
                                     headers={"Authorization": f"Bearer {TOKEN}"})).json()
        assert detail["status"] == "done"
        results = detail["timeline"][-1]["detail"]["results"]
        assert results["load-order"] == {"SalesId": sales_order.sales_id, "PurchOrderFormNum": order["reference"],
                                         "existed": True}
        again_found = [o for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum",
                                                                   order["reference"])])
                       if o.purch_order_form_num == order["reference"]]
        assert len(again_found) == 1

    async def settled() -> bool:
        counts = store.counts().get("order", {})
        return not any(counts.get(s) for s in ("new", "processing", "retry"))
    await wait_until(settled, timeout_s=30)
    # the shop's own echo of the write-back (order.updated, no flow subscribed) is not a failure
    assert store.counts()["order"].get("dead", 0) == 0
    echoes = [m for m in store.list_messages(entity="order") if m.event == "order.updated"]
    assert echoes and all(m.status == "done" for m in echoes)
    assert store.timeline(echoes[0].id)[-1]["kind"] == "skipped_no_flow"
    store.close()
