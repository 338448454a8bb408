"""Fields with AllowEdit=No (keys, statuses, lot ids, party numbers) are refused on update when
their value changes (reference §5.3); the same value as read passes, and a refused update
writes nothing (one transaction). Without validation, over-long strings are truncated."""

from __future__ import annotations

import re

import pytest

from tests.unit.ax_sandbox.soap import DOC, FAULT, body, call, fault, infolog, key_list, sales_order, text

pytestmark = pytest.mark.unit
NS = f"{{{DOC}SalesOrder}}"


async def _order(ax, po: str) -> tuple[str, str]:
    r = await call(ax, "SalesOrderService", "create", sales_order("C-000001", po, [("A0001", "1")]))
    sales_id = re.search(r"<Value>(SO-\d+)</Value>", r.text).group(1)
    doc = body(await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id)))
    return sales_id, text(doc, "SalesOrder/SalesTable/_DocumentHash", "SalesOrder")


def _update(sales_id: str, doc_hash: str, fields: dict[str, str], line: str = "") -> str:
    """A partial update of the header; fields go in schema order (case-insensitive alphabetical)."""
    values = {"PurchOrderFormNum": "NE-1", "ReceiptDateRequested": "2026-03-02", **fields}
    xml = "".join(f"<{k}>{v}</{k}>" for k, v in sorted(values.items(), key=lambda kv: kv[0].lower()))
    return (key_list("SalesId", sales_id)
            + f'<SalesOrder xmlns="{DOC}SalesOrder"><SalesTable class="entity" action="update">'
            f"<_DocumentHash>{doc_hash}</_DocumentHash>{xml}{line}</SalesTable></SalesOrder>")


async def test_changing_the_sales_status_is_refused_and_nothing_is_written(ax):
    sales_id, doc_hash = await _order(ax, "NE-1")
    r = await call(ax, "SalesOrderService", "update",
                   _update(sales_id, doc_hash, {"CustomerRef": "new ref", "SalesStatus": "Invoiced"}))
    faultstring, aif = fault(r)
    assert "Field 'SalesStatus' in table 'SalesTable' is not allowed to be edited" in faultstring
    assert aif.findtext(f".//{{{FAULT}}}Field") == "SalesStatus"
    assert aif.findtext(f".//{{{FAULT}}}XPath") == "/SalesOrder/SalesTable/SalesStatus"
    assert aif.findtext(f"{{{FAULT}}}XppExceptionType") == "3" and infolog(aif)
    after = body(await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id)))
    assert text(after, "SalesOrder/SalesTable/SalesStatus", "SalesOrder") != "Invoiced"
    assert text(after, "SalesOrder/SalesTable/CustomerRef", "SalesOrder") == "Web order NE-1"
    assert text(after, "SalesOrder/SalesTable/_DocumentHash", "SalesOrder") == doc_hash  # untouched


async def test_another_sales_id_in_the_document_is_refused(ax):
    sales_id, doc_hash = await _order(ax, "NE-1")
    r = await call(ax, "SalesOrderService", "update", _update(sales_id, doc_hash, {"SalesId": "SO-999999"}))
    assert "Field 'SalesId' in table 'SalesTable'" in fault(r)[0]


async def test_a_line_lot_id_cannot_be_changed(ax):
    sales_id, doc_hash = await _order(ax, "NE-1")
    doc = body(await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id)))
    rec_id = doc.findtext(f"{NS}SalesOrder/{NS}SalesTable/{NS}SalesLine/{NS}RecId")
    line = (f'<SalesLine class="entity" action="update"><InventTransId>LOT-X</InventTransId><RecId>{rec_id}</RecId>'
            "<SalesQty>2</SalesQty><SalesUnit>ea</SalesUnit></SalesLine>")
    _, aif = fault(await call(ax, "SalesOrderService", "update", _update(sales_id, doc_hash, {}, line)))
    assert aif.findtext(f".//{{{FAULT}}}XPath") == "/SalesOrder/SalesTable/SalesLine/InventTransId"


async def test_the_values_as_read_are_accepted(ax):
    sales_id, doc_hash = await _order(ax, "NE-1")
    doc = body(await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id)))
    status = text(doc, "SalesOrder/SalesTable/SalesStatus", "SalesOrder")
    same = {"CustomerRef": "kept", "SalesId": sales_id.lower(), **({"SalesStatus": status} if status else {})}
    r = await call(ax, "SalesOrderService", "update", _update(sales_id, doc_hash, same))
    assert r.status_code == 200, r.text
    after = body(await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id)))
    assert text(after, "SalesOrder/SalesTable/CustomerRef", "SalesOrder") == "kept"


async def test_without_validation_over_long_strings_are_cut_to_the_field_size(ax_factory):
    long_ref = "R" * 75
    async with ax_factory(validate_documents=False) as ax:
        order = sales_order("C-000001", "TR-1", [("A0001", "1")]).replace("<CustomerRef>Web order TR-1</CustomerRef>",
                                                                         f"<CustomerRef>{long_ref}</CustomerRef>")
        r = await call(ax, "SalesOrderService", "create", order)
        assert r.status_code == 200, r.text
        sales_id = re.search(r"<Value>(SO-\d+)</Value>", r.text).group(1)
        doc = body(await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id)))
    assert text(doc, "SalesOrder/SalesTable/CustomerRef", "SalesOrder") == "R" * 60  # CustRef is 60 long
