"""Every fault class of the table, provoked on the AX sandbox over real HTTP."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.dynamics_ax import AuthConfig, Client, EntityKey, NewCustomer, NewSalesLine, NewSalesOrder
from connectors.dynamics_ax.documents import key_list
from connectors.dynamics_ax.sandbox.config import SandboxConfig
from connectors.dynamics_ax.sandbox.server import free_port, run_in_thread
from connectors.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    PermanentError,
    TransientError,
    ValidationError,
)

pytestmark = pytest.mark.contract


def one_line_order(ref: str, account: str, lines: int = 1) -> NewSalesOrder:
    return NewSalesOrder(cust_account=account, shop_reference=ref, currency="EUR",
                         requested_receipt_date=dt.date(2026, 12, 1),
                         lines=[NewSalesLine(item_id="A0001", qty=Decimal(1), unit="ea", name="x" * 200)
                                for _ in range(lines)])


async def test_unknown_key_is_not_found(ax):
    with pytest.raises(NotFoundError, match="No valid document identified from the entity key"):
        await ax.read("sales_order", [EntityKey.of(SalesId="SO-999999")])


async def test_business_fault_lists_every_message(ax):
    with pytest.raises(ValidationError) as info:
        await ax.create_sales_order(one_line_order("WEB-F-0001", "C-NOPE"), idempotency_key="f1")
    assert "Customer account C-NOPE does not exist." in info.value.message
    assert "SalesOrderService.create in company DAT" in info.value.message
    assert info.value.code == "business"


async def test_schema_fault_is_validation(ax):
    too_long = NewCustomer(cust_group="WEB", currency="EUR", last_name="Lee", vat_num="V" * 30)
    with pytest.raises(ValidationError) as info:
        await ax.create_customer(too_long, idempotency_key="f2")
    assert info.value.code == "schema" and "Invalid document schema" in info.value.message


async def test_stale_document_hash_is_hash_mismatch(ax):
    account = (await ax.service("customer").get_keys(page_size=1)).keys[0].value
    created = await ax.create_sales_order(one_line_order("WEB-F-0002", account), idempotency_key="f3")
    key = EntityKey.of(SalesId=created.key)
    svc = ax.service("sales_order")
    stale = (await svc.read([key]))[0]["_DocumentHash"]
    await svc.update(key, {"DlvMode": "UPS"}, idempotency_key="f3:u1")  # someone else changes it
    document = svc._document([{"action": "update", "_DocumentHash": stale, "SalesId": created.key,
                               "PurchOrderFormNum": "WEB-F-0002", "ReceiptDateRequested": dt.date(2026, 12, 1),
                               "DlvMode": "DHL"}])
    with pytest.raises(TransientError) as info:
        await ax.soap.call("SalesOrderService", "update", idempotency_key="f3:u2",
                           EntityKeyList=key_list([key]), SalesOrder=document)
    assert info.value.code == "hash_mismatch"


async def test_unknown_company_is_config(sandbox, make_config):
    async with Client(make_config(sandbox, company="ZZZ")) as other:
        with pytest.raises(ConfigError, match="Company ZZZ does not exist"):
            await other.find_customer_by_account("C-000001")


@pytest.mark.parametrize(
    ("setting", "code"),
    [({"deadlock_next": 1}, "deadlock"), ({"timeout_next": 1}, "timeout"), ({"error_next": 1}, "unavailable")],
)
async def test_injected_transient_faults_then_recovery(ax, control, setting, code):
    control.post("/faults", json=setting).raise_for_status()
    with pytest.raises(TransientError) as info:
        await ax.read_items(["A0001"])
    assert info.value.code == code
    assert (await ax.read_items(["A0001"]))[0].item_id == "A0001"  # the next call goes through


async def test_outage_is_transient(ax, control):
    control.post("/faults", json={"outage": True}).raise_for_status()
    with pytest.raises(TransientError) as info:
        await ax.find_customer_by_account("C-000001")
    assert info.value.code == "unavailable"


async def test_generic_fault_without_exception_details(make_config):
    with run_in_thread(SandboxConfig(seed=3, items=3, customers=2, open_orders=0)) as base:
        async with Client(make_config(base)) as ax:
            with pytest.raises(PermanentError) as info:
                await ax.create_sales_order(one_line_order("WEB-F-0003", "C-NOPE"), idempotency_key="g")
    assert type(info.value) is PermanentError and info.value.code == "generic"
    assert "Include exceptions in fault" in info.value.message


async def test_message_over_the_size_limit(make_config):
    with run_in_thread(SandboxConfig(seed=3, items=3, customers=2, open_orders=0, max_message_size=4096)) as base:
        async with Client(make_config(base)) as ax:
            with pytest.raises(PermanentError) as info:
                await ax.create_sales_order(one_line_order("WEB-F-0004", "C-000001", lines=40), idempotency_key="s")
    assert info.value.code == "message_too_large" and "maxReceivedMessageSize" in info.value.message


async def test_credentials(make_config):
    with run_in_thread(SandboxConfig(seed=3, items=3, customers=2, open_orders=0,
                                     basic_auth=("svc-bridge", "Pa55-word!"))) as base:
        good = AuthConfig(mode="basic", username="svc-bridge", password="Pa55-word!")
        async with Client(make_config(base, auth=good)) as ax:
            assert (await ax.read_items(["A0001"]))[0].item_id == "A0001"
        bad = AuthConfig(mode="basic", username="svc-bridge", password="wrong")
        async with Client(make_config(base, auth=bad, wsdl="bundled")) as ax:
            with pytest.raises(AuthError) as info:
                await ax.read_items(["A0001"])
        assert "wrong" not in info.value.message and "Pa55" not in info.value.message
        # Windows authentication (NTLM/Negotiate, WSDL included): test_windows_auth.py.


async def test_unreachable_endpoint_is_transient(make_config):
    base = f"http://127.0.0.1:{free_port()}"
    async with Client(make_config(base, wsdl="bundled", connect_timeout_seconds=2)) as ax:
        with pytest.raises(TransientError) as info:
            await ax.read_items(["A0001"])
    assert info.value.code == "network"


async def test_update_of_a_field_ax_does_not_let_edit_is_permanent_with_its_xpath(ax):
    page = await ax.service("sales_order").get_keys(page_size=1)
    key = EntityKey.of(SalesId=page.keys[0].value)
    with pytest.raises(PermanentError) as info:
        await ax.service("sales_order").update(key, {"SalesStatus": "Invoiced"}, idempotency_key="ne-1")
    message = info.value.message
    assert "SalesStatus" in message and "/SalesOrder/SalesTable/SalesStatus" in message
    assert not isinstance(info.value, TransientError)
