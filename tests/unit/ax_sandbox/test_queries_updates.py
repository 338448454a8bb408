"""QueryCriteria operators and combination modes; partial updates of child records with
``action`` attributes and ``ClearNilFieldsOnUpdate``."""

from __future__ import annotations

import re

import pytest

from tests.unit.ax_sandbox.soap import DOC, QC, body, call, fault, key_list, keys, sales_order, text

pytestmark = pytest.mark.unit


def _qc(*elements: tuple[str, str, str, str, str | None]) -> str:
    inner = ""
    for ds, field, op, v1, v2 in elements:
        inner += (f"<CriteriaElement><DataSourceName>{ds}</DataSourceName><FieldName>{field}</FieldName>"
                  f"<Operator>{op}</Operator><Value1>{v1}</Value1>"
                  + (f"<Value2>{v2}</Value2>" if v2 is not None else "") + "</CriteriaElement>")
    return f'<QueryCriteria xmlns="{QC}">{inner}</QueryCriteria>'


async def _item_keys(client, query: str) -> list[str]:
    r = await call(client, "ItemService", "findKeys", query)
    assert r.status_code == 200, r.text
    return keys(body(r))


async def test_operators_on_strings_and_numbers(ax):
    assert await _item_keys(ax, _qc(("InventTable", "ItemId", "Range", "A0002", "A0004"))) == [
        "A0002", "A0003", "A0004"]
    assert await _item_keys(ax, _qc(("InventTable", "ItemId", "Greater", "A0005", None))) == ["A0006"]
    assert await _item_keys(ax, _qc(("InventTable", "ItemId", "LessOrEqual", "a0001", None))) == ["A0001"]
    assert len(await _item_keys(ax, _qc(("InventTable", "ItemId", "NotEqual", "A0001", None)))) == 5
    r = await call(ax, "ItemService", "find", _qc(("Sales", "Price", "GreaterOrEqual", "0", None)))
    prices = [float(p.text) for p in body(r).iter(f"{{{DOC}Item}}Price")]
    expensive = await _item_keys(ax, _qc(("Sales", "Price", "Greater", str(sorted(prices)[-2]), None)))
    assert len(expensive) == 1  # numeric, not text comparison


async def test_criteria_combination_modes(ax_factory):
    two_fields = _qc(("InventTable", "ItemId", "Equal", "A0001", None), ("InventTable", "Product", "Equal", "A0002",
                                                                          None))
    same_field = _qc(("InventTable", "ItemId", "Equal", "A0001", None), ("InventTable", "ItemId", "Equal", "A0002",
                                                                         None))
    async with ax_factory() as query_mode:
        assert await _item_keys(query_mode, two_fields) == []  # AND across fields
        assert await _item_keys(query_mode, same_field) == ["A0001", "A0002"]  # OR on one field
    async with ax_factory(criteria_mode="or") as or_mode:
        assert await _item_keys(or_mode, two_fields) == ["A0001", "A0002"]


async def test_unknown_field_is_a_fault(ax):
    r = await call(ax, "ItemService", "find", _qc(("InventTable", "Colour", "Equal", "red", None)))
    assert "Colour" in fault(r)[0]


async def test_partial_update_child_actions_and_clear_nil(ax):
    r = await call(ax, "SalesOrderService", "create", sales_order("C-000001", "PU-1", [("A0001", "1"),
                                                                                      ("A0002", "1")]))
    sales_id = re.search(r"<Value>(SO-\d+)</Value>", r.text).group(1)
    doc = body(await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id)))
    ns = f"{{{DOC}SalesOrder}}"
    lines = doc.findall(f"{ns}SalesOrder/{ns}SalesTable/{ns}SalesLine")
    first_rec, second_rec = (line.findtext(f"{ns}RecId") for line in lines)
    doc_hash = text(doc, "SalesOrder/SalesTable/_DocumentHash", "SalesOrder")
    update = (key_list("SalesId", sales_id)
              + f'<SalesOrder xmlns="{DOC}SalesOrder" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
              "<ClearNilFieldsOnUpdate>true</ClearNilFieldsOnUpdate>"
              f'<SalesTable class="entity" action="update"><_DocumentHash>{doc_hash}</_DocumentHash>'
              '<CustomerRef xsi:nil="true"/><PurchOrderFormNum>PU-1</PurchOrderFormNum>'
              "<ReceiptDateRequested>2026-03-02</ReceiptDateRequested>"
              f'<SalesLine class="entity" action="update"><RecId>{first_rec}</RecId><SalesQty>4</SalesQty>'
              "<SalesUnit>ea</SalesUnit></SalesLine>"
              f'<SalesLine class="entity" action="delete"><RecId>{second_rec}</RecId><SalesQty>1</SalesQty>'
              "<SalesUnit>ea</SalesUnit></SalesLine>"
              '<SalesLine class="entity" action="create"><ItemId>A0003</ItemId><SalesQty>2</SalesQty>'
              "<SalesUnit>ea</SalesUnit></SalesLine></SalesTable></SalesOrder>")
    r = await call(ax, "SalesOrderService", "update", update)
    assert r.status_code == 200, r.text
    doc = body(await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id)))
    lines = doc.findall(f"{ns}SalesOrder/{ns}SalesTable/{ns}SalesLine")
    assert [(line.findtext(f"{ns}ItemId"), line.findtext(f"{ns}SalesQty")) for line in lines] == [
        ("A0001", "4"), ("A0003", "2")]
    assert lines[0].findtext(f"{ns}RecId") == first_rec
    assert text(doc, "SalesOrder/SalesTable/CustomerRef", "SalesOrder") is None  # nil cleared it
