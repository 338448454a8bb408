"""Order cancellation on Ray + Serve: a shop order that reached AX and is then cancelled in the
shop (the shop's module sends order.status_changed) cancels its AX sales order; one that AX had
already shipped is not touched in AX, its message is dead-lettered with a readable reason and an
alert is raised. The echoes of the bridge's own write-backs go through the same flow as no-ops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.prestashop import Client, ClientConfig, change_order_state
from runtime.store import Store
from tests.contract.runtime_operations.support import PS_KEY, place_order, sandbox_flow_dir
from tests.e2e.support import wait_until
from tests.e2e.test_order_to_cash import sandboxes  # noqa: F401 - the shared sandboxes fixture

pytestmark = pytest.mark.e2e

LIMITS = {"lease_s": 3, "dispatch_interval_s": 0.3, "poll_interval_s": 0.5,
          "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}}


def _status_changes(store: Store, key: str) -> list[Any]:
    return [m for m in store.list_messages(entity="order", key=key) if m.event == "order.status_changed"]


async def test_shop_cancellation_cancels_the_ax_order_or_dead_letters_after_shipment(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[], limits=LIMITS,
                            flow_dirs=[str(sandbox_flow_dir(tmp_path))])
    store = Store(bridge.settings.store_url())
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax:
        open_order = await place_order(shop, "e2e.cancel.open@example.com")
        shipped_order = await place_order(shop, "e2e.cancel.shipped@example.com")
        keys = [str(open_order["id"]), str(shipped_order["id"])]

        async def both_in_ax() -> bool:
            return all(store.get_xref("order", ps_id=k) is not None for k in keys)
        await wait_until(both_in_ax, timeout_s=45)
        open_id, shipped_id = (store.get_xref("order", ps_id=k)["ax_id"] for k in keys)

        async def written_back() -> bool:  # the order flow moved both to "Processing in progress"
            states = [(await shop.get("orders", int(k)))["current_state"] for k in keys]
            return states == ["3", "3"]
        await wait_until(written_back, timeout_s=30)

        async with httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
            for stage in ("pick", "pack"):
                r = await http.post("/_sandbox/fulfilment/step", json={"sales_id": shipped_id})
                assert r.json()["advanced"] == [{"sales_id": shipped_id, "stage": stage}]
        (slip,) = await ax.read_packing_slips(shipped_id)
        shipped_before = await ax.read_sales_order(shipped_id)
        assert (await ax.read_sales_order(open_id)).sales_status == "Backorder"

        for key in keys:  # the merchant cancels both orders in the shop
            await change_order_state(shop, int(key), 6)

        async def cancelled_in_ax() -> bool:
            order = await ax.read_sales_order(open_id)
            return order is not None and order.sales_status == "Canceled"
        await wait_until(cancelled_in_ax, timeout_s=45)

        async def dead() -> bool:
            return any(m.status == "dead" for m in _status_changes(store, keys[1]))
        await wait_until(dead, timeout_s=45)

        (dead_message,) = [m for m in _status_changes(store, keys[1]) if m.status == "dead"]
        reason = dead_message.last_error["message"]
        assert reason == (f"Shop order {shipped_order['reference']} was cancelled after AX shipped it (AX sales order "
                          f"{shipped_id}, Delivered, packing slip {slip.packing_slip_id}): not cancelled in AX; "
                          "handle the return in AX.")
        assert dead_message.flow == "ps_order_cancel_to_ax"
        shipped_after = await ax.read_sales_order(shipped_id)
        assert shipped_after.sales_status == "Delivered"
        assert shipped_after.document_hash == shipped_before.document_hash  # AX untouched
        alerts = [a for a in store.list_alerts() if dead_message.id in a["message"]]
        assert len(alerts) == 1 and alerts[0]["severity"] == "warning"
        assert "cancelled after AX shipped it" in alerts[0]["message"]

        open_ax = await ax.read_sales_order(open_id)
        assert [line.sales_status for line in open_ax.lines] == ["Canceled"]

    async def settled() -> bool:
        counts = store.counts().get("order", {})
        return not any(counts.get(s) for s in ("new", "processing", "retry"))
    await wait_until(settled, timeout_s=30)
    # every other state change (the echoes of the write-back to "Processing in progress") was a
    # no-op of the cancel flow's guard; the open order's cancellation is done
    open_changes = sorted(_status_changes(store, keys[0]), key=lambda m: m.received_at)
    assert [m.status for m in open_changes] == ["done", "done"]
    details = [store.timeline(m.id)[-1]["detail"] for m in open_changes]
    assert details[0]["status"] == "dropped" and details[0]["step"] == "guard"
    assert details[1]["status"] == "done" and details[1]["results"]["load-cancel"]["canceled"] is True
    assert store.counts()["order"].get("dead", 0) == 1
    store.close()
