"""The review queue on Ray + Serve: the order flow's anomaly guard holds two shop orders (their
currency is not one the flow configures), neither reaches AX; the one released through the
admin API continues its flow from the guard and becomes an AX sales order; the one rejected
ends ``rejected`` with its reason. Both decisions are in the messages' timelines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from runtime.cli import app
from runtime.store import Store
from tests.contract.runtime_operations.support import PS_KEY, place_order, sandbox_flow_dir
from tests.e2e.support import SECRET, TOKEN, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    shop = SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=5,
                         webhook_url=f"http://127.0.0.1:{serve_port}/webhooks/prestashop",
                         webhook_secret=SecretStr(SECRET), webhook_entities=["orders"],
                         webhook_backoff_s=0.2, webhook_backoff_max_s=1.0)
    with run_ps(shop) as ps_url, run_ax(AxSandboxConfig(seed=6, items=5, customers=3, open_orders=0)) as ax_url:
        yield ps_url, ax_url


def _flows_holding_foreign_currencies(root: Path) -> Path:
    """The sandbox flows, with the order flow's anomaly check told the shop sells only USD (the
    sandbox shop's orders are in EUR): every order is held, by the anomaly guard."""
    flows = sandbox_flow_dir(root)
    path = flows / "ps_order_to_ax.yaml"
    text = path.read_text(encoding="utf-8")
    assert "      kind: order\n" in text
    path.write_text(text.replace("      kind: order\n", "      kind: order\n      currencies: [USD]\n"), encoding="utf-8")
    return flows


async def _ax_orders(ax: Any, reference: str) -> list[Any]:
    return [o for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", reference)])
            if o.purch_order_form_num == reference]


def _created(store: Store, key: str) -> Any:
    msgs = [m for m in store.list_messages(entity="order", key=key) if m.event == "order.created"]
    return msgs[0] if msgs else None


async def test_a_held_order_released_reaches_ax_and_a_rejected_one_ends_with_its_reason(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[],
                            flow_dirs=[str(_flows_holding_foreign_currencies(tmp_path))])
    store = Store(bridge.settings.store_url())
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax, \
            httpx.AsyncClient(base_url=bridge.url, timeout=10, headers=auth) as api:
        kept = await place_order(shop, "review.release@example.com")
        refused = await place_order(shop, "review.reject@example.com")
        keys = {str(kept["id"]): "release", str(refused["id"]): "reject"}

        async def both_held() -> bool:
            msgs = [_created(store, k) for k in keys]
            return all(m is not None and m.status == "held" for m in msgs)

        await wait_until(both_held, timeout_s=60)
        items = (await api.get("/api/v1/review")).json()["items"]
        by_key = {i["key"]: i for i in items if i["key"] in keys}
        assert set(by_key) == set(keys)
        for item in by_key.values():
            assert item["status"] == "pending" and item["step"] == "guard" and item["flow"] == "ps_order_to_ax"
            assert item["signal"] == "order_currency" and "EUR" in item["reason"] and "USD" in item["reason"]
        detail = (await api.get(f"/api/v1/review/{by_key[str(kept['id'])]['id']}")).json()
        assert detail["record"]["reference"] == kept["reference"]  # what the reviewer judges
        assert await _ax_orders(ax, kept["reference"]) == [] and await _ax_orders(ax, refused["reference"]) == []

        released = await api.post(f"/api/v1/review/{by_key[str(kept['id'])]['id']}/release", json={"by": "tester"})
        assert released.status_code == 200, released.text
        # the operator's commands reach the same queue through the admin API
        cli = CliRunner()
        listed = cli.invoke(app, ["review", "list", "--url", bridge.url, "--token", TOKEN, "--json"])
        assert listed.exit_code == 0, listed.output
        assert {i["key"] for i in json.loads(listed.output)} == {str(refused["id"])}  # the released one left
        rejected = cli.invoke(app, ["review", "reject", by_key[str(refused["id"])]["id"], "--url", bridge.url,
                                    "--token", TOKEN, "--reason", "Not our customer's currency: cancel in the shop."])
        assert rejected.exit_code == 0, rejected.output
        again = await api.post(f"/api/v1/review/{by_key[str(refused['id'])]['id']}/release", json={})
        assert again.status_code == 409  # decided once, for good

        async def released_done() -> bool:
            m = _created(store, str(kept["id"]))
            return m is not None and m.status == "done"

        await wait_until(released_done, timeout_s=60)
        orders = await _ax_orders(ax, kept["reference"])
        assert len(orders) == 1  # continued from the guard to AX
        kinds = [e["kind"] for e in store.timeline(_created(store, str(kept["id"])).id)]
        assert kinds.index("held") < kinds.index("released") < kinds.index("attempt_succeeded")
        done = [e for e in store.timeline(_created(store, str(kept["id"])).id) if e["kind"] == "attempt_succeeded"][-1]
        assert "guard:ok" in done["detail"]["steps"] and "load-order:ok" in done["detail"]["steps"]

        m = _created(store, str(refused["id"]))
        assert m.status == "rejected"
        rejected_event = [e for e in store.timeline(m.id) if e["kind"] == "rejected"][-1]
        assert rejected_event["detail"]["reason"] == "Not our customer's currency: cancel in the shop."
        assert await _ax_orders(ax, refused["reference"]) == []
    store.close()
