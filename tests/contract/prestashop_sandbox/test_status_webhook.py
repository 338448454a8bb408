"""The shop module's order.status_changed event (actionOrderStatusPostUpdate): sent when an
order_history moves an order, with the new and the previous state, after order.updated; not sent
for the state validateOrder gives a new order, and never in the ps_webhooks module's format."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from connectors.prestashop import Client, ClientConfig, change_order_state
from connectors.prestashop.sandbox import run_in_thread
from tests.contract.prestashop_sandbox.conftest import FULL_KEY, make_config
from tests.contract.prestashop_sandbox.test_sandbox_webhooks import (  # noqa: F401 - receiver_port fixture
    SECRET,
    Receiver,
    receiver_port,
    serve,
    wait_for,
)
from tests.contract.runtime_operations.support import place_order

pytestmark = pytest.mark.contract


async def _order_then_cancel(url: str) -> dict[str, object]:
    """Place a paid order (state 11) through the webservice, then post state 6 (Canceled)."""
    async with Client(ClientConfig(base_url=url, api_key=FULL_KEY)) as shop:
        order = await place_order(shop, "status.hook@example.com")
        await change_order_state(shop, int(order["id"]), 6)
        return dict(order)


async def test_a_state_change_sends_order_status_changed_with_both_states(receiver_port: int) -> None:  # noqa: F811 - the imported fixture
    receiver = Receiver()
    server, thread = serve(receiver, receiver_port)
    try:
        config = make_config(seed=4, webhook_url=f"http://127.0.0.1:{receiver_port}/hook",
                             webhook_secret=SecretStr(SECRET), webhook_entities=["orders"])
        with run_in_thread(config) as url:
            order = await _order_then_cancel(url)
            wait_for(lambda: any(e["type"] == "order.status_changed" for e in receiver.events()))
    finally:
        server.should_exit = True
        thread.join(5)
    events = receiver.events()
    # validateOrder's own state (11) is in order.created; the move to 6 comes after order.updated
    assert [e["type"] for e in events] == ["order.created", "order.updated", "order.status_changed"]
    assert events[2]["data"] == {"resource": "orders", "id": int(str(order["id"])), "reference": order["reference"],
                                 "current_state": "6", "previous_state": "11"}


async def test_the_ps_webhooks_format_has_no_status_event(receiver_port: int) -> None:  # noqa: F811 - the imported fixture
    receiver = Receiver()
    server, thread = serve(receiver, receiver_port)
    try:
        config = make_config(seed=4, webhook_url=f"http://127.0.0.1:{receiver_port}/hook",
                             webhook_format="ps_webhooks", webhook_entities=["orders"])
        with run_in_thread(config) as url, httpx.Client(base_url=url, auth=(FULL_KEY, "")) as c:
            await _order_then_cancel(url)
            wait_for(lambda: c.get("/_sandbox/webhooks").json()["pending"] == 0)
    finally:
        server.should_exit = True
        thread.join(5)
    assert [(e["action"], e["entity"]) for e in receiver.events()] == [("add", "Order"), ("update", "Order")]
