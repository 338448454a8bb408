"""Order to cash on Ray + Serve: a PrestaShop order placed in the shop sandbox becomes an AX sales
order in the AX sandbox through the bridge (shop webhook -> journal -> entity actor -> YAML flow
-> connectors), with the cross-reference recorded, the write-back done, the shop's echo of that
write-back finished as skipped_echo with nothing written, and no second AX order when the older
webhook is delivered again (skipped_stale)."""

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
from connectors.prestashop import Client, ClientConfig, F
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


async def _ax_orders(ax: Any, reference: str) -> list[Any]:
    return [o for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", reference)])
            if o.purch_order_form_num == reference]


async def test_a_shop_order_becomes_one_ax_sales_order_with_xref_and_write_back(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[],
                            flow_dirs=[str(sandbox_flow_dir(tmp_path))])
    store = Store(bridge.settings.store_url())
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax, \
            httpx.AsyncClient(base_url=ps_url, auth=(PS_KEY, ""), timeout=10) as control, \
            httpx.AsyncClient(base_url=bridge.url, timeout=10) as http:
        # The order is placed with the shop's webhook module paused, then the shop's clock moves on
        # 5 s and the module is switched on again: the bridge's write-back (and so the shop's echo of
        # it) is certainly in a later second than the order's creation (one-second date_upd).
        assert (await control.put("/_sandbox/webhooks", json={"paused": True})).status_code == 200
        order = await place_order(shop, "e2e.buyer@example.com")
        assert (await control.put("/_sandbox/clock", json={"offset_s": 5})).status_code == 200
        assert (await control.put("/_sandbox/webhooks", json={"paused": False})).status_code == 200
        key = str(order["id"])
        created = {k: order[k] for k in ("id", "id_customer", "reference", "date_upd", "current_state")}
        body, headers = signed("order.created", {"resource": "orders", **created}, wid="evt_created_1")
        assert (await http.post("/webhooks/prestashop", content=body, headers=headers)).status_code in (200, 202)

        async def processed(n: int) -> bool:
            msgs = _order_messages(store, key)
            return len(msgs) == n and all(m.status == "done" for m in msgs)

        await wait_until(lambda: processed(1), timeout_s=45)
        (message,) = _order_messages(store, key)
        assert message.flow == "ps_order_to_ax"

        found = await _ax_orders(ax, order["reference"])
        assert len(found) == 1
        sales_order = await ax.read_sales_order(found[0].sales_id)
        assert sales_order is not None and sales_order.purch_order_form_num == order["reference"]
        assert [line.item_id for line in sales_order.lines] == [AX_ITEM]
        assert store.get_xref("order", ps_id=key)["ax_id"] == sales_order.sales_id
        assert store.get_xref("customer", ps_id=str(order["id_customer"]))["ax_id"] == sales_order.cust_account
        written_back = await shop.get("orders", int(key))
        assert written_back["current_state"] == "3"  # the write-back
        assert written_back["date_upd"] > order["date_upd"]
        histories = await shop.list("order_histories", display="full", filters={"id_order": F.eq(int(key))})

        # The shop's echo of that write-back (order.updated, subscribed by ps_order_to_ax and
        # ps_order_cancel_to_ax) maps to what the bridge wrote: skipped_echo, nothing written anywhere.
        def echoes() -> list[Any]:
            return [m for m in store.list_messages(entity="order", key=key) if m.event == "order.updated"]

        async def echo_finished() -> bool:
            return bool(echoes()) and all(m.status == "done" for m in echoes())
        await wait_until(echo_finished, timeout_s=45)
        (echo,) = echoes()  # the webhook and the poller bring one version once
        assert echo.source_version == written_back["date_upd"]
        last = store.timeline(echo.id)[-1]
        assert last["kind"] == "skipped_echo", last
        assert last["detail"]["reason"].startswith("The shop's echo of our own write-back: the mapped content "
                                                   "equals what the bridge wrote at ")
        assert echo.flow == "ps_order_to_ax+ps_order_cancel_to_ax"
        to_ax = last["detail"]["flows"]["ps_order_to_ax"]
        assert "load-order:unchanged" in to_ax["steps"] and "write-back:skipped" in to_ax["steps"]
        assert last["detail"]["flows"]["ps_order_cancel_to_ax"]["status"] == "dropped"
        assert (await ax.read_sales_order(sales_order.sales_id)).document_hash == sales_order.document_hash
        assert len(await _ax_orders(ax, order["reference"])) == 1
        assert await shop.list("order_histories", display="full", filters={"id_order": F.eq(int(key))}) == histories
        assert (await shop.get("orders", int(key)))["date_upd"] == written_back["date_upd"]

        # The older order.created delivered again under a new webhook id (and once more under that
        # id: deduplicated at ingest): the echo's newer date_upd is the version applied, so it is
        # skipped_stale without running the flow, and AX keeps its one sales order.
        body, headers = signed("order.created", {"resource": "orders", **created}, wid="evt_resend_1")
        assert (await http.post("/webhooks/prestashop", content=body, headers=headers)).status_code == 202
        again = await http.post("/webhooks/prestashop", content=body, headers=headers)
        assert again.status_code == 200 and again.json()["duplicate"] is True
        await wait_until(lambda: processed(2), timeout_s=45)
        detail = (await http.get(f"/api/v1/messages/{again.json()['message_id']}", headers=auth)).json()
        assert detail["status"] == "done"
        stale = detail["timeline"][-1]
        assert stale["kind"] == "skipped_stale", stale
        assert (stale["detail"]["version"], stale["detail"]["applied"]) == (order["date_upd"], written_back["date_upd"])
        assert len(await _ax_orders(ax, order["reference"])) == 1
        assert (await ax.read_sales_order(sales_order.sales_id)).document_hash == sales_order.document_hash

    async def settled() -> bool:
        counts = store.counts().get("order", {})
        return not any(counts.get(s) for s in ("new", "processing", "retry"))
    await wait_until(settled, timeout_s=30)
    assert store.counts()["order"].get("dead", 0) == 0
    store.close()
