"""``presta-ax demo`` wiring: the settings point at the sandboxes, the adapted flows load, the
shop gets products for AX items, and an order for one of them goes through the order flow."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connectors.dynamics_ax.query import eq
from connectors.prestashop import F
from pipelines.operations import SystemOperations
from pipelines.registry import FlowRegistry as YamlRegistry
from runtime.config import Settings
from runtime.demo import configure_demo
from runtime.messages import Message
from runtime.yaml_flows import YamlFlow
from tests.contract.runtime_operations.support import PS_KEY, place_order

pytestmark = pytest.mark.contract


def test_configure_demo_points_the_settings_at_the_sandboxes(ps_url: str, ax_url: str, tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "prestashop-key").write_text(PS_KEY)
    settings = Settings.model_validate({"data_dir": str(tmp_path)})
    lines = configure_demo(settings, ps_port=urlsplit(ps_url).port, ax_port=urlsplit(ax_url).port, items=2)
    assert "A0001..A0002" in lines[1]
    assert settings.systems.prestashop.base_url == ps_url + "/api/"
    assert settings.systems.ax.endpoint == ax_url + "/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc"
    assert settings.flow_dirs == [tmp_path / "demo" / "flows"]
    assert settings.limits.poll_interval_s == 5.0  # the demo AX fulfils orders by itself: poll often
    flows = YamlRegistry(list(settings.flow_dirs))
    assert flows.get("ps_order_to_ax").mappings["ps_order_to_ax_sales_order"].params["default_warehouse"] == "11"
    configure_demo(settings, ps_port=urlsplit(ps_url).port, ax_port=urlsplit(ax_url).port, items=2)  # again: no dupes
    assert len(settings.flow_dirs) == 1


async def test_an_order_for_a_linked_item_reaches_ax_with_the_demo_settings(ps_url, ax_url, tmp_path, shop, ax) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "prestashop-key").write_text(PS_KEY)
    settings = Settings.model_validate({"data_dir": str(tmp_path)})
    # configure_demo runs its own event loop (it is called by the CLI before Ray starts)
    await asyncio.to_thread(configure_demo, settings, ps_port=urlsplit(ps_url).port,
                            ax_port=urlsplit(ax_url).port, items=2)
    assert len(await shop.list("products", display=["id"], filters={"reference": F.eq("A0002")})) == 1
    order = await place_order(shop, "demo.buyer@example.com", reference="A0002")
    ops = SystemOperations.from_settings(settings)
    try:
        flow = YamlFlow(YamlRegistry(list(settings.flow_dirs)).get("ps_order_to_ax"), ops)
        detail = await flow.run(None, Message(id="DEMO-1", entity="order", key=str(order["id"]), source="prestashop",
                                              event="order.created", payload={"id": order["id"],
                                                                              "id_customer": order["id_customer"]},
                                              idempotency_key="demo-1"))
    finally:
        await ops.aclose()
    assert detail["status"] == "done"
    found = await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", order["reference"])])
    assert [o.sales_id for o in found] == [detail["results"]["load-order"]["SalesId"]]
