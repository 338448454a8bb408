"""Change tracking over several pages, retention, getKeys paging, the fulfilment simulation
(pick -> pack with tracking number -> invoice), the control API and fault injection."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.unit.ax_sandbox.soap import (
    DOC,
    KEYPAGE,
    PAGING,
    body,
    call,
    fault,
    key_list,
    keys,
    sales_order,
    text,
)

pytestmark = pytest.mark.unit
SO = "SalesOrderService"


def _paging(size: int, bookmark: str | None = None, since: str | None = None) -> str:
    mark = f"<Bookmark>{bookmark}</Bookmark>" if bookmark else ""
    inner = f'<DocumentPaging xmlns="{PAGING}">{mark}<PageSize>{size}</PageSize></DocumentPaging>'
    if since is not None:
        inner += f"<changedDateTime>{since}</changedDateTime>"
    return inner


def _page(response) -> tuple[list[str], str | None, str, str]:
    assert response.status_code == 200, response.text
    kp = body(response).find(f"{{{KEYPAGE}}}EntityKeyPage")
    return (keys(kp), kp.findtext(f"{{{PAGING}}}DocumentPaging/{{{PAGING}}}Bookmark"),
            kp.findtext(f"{{{KEYPAGE}}}PageStatus"), kp.findtext(f"{{{KEYPAGE}}}PageStatusDetails"))


async def _server_time(ax) -> datetime:
    return datetime.fromisoformat((await ax.get("/_sandbox/state")).json()["clock"])


async def test_get_changed_keys_pages_through_changes_in_order(ax):
    await ax.post("/_sandbox/clock", json={"advance_seconds": 60})
    cursor = (await _server_time(ax)).isoformat().replace("+00:00", "Z")
    created = []
    for n in range(5):
        r = await call(ax, SO, "create", sales_order("C-000001", f"CT-{n}", [("A0001", "1")]))
        created.append(re.search(r"<Value>(SO-\d+)</Value>", r.text).group(1))
    seen, bookmark, pages = [], None, 0
    while True:
        page_keys, bookmark, status, details = _page(
            await call(ax, SO, "getChangedKeys", _paging(2, bookmark, since=cursor)))
        assert (status, details) == ("Success", "None")
        seen += page_keys
        pages += 1
        if bookmark is None:
            break
    assert seen == created and pages == 3
    # a change to an old order shows up after the cursor; untouched ones do not
    await ax.post("/_sandbox/fulfilment/step", json={"sales_id": created[0]})
    later, _, _, _ = _page(await call(ax, SO, "getChangedKeys", _paging(10, since=cursor)))
    assert later[-1] == created[0] and sorted(later) == sorted(created)


async def test_changed_date_time_out_of_range_after_retention(ax):
    old = (await _server_time(ax)) - timedelta(days=3)
    page_keys, bookmark, status, details = _page(
        await call(ax, "ItemService", "getChangedKeys", _paging(10, since=old.isoformat())))
    assert (page_keys, bookmark, status, details) == ([], None, "Failure", "ChangedDateTimeOutOfRange")


async def test_price_and_stock_changes_are_tracked(ax):
    await ax.post("/_sandbox/clock", json={"advance_seconds": 60})
    cursor = (await _server_time(ax)).isoformat()
    r = await ax.post("/_sandbox/prices", json={"item_id": "A0002", "price": "19.90"})
    assert r.status_code == 200
    assert _page(await call(ax, "ItemService", "getChangedKeys", _paging(10, since=cursor)))[0] == ["A0002"]
    read = await call(ax, "ItemService", "read", key_list("ItemId", "A0002"))
    assert text(body(read), "Item/InventTable/Sales/Price", "Item") == "19.9"
    await ax.post("/_sandbox/stock", json={"item_id": "A0004", "warehouse": "21", "qty": 3})
    changed = _page(await call(ax, "InventoryOnHandService", "getChangedKeys", _paging(10, since=cursor)))[0]
    assert changed[0] == "A0004" and len(changed) == 2  # ItemId + InventDimId
    bad = await ax.post("/_sandbox/stock", json={"item_id": "A0004", "warehouse": "99", "qty": 3})
    assert bad.status_code == 400 and "Warehouse '99'" in bad.json()["error"]


async def test_get_keys_pages_with_bookmarks(ax):
    seen, bookmark = [], None
    while True:
        page_keys, bookmark, status, _ = _page(await call(ax, "ItemService", "getKeys", _paging(4, bookmark)))
        seen += page_keys
        if bookmark is None:
            break
    assert seen == [f"A{n:04d}" for n in range(1, 7)]
    bad = await call(ax, "ItemService", "getKeys", _paging(4, "not-a-bookmark"))
    assert "bookmark" in fault(bad)[0]


async def test_fulfilment_pick_pack_invoice(ax):
    await ax.post("/_sandbox/stock", json={"item_id": "A0006", "warehouse": "11", "qty": 20})
    r = await call(ax, SO, "create", sales_order("C-000002", "F-1", [("A0006", "2"), ("A0006", "1")]))
    sales_id = re.search(r"<Value>(SO-\d+)</Value>", r.text).group(1)
    stages = []
    for _ in range(4):
        stages += (await ax.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id})).json()["advanced"]
    assert [s["stage"] for s in stages] == ["pick", "pack", "invoice"]
    doc = body(await call(ax, SO, "read", key_list("SalesId", sales_id)))
    assert text(doc, "SalesOrder/SalesTable/SalesStatus", "SalesOrder") == "Invoiced"
    assert text(doc, "SalesOrder/SalesTable/DocumentStatus", "SalesOrder") == "Invoice"
    slips = body(await call(ax, "SalesPackingSlipService", "find", _criteria("CustPackingSlipJour", "SalesId",
                                                                             sales_id)))
    ns = f"{{{DOC}SalesPackingSlip}}"
    jour = slips.find(f"{ns}SalesPackingSlip/{ns}CustPackingSlipJour")
    assert re.fullmatch(r"1Z[A-Z0-9]{16}", jour.findtext(f"{ns}ShipCarrierTrackingNum"))
    assert jour.findtext(f"{ns}Qty") == "3" and len(jour.findall(f"{ns}CustPackingSlipTrans")) == 2
    invoices = body(await call(ax, "SalesInvoiceService", "find", _criteria("CustInvoiceJour", "SalesId", sales_id)))
    ns = f"{{{DOC}SalesInvoice}}"
    inv = invoices.find(f"{ns}SalesInvoice/{ns}CustInvoiceJour")
    net = float(inv.findtext(f"{ns}SalesBalance"))
    assert float(inv.findtext(f"{ns}InvoiceAmount")) == pytest.approx(round(net * 1.2, 2))
    assert inv.findtext(f"{ns}InvoiceId").startswith("CIV-")
    # read by the document key (RecId) as returned by findKeys
    inv_keys = keys(body(await call(ax, "SalesInvoiceService", "findKeys",
                                    _criteria("CustInvoiceJour", "SalesId", sales_id))))
    again = await call(ax, "SalesInvoiceService", "read", key_list("RecId", inv_keys[0]))
    assert inv.findtext(f"{ns}InvoiceId") in again.text
    state = (await ax.get("/_sandbox/state")).json()["companies"]["DAT"]
    assert state["invoices"] == 1 and state["open_customer_transactions"][0]["Invoice"].startswith("CIV-")
    # delivered orders can no longer be deleted
    assert "delivered" in fault(await call(ax, SO, "delete", key_list("SalesId", sales_id)))[0]


def _criteria(ds: str, field: str, value: str) -> str:
    return ('<QueryCriteria xmlns="http://schemas.microsoft.com/dynamics/2006/02/documents/QueryCriteria">'
            f"<CriteriaElement><DataSourceName>{ds}</DataSourceName><FieldName>{field}</FieldName>"
            f"<Operator>Equal</Operator><Value1>{value}</Value1></CriteriaElement></QueryCriteria>")


async def test_fault_injection_flags(ax):
    assert (await ax.post("/_sandbox/faults", json={"error_next": 1, "timeout_next": 1})).status_code == 200
    r = await call(ax, "ItemService", "read", key_list("ItemId", "A0001"))
    assert r.status_code == 503  # IIS error first
    faultstring, aif = fault(await call(ax, "ItemService", "read", key_list("ItemId", "A0001")))
    assert aif.findtext(f"{{{aif.nsmap[None]}}}XppExceptionType") == "15"
    assert (await call(ax, "ItemService", "read", key_list("ItemId", "A0001"))).status_code == 200
    await ax.post("/_sandbox/faults", json={"outage": True})
    assert (await call(ax, "ItemService", "read", key_list("ItemId", "A0001"))).status_code == 503
    reset = (await ax.delete("/_sandbox/faults")).json()
    assert reset["outage"] is False
    bad = await ax.post("/_sandbox/faults", json={"lightning": 1})
    assert bad.status_code == 400 and "lightning" in bad.json()["error"]


async def test_seed_is_deterministic(ax_factory):
    async def snapshot(seed: int) -> str:
        async with ax_factory(seed=seed) as client:
            r = await call(client, "CustomerService", "find", _criteria("CustTable", "CustGroup", "WEB"))
            prices = await call(client, "ItemService", "find", _criteria("InventTable", "ItemId", "A*"))
            return r.text + prices.text

    def data(text: str) -> str:
        # RecIds (and the hashes over them) differ between sandbox lives, as an AOS never reuses one
        return re.sub(r"<RecId>\d+</RecId>|<_DocumentHash>\w+</_DocumentHash>", "", text)

    first, again, other = await snapshot(11), await snapshot(11), await snapshot(12)
    assert data(first) == data(again)
    assert data(first) != data(other)
    recids = [set(re.findall(r"<RecId>(\d+)</RecId>", t)) for t in (first, again)]
    assert recids[0] and not recids[0] & recids[1]
