"""The PrestaShop poller as the safety net, on Ray + Serve with both sandboxes over HTTP: the
shop's webhook module is switched off for a while, the orders placed meanwhile still become AX
sales orders, each exactly once; switched on again, an order found by both the webhook and the
poller is still one message and one AX order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.prestashop import Client, ClientConfig
from runtime.store import Store
from tests.contract.runtime_operations.support import PS_KEY, place_order, sandbox_flow_dir
from tests.e2e.support import wait_until
from tests.e2e.test_order_to_cash import sandboxes  # noqa: F401 - the shared sandboxes fixture

pytestmark = pytest.mark.e2e

# every poll trigger at most 1 s apart (the orders' own every: is 1m)
LIMITS = {"lease_s": 3, "dispatch_interval_s": 0.3, "poll_interval_s": 1.0,
          "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}}


def _created(store: Store, key: str) -> list[Any]:
    return [m for m in store.list_messages(entity="order", key=key) if m.event == "order.created"]


async def _ax_orders(ax: AxClient, reference: str) -> list[Any]:
    return [o for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", reference)])
            if o.purch_order_form_num == reference]


async def test_orders_placed_while_the_webhooks_are_off_still_reach_ax_each_once(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[], limits=LIMITS,
                            flow_dirs=[str(sandbox_flow_dir(tmp_path))])
    store = Store(bridge.settings.store_url())
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax, \
            httpx.AsyncClient(base_url=ps_url, auth=(PS_KEY, ""), timeout=10) as control:
        off = await control.put("/_sandbox/webhooks", json={"paused": True})
        assert off.status_code == 200 and off.json()["paused"] is True
        missed = [await place_order(shop, f"net.buyer{n}@example.com") for n in range(3)]
        status = (await control.get("/_sandbox/webhooks")).json()
        assert status["not_sent"] >= 3 and status["delivered"] == 0  # no webhook reached the bridge

        async def all_in_ax(orders: list[dict[str, Any]]) -> bool:
            for order in orders:
                msgs = _created(store, str(order["id"]))
                if not msgs or any(m.status != "done" for m in msgs) or store.get_xref("order", ps_id=str(order["id"])) is None:
                    return False
            return True

        await wait_until(lambda: all_in_ax(missed), timeout_s=90)
        for order in missed:
            (message,) = _created(store, str(order["id"]))
            assert message.payload["found_by"] == "poll" and message.flow == "ps_order_to_ax"
            assert message.idempotency_key == f"prestashop:order:{order['id']}:{order['date_upd']}"
            (found,) = await _ax_orders(ax, order["reference"])
            assert store.get_xref("order", ps_id=str(order["id"]))["ax_id"] == found.sales_id

        # switched on again: the webhook and the poller both find the next order, one message
        on = await control.put("/_sandbox/webhooks", json={"paused": False})
        assert on.status_code == 200 and on.json()["paused"] is False
        heard = await place_order(shop, "net.buyer.heard@example.com")
        await wait_until(lambda: all_in_ax([heard]), timeout_s=90)

        async def delivered() -> bool:
            return (await control.get("/_sandbox/webhooks")).json()["delivered"] >= 1
        await wait_until(delivered, timeout_s=30)

        async def polled_past(order: dict[str, Any]) -> bool:  # the poller's cursor passed the order
            state = store.get_cursor("ps:orders") or {}
            return str(state.get("cursor", "")) >= str(order["date_upd"])
        await wait_until(lambda: polled_past(heard), timeout_s=30)
        assert len(_created(store, str(heard["id"]))) == 1
        assert len(await _ax_orders(ax, heard["reference"])) == 1
        for order in missed:  # and nothing came twice meanwhile
            assert len(_created(store, str(order["id"]))) == 1
            assert len(await _ax_orders(ax, order["reference"])) == 1
    assert store.counts()["order"].get("dead", 0) == 0
    store.close()
