"""Running whole flows with the system calls supplied by the caller (the runtime's side)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import TransientError
from pipelines.executor import run_flow
from pipelines.registry import FlowRegistry

pytestmark = pytest.mark.unit

CASES = Path(__file__).resolve().parents[2] / "mappings"


class RecordingOperations:
    """Answers extract calls from a fixed record and records every call, like a tiny target."""

    def __init__(self, record: dict[str, Any], fail_on: str | None = None) -> None:
        self.record = record
        self.fail_on = fail_on
        self.calls: list[tuple[str, str, Any, str | None]] = []

    async def call(
        self, system: str, operation: str, payload: Any, *, mode: str | None, context: Mapping[str, Any]
    ) -> Any:
        self.calls.append((system, operation, payload, mode))
        if operation == self.fail_on:
            raise TransientError(f"{system} is busy", retry_after=2)
        if operation.endswith(".get") or operation.endswith(".read"):
            return self.record
        return {"id": f"{operation}#{len(self.calls)}"}


def order() -> dict[str, Any]:
    record = json.loads((CASES / "ps_order_to_ax_sales_order" / "normal_order.input.json").read_text())[
        "record"
    ]
    record["customer"]["addresses"] = [
        dict(record["address_delivery"], country={"iso_code": "FR"}, deleted="0")
    ]
    return record


async def test_order_flow_extracts_maps_and_loads_in_order() -> None:
    ops = RecordingOperations(dict(order(), current_state="2"))  # payment accepted
    flow = FlowRegistry().get("ps_order_to_ax")
    outcome = await run_flow(flow, {"key": "42", "source": "prestashop", "event": "order.created"}, ops)
    assert outcome.status == "done", outcome.to_dict()
    assert [c[1] for c in ops.calls] == [
        "orders.get",
        "CustomerService.create",
        "SalesOrderService.create",
        "order_histories.create",
    ]
    assert ops.calls[0][2] == {"key": "42", "payload": None, "include": flow.spec.steps[0].include}
    sales_order = ops.calls[2][2]
    assert sales_order["PurchOrderFormNum"] == "XKBKNABJK" and len(sales_order["SalesLine"]) == 3
    assert ops.calls[1][2]["AccountNum"] == sales_order["CustAccount"] == "PS-7"
    assert outcome.results["load-order"] == {"id": "SalesOrderService.create#3"}
    # the write-back moves the paid PrestaShop order on to "Processing in progress"
    assert ops.calls[3][2] == {"id_order": 42, "id_order_state": "3", "id_employee": "0"}


async def test_an_order_awaiting_its_payment_is_not_moved_on() -> None:
    ops = RecordingOperations(order())  # state 10: awaiting bank wire payment
    outcome = await run_flow(FlowRegistry().get("ps_order_to_ax"), {"key": "42"}, ops)
    assert outcome.status == "done", outcome.to_dict()
    assert [c[1] for c in ops.calls] == ["orders.get", "CustomerService.create", "SalesOrderService.create"]
    assert {s["id"]: s["status"] for s in outcome.steps}["write-back"] == "skipped"


async def test_known_customer_is_not_created_again() -> None:
    ops = RecordingOperations(order())
    outcome = await run_flow(
        FlowRegistry().get("ps_order_to_ax"), {"key": "42"}, ops, context={"ax_customer_account": "C000123"}
    )
    assert outcome.status == "done"
    assert "CustomerService.create" not in [c[1] for c in ops.calls]
    assert ops.calls[1][2]["CustAccount"] == "C000123"


async def test_guard_and_errors_stop_before_any_write() -> None:
    canceled = dict(order(), current_state="6")
    ops = RecordingOperations(canceled)
    outcome = await run_flow(FlowRegistry().get("ps_order_to_ax"), {"key": "42"}, ops)
    assert outcome.status == "dropped" and outcome.failed_step == "guard"
    assert [c[1] for c in ops.calls] == ["orders.get"]
    assert {s["status"] for s in outcome.steps[2:]} == {"not_reached"}

    ops = RecordingOperations(dict(order(), country_delivery={"iso_code": "XX"}))
    outcome = await run_flow(FlowRegistry().get("ps_order_to_ax"), {"key": "42"}, ops)
    assert outcome.status == "failed" and outcome.failed_step == "map-order"
    assert outcome.error is not None and outcome.error.disposition == "dead"
    assert [c[1] for c in ops.calls] == ["orders.get"]


async def test_a_transient_error_is_returned_with_its_step() -> None:
    ops = RecordingOperations(order(), fail_on="SalesOrderService.create")
    outcome = await run_flow(FlowRegistry().get("ps_order_to_ax"), {"key": "42"}, ops)
    assert outcome.status == "failed" and outcome.failed_step == "load-order"
    assert isinstance(outcome.error, TransientError) and outcome.error.retry_after == 2
    assert outcome.to_dict()["error"]["type"] == "TransientError"
    assert [s["status"] for s in outcome.steps][-1] == "not_reached"


async def test_stock_flow_sends_a_partial_update() -> None:
    record = json.loads(
        (CASES / "ax_onhand_to_ps_stock" / "available_physical_summed.input.json").read_text()
    )
    ops = RecordingOperations(record["record"])
    outcome = await run_flow(
        FlowRegistry().get("ax_stock_to_ps"), {"key": "A0001", "source": "ax"}, ops, context=record["context"]
    )
    assert outcome.status == "done"
    system, operation, payload, mode = ops.calls[-1]
    assert (system, operation, mode) == ("prestashop", "stock_availables.update", "update")
    assert payload["quantity"] == 16 and payload["id"] == "31"
