"""Cancelling a sales order the way AX 2012 does, over real HTTP: a partial SalesOrderService.update
that sets the deliver remainder (RemainSalesPhysical) of the lines to 0. AX then releases the
reservations (stock available again), sets SalesStatus Canceled on the lines and the header and
records the change for getChangedKeys; fulfilment leaves the order alone. SalesStatus itself stays
not editable, and once a packing slip is posted the update is refused with an AifFault naming it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from lxml import etree

from connectors.dynamics_ax.sandbox import SandboxConfig, run_in_thread
from tests.unit.ax_sandbox.soap import (
    DOC,
    FAULT,
    GENERIC,
    PATH,
    SERVICES,
    criteria,
    envelope,
    key_list,
    sales_order,
    wrap,
)

pytestmark = pytest.mark.contract
SO = "SalesOrderService"
NS = f"{{{DOC}SalesOrder}}"
ONHAND = f"{{{DOC}InventoryOnHand}}"
KEYS = "{http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKey}"


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with run_in_thread(SandboxConfig(seed=9, items=5, customers=3, open_orders=0,
                                     include_exceptions_in_fault=True)) as url:
        yield url


def soap(base: str, service: str, op: str, inner: str) -> httpx.Response:
    return httpx.post(base + PATH, content=envelope(wrap(service, op, inner)), timeout=30,
                      headers={"Content-Type": "text/xml; charset=utf-8",
                               "SOAPAction": f'"http://schemas.microsoft.com/dynamics/2008/01/services/{service}/{op}"'})


def body(response: httpx.Response) -> etree._Element:
    assert response.status_code == 200, response.text
    return etree.fromstring(response.content).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]


def create(base: str, po: str, lines: list[tuple[str, str]]) -> str:
    r = soap(base, SO, "create", sales_order("C-000001", po, lines))
    return re.search(r"<Value>(SO-\d+)</Value>", r.text).group(1)  # type: ignore[union-attr]


def read(base: str, sales_id: str) -> etree._Element:
    return body(soap(base, SO, "read", key_list("SalesId", sales_id))).find(f"{NS}SalesOrder/{NS}SalesTable")


def avail(base: str, item: str, warehouse: str = "11") -> Decimal:
    doc = body(soap(base, "InventoryOnHandService", "find", criteria(("InventSum", "ItemId", "Equal", item))))
    for row in doc.iter(f"{ONHAND}InventSum"):
        if row.findtext(f"{ONHAND}InventDim/{ONHAND}InventLocationId") == warehouse:
            return Decimal(row.findtext(f"{ONHAND}AvailPhysical") or "0")
    return Decimal(0)


def cancel_request(order: etree._Element, remainder: str = "0", lines: int | None = None) -> str:
    """The partial update a client sends: hash of the read, each line by RecId with RemainSalesPhysical."""
    sales_id = order.findtext(f"{NS}SalesId")
    xml = "".join(
        f'<SalesLine class="entity" action="update"><RecId>{line.findtext(f"{NS}RecId")}</RecId>'
        f"<RemainSalesPhysical>{remainder}</RemainSalesPhysical><SalesQty>{line.findtext(f'{NS}SalesQty')}</SalesQty>"
        "<SalesUnit>ea</SalesUnit></SalesLine>"
        for line in order.findall(f"{NS}SalesLine")[:lines])
    return (key_list("SalesId", sales_id)
            + f'<SalesOrder xmlns="{DOC}SalesOrder"><SalesTable class="entity" action="update">'
            f"<_DocumentHash>{order.findtext(f'{NS}_DocumentHash')}</_DocumentHash>"
            f"<PurchOrderFormNum>{order.findtext(f'{NS}PurchOrderFormNum')}</PurchOrderFormNum>"
            f"<ReceiptDateRequested>2026-03-02</ReceiptDateRequested>{xml}</SalesTable></SalesOrder>")


def step(base: str, sales_id: str | None = None) -> list[dict[str, str]]:
    r = httpx.post(base + "/_sandbox/fulfilment/step", json={"sales_id": sales_id} if sales_id else {})
    r.raise_for_status()
    return r.json()["advanced"]  # type: ignore[no-any-return]


def changed_since(base: str, since: datetime) -> set[str]:
    paging = ('<DocumentPaging xmlns="http://schemas.microsoft.com/dynamics/2006/02/documents/DocumentPaging">'
              "<PageSize>100</PageSize></DocumentPaging>")
    inner = paging + f'<changedDateTime xmlns="{SERVICES}">{since.strftime("%Y-%m-%dT%H:%M:%SZ")}</changedDateTime>'
    return {v.text for v in body(soap(base, SO, "getChangedKeys", inner)).iter(f"{KEYS}Value")}


def test_deliver_remainder_zero_cancels_the_order_and_releases_its_reservation(base: str) -> None:
    free_before = avail(base, "A0002")
    sales_id = create(base, "CAN-1", [("A0002", "2"), ("A0003", "1")])
    assert avail(base, "A0002") == free_before - 2  # reserved on creation
    order = read(base, sales_id)
    assert order.findtext(f"{NS}SalesStatus") == "Backorder"
    since = datetime.now(UTC) - timedelta(seconds=2)

    r = soap(base, SO, "update", cancel_request(order))
    assert r.status_code == 200, r.text
    after = read(base, sales_id)
    assert after.findtext(f"{NS}SalesStatus") == "Canceled"
    lines = after.findall(f"{NS}SalesLine")
    assert [line.findtext(f"{NS}SalesStatus") for line in lines] == ["Canceled", "Canceled"]
    # zero values are omitted on output: no remainder left on any line; the ordered quantity stays
    assert all(line.find(f"{NS}RemainSalesPhysical") is None for line in lines)
    assert [line.findtext(f"{NS}SalesQty") for line in lines] == ["2", "1"]
    assert avail(base, "A0002") == free_before  # the reservation is released
    assert after.findtext(f"{NS}_DocumentHash") != order.findtext(f"{NS}_DocumentHash")
    assert sales_id in changed_since(base, since)  # change tracking saw it

    # fulfilment never picks a cancelled order
    assert all(s["sales_id"] != sales_id for s in step(base))
    assert read(base, sales_id).findtext(f"{NS}DocumentStatus") is None  # still no document posted


def test_cancelling_some_lines_keeps_the_order_open_and_ships_only_the_rest(base: str) -> None:
    sales_id = create(base, "CAN-2", [("A0004", "1"), ("A0005", "1")])
    r = soap(base, SO, "update", cancel_request(read(base, sales_id), lines=1))
    assert r.status_code == 200, r.text
    order = read(base, sales_id)
    assert order.findtext(f"{NS}SalesStatus") == "Backorder"
    assert [line.findtext(f"{NS}SalesStatus") for line in order.findall(f"{NS}SalesLine")] == ["Canceled", "Backorder"]
    assert [s["stage"] for s in step(base, sales_id)] == ["pick"]
    assert [s["stage"] for s in step(base, sales_id)] == ["pack"]
    slips = body(soap(base, "SalesPackingSlipService", "find",
                      criteria(("CustPackingSlipJour", "SalesId", "Equal", sales_id))))
    items = [e.text for e in slips.iter(f"{{{DOC}SalesPackingSlip}}ItemId")]
    assert items == ["A0005"]  # the cancelled line is not shipped


def test_sales_status_cannot_be_written_and_other_remainders_are_refused(base: str) -> None:
    sales_id = create(base, "CAN-3", [("A0001", "2")])
    order = read(base, sales_id)
    bad = cancel_request(order, remainder="1")
    r = soap(base, SO, "update", bad)
    assert r.status_code == 500
    aif = etree.fromstring(r.content).find(f".//{{{FAULT}}}AifFault")
    assert aif.findtext(f".//{{{FAULT}}}XPath") == "/SalesOrder/SalesTable/SalesLine/RemainSalesPhysical"
    status = cancel_request(order).replace("<PurchOrderFormNum>", "<PurchOrderFormNum>", 1).replace(
        "<ReceiptDateRequested>2026-03-02</ReceiptDateRequested>",
        "<ReceiptDateRequested>2026-03-02</ReceiptDateRequested><SalesStatus>Canceled</SalesStatus>")
    r = soap(base, SO, "update", status)
    assert r.status_code == 500 and "Field 'SalesStatus' in table 'SalesTable' is not allowed to be edited" in r.text
    assert read(base, sales_id).findtext(f"{NS}SalesStatus") == "Backorder"  # nothing written


def test_a_picked_order_can_still_be_cancelled_and_its_picked_stock_comes_back(base: str) -> None:
    free_before = avail(base, "A0003")
    sales_id = create(base, "CAN-4", [("A0003", "3")])
    assert [s["stage"] for s in step(base, sales_id)] == ["pick"]
    assert avail(base, "A0003") == free_before - 3
    assert soap(base, SO, "update", cancel_request(read(base, sales_id))).status_code == 200
    assert read(base, sales_id).findtext(f"{NS}SalesStatus") == "Canceled"
    assert avail(base, "A0003") == free_before
    assert step(base, sales_id) == []  # never packed


def test_cancelling_after_the_packing_slip_is_refused_with_an_aif_fault(base: str) -> None:
    sales_id = create(base, "CAN-5", [("A0001", "1")])
    step(base, sales_id)
    (packed,) = step(base, sales_id)
    assert packed["stage"] == "pack"
    order = read(base, sales_id)
    slip = body(soap(base, "SalesPackingSlipService", "find",
                     criteria(("CustPackingSlipJour", "SalesId", "Equal", sales_id))))
    slip_id = slip.findtext(f".//{{{DOC}SalesPackingSlip}}PackingSlipId")
    r = soap(base, SO, "update", cancel_request(order))
    assert r.status_code == 500
    fault = etree.fromstring(r.content).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault.findtext("faultcode") == "s:Client"
    aif = fault.find(f"detail/{{{FAULT}}}AifFault")
    assert aif.findtext(f"{{{FAULT}}}XppExceptionType") == "3"
    text = fault.findtext("faultstring")
    assert f"Sales order {sales_id} cannot be canceled: packing slip {slip_id} has been posted" in text
    after = read(base, sales_id)
    assert after.findtext(f"{NS}SalesStatus") == "Delivered"
    assert after.findtext(f"{NS}_DocumentHash") == order.findtext(f"{NS}_DocumentHash")  # untouched


def test_without_include_exceptions_the_refusal_is_the_generic_fault() -> None:
    with run_in_thread(SandboxConfig(seed=9, items=3, customers=2, open_orders=0)) as url:
        sales_id = create(url, "CAN-6", [("A0001", "1")])
        step(url, sales_id)
        step(url, sales_id)
        r = soap(url, SO, "update", cancel_request(read(url, sales_id)))
    assert r.status_code == 500
    assert etree.fromstring(r.content).findtext(".//faultstring") == GENERIC
