"""Test-run of flows on samples: each step's output, no system touched."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from pipelines.registry import DEFAULT_FLOWS_DIR
from pipelines.testrun import run_flow_test

pytestmark = pytest.mark.unit

CASES = Path(__file__).resolve().parents[2] / "mappings"


def order_sample(**changes: Any) -> dict[str, Any]:
    case = json.loads((CASES / "ps_order_to_ax_sales_order" / "normal_order.input.json").read_text())
    record = case["record"]
    record["customer"]["addresses"] = [
        dict(record["address_delivery"], country={"iso_code": "FR"}, deleted="0")
    ]
    record.update(changes)
    return {"record": record, "context": {}, "message": {"source": "prestashop", "event": "order.created"}}


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket during the test-run fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a test-run opened a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {s["id"]: s["status"] for s in result["steps"]}


def test_order_flow_maps_validates_and_skips_system_steps(no_network: None) -> None:
    result = run_flow_test(DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml", order_sample())
    assert result["ok"] and result["outcome"] == "passed"
    assert statuses(result) == {
        "extract": "skipped",
        "guard": "ok",
        "map-customer": "ok",
        "map-order": "ok",
        "map-write-back": "skipped",  # the order still awaits its payment: it stays as it is
        "validate": "ok",
        "load-customer": "skipped",
        "load-order": "skipped",
        "write-back": "skipped",
    }
    order = next(s for s in result["steps"] if s["id"] == "map-order")["output"]
    assert order["PurchOrderFormNum"] == "XKBKNABJK" and order["SalesLine"][2]["LineAmount"] == "86.42"
    assert order["Email"] == "j***@e***.com"  # masked for the console by default


def test_a_paid_order_shows_its_write_back_document() -> None:
    result = run_flow_test(DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml", order_sample(current_state="2"))
    assert result["ok"] and statuses(result)["map-write-back"] == "ok"
    history = next(s for s in result["steps"] if s["id"] == "map-write-back")["output"]
    assert history == {"id_order": 42, "id_order_state": "3", "id_employee": "0"}
    assert statuses(result)["write-back"] == "skipped"  # a test-run never writes


def test_known_customer_skips_the_customer_steps() -> None:
    sample = order_sample()
    sample["context"] = {"ax_customer_account": "C000123"}
    result = run_flow_test(DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml", sample, masked=False)
    assert statuses(result)["map-customer"] == "skipped" and statuses(result)["load-customer"] == "skipped"
    order = next(s for s in result["steps"] if s["id"] == "map-order")["output"]
    assert order["CustAccount"] == "C000123" and order["Email"] == "jane.doe@example.com"


def test_guard_drops_canceled_orders_and_holds_big_ones() -> None:
    dropped = run_flow_test(DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml", order_sample(current_state="6"))
    assert dropped["outcome"] == "dropped" and statuses(dropped)["map-order"] == "not_reached"
    held = run_flow_test(DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml", order_sample(total_paid="25000.000000"))
    guard = next(s for s in held["steps"] if s["id"] == "guard")
    assert held["outcome"] == "held" and "review" in guard["verdict"]["reason"]


def test_mapping_and_validation_failures_stop_the_run() -> None:
    bad = order_sample(country_delivery={"iso_code": "XX"})
    result = run_flow_test(DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml", bad)
    step = next(s for s in result["steps"] if s["id"] == "map-order")
    assert result["outcome"] == "failed" and step["error"]["type"] == "MappingError"
    assert statuses(result)["validate"] == "not_reached"
    empty = order_sample(associations={})
    result = run_flow_test(DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml", empty)
    step = next(s for s in result["steps"] if s["id"] == "validate")
    assert step["status"] == "failed" and "at least one line" in step["error"]["message"]
    assert "orders 'XKBKNABJK'" in step["error"]["message"]


def test_customer_sync_runs_the_direction_of_the_message() -> None:
    case = json.loads((CASES / "ax_customer_to_ps_customer" / "person.input.json").read_text())
    result = run_flow_test(
        DEFAULT_FLOWS_DIR / "customer_sync.yaml",
        {"record": case["record"], "context": case["context"], "message": {"source": "ax"}},
    )
    s = statuses(result)
    assert (
        s["to-ax"] == "skipped"
        and s["to-ps"] == "ok"
        and s["to-ps-address"] == "ok"
        and s["validate"] == "ok"
    )
    assert result["ok"]


def test_every_default_flow_test_runs_on_a_golden_sample() -> None:
    samples = {
        "ax_product_to_ps": ("ax_item_to_ps_product", "released_product", {}),
        "ax_stock_to_ps": ("ax_onhand_to_ps_stock", "available_physical_summed", {}),
        "ax_price_to_ps": ("ax_price_to_ps_price", "base_price_and_agreements", {}),
        "ax_fulfilment_to_ps": (
            "ax_packing_slip_to_ps_order_carrier",
            "tracking_number",
            {"event": "packing_slip.posted"},
        ),
    }
    for flow, (mapping, case, message) in samples.items():
        data = json.loads((CASES / mapping / f"{case}.input.json").read_text())
        sample = {"record": data["record"], "context": data.get("context", {}), "message": message}
        result = run_flow_test(DEFAULT_FLOWS_DIR / f"{flow}.yaml", sample)
        assert result["ok"], (flow, result)
