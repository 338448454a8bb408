"""Business rules: number sequence, reservation and backorder, duplicate customer PO, hash
mismatch, partial/full update, duplicate MessageId, delete guards, customers and items."""

from __future__ import annotations

import re

import pytest

from tests.unit.ax_sandbox.soap import DOC, body, call, fault, key_list, sales_order, text

pytestmark = pytest.mark.unit
SO = "SalesOrderService"


async def _create(ax, cust: str, po: str, lines, **kw) -> str:
    r = await call(ax, SO, "create", sales_order(cust, po, lines), **kw)
    assert r.status_code == 200, r.text
    return re.search(r"<Value>(SO-\d+)</Value>", r.text).group(1)


async def _on_hand(ax, item: str, warehouse: str = "11") -> dict[str, str]:
    r = await call(ax, "InventoryOnHandService", "find", "".join((
        '<QueryCriteria xmlns="http://schemas.microsoft.com/dynamics/2006/02/documents/QueryCriteria">',
        f"<CriteriaElement><DataSourceName>InventSum</DataSourceName><FieldName>ItemId</FieldName>"
        f"<Operator>Equal</Operator><Value1>{item}</Value1></CriteriaElement>",
        f"<CriteriaElement><DataSourceName>InventDim</DataSourceName><FieldName>InventLocationId</FieldName>"
        f"<Operator>Equal</Operator><Value1>{warehouse}</Value1></CriteriaElement></QueryCriteria>")))
    assert r.status_code == 200, r.text
    ns = f"{{{DOC}InventoryOnHand}}"
    sums = body(r).findall(f"{ns}InventoryOnHand/{ns}InventSum")
    assert len(sums) == 1
    return {c.tag.split("}")[1]: c.text for c in sums[0] if c.text}


async def _read(ax, sales_id: str):
    r = await call(ax, SO, "read", key_list("SalesId", sales_id))
    assert r.status_code == 200, r.text
    return body(r)


async def test_number_sequence_gives_consecutive_sales_ids(ax):
    first = await _create(ax, "C-000001", "N-1", [("A0001", "1")])
    second = await _create(ax, "C-000001", "N-2", [("A0001", "1")])
    assert int(second[3:]) == int(first[3:]) + 1


async def test_supplied_sales_id_rejects_the_whole_document(ax):
    doc = sales_order("C-000001", "N-3", [("A0001", "1")]).replace(
        "</ReceiptDateRequested>", "</ReceiptDateRequested><SalesId>MY-1</SalesId>", 1)
    faultstring, _ = fault(await call(ax, SO, "create", doc))
    assert "does not allow manual entry" in faultstring and "MY-1" in faultstring


async def test_reservation_and_backorder(ax):
    await ax.post("/_sandbox/stock", json={"item_id": "A0003", "warehouse": "11", "qty": 100})
    before = await _on_hand(ax, "A0003")
    available = int(before["AvailPhysical"])
    sales_id = await _create(ax, "C-000001", "R-1", [("A0003", str(available + 5))])
    after = await _on_hand(ax, "A0003")
    assert after.get("AvailPhysical") is None  # zero is omitted on output
    assert int(after["ReservPhysical"]) == int(before.get("ReservPhysical", "0")) + available
    assert int(after["OnOrder"]) == int(before.get("OnOrder", "0")) + 5  # the backorder
    # picking waits for the backorder; new stock lets it through
    step = (await ax.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id})).json()
    assert step["advanced"] == []
    await ax.post("/_sandbox/stock", json={"item_id": "A0003", "warehouse": "11", "qty": 5})
    step = (await ax.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id})).json()
    assert step["advanced"] == [{"sales_id": sales_id, "stage": "pick"}]
    doc = await _read(ax, sales_id)
    assert text(doc, "SalesOrder/SalesTable/DocumentStatus", "SalesOrder") == "PickingList"


async def test_duplicate_customer_po_creates_a_journal_without_reservation(ax):
    await ax.post("/_sandbox/stock", json={"item_id": "A0002", "warehouse": "11", "qty": 10})
    first = await _create(ax, "C-000002", "DUP-PO", [("A0002", "1")])
    reserved = int((await _on_hand(ax, "A0002"))["ReservPhysical"])
    second = await _create(ax, "C-000002", "dup-po", [("A0002", "1")])
    assert text(await _read(ax, first), "SalesOrder/SalesTable/SalesType", "SalesOrder") == "Sales"
    # Journal is the enum's first value (0): AX omits it on output, readers default it
    assert text(await _read(ax, second), "SalesOrder/SalesTable/SalesType", "SalesOrder") is None
    assert int((await _on_hand(ax, "A0002"))["ReservPhysical"]) == reserved
    other_customer = await _create(ax, "C-000003", "DUP-PO", [("A0002", "1")])
    assert text(await _read(ax, other_customer), "SalesOrder/SalesTable/SalesType", "SalesOrder") == "Sales"


async def test_unknown_customer_and_item_are_business_faults(ax):
    faultstring, _ = fault(await call(ax, SO, "create", sales_order("NOPE", "X-1", [("A0001", "1")])))
    assert faultstring == "Customer account NOPE does not exist."
    faultstring, _ = fault(await call(ax, SO, "create", sales_order("C-000001", "X-2", [("ZZZ", "1")])))
    assert "'ZZZ'" in faultstring and "Item number" in faultstring


def _update_doc(sales_id: str, doc_hash: str | None, customer_ref: str, action: str | None = "update",
                extra: str = "") -> str:
    attr = f' action="{action}"' if action else ""
    hash_el = f"<_DocumentHash>{doc_hash}</_DocumentHash>" if doc_hash else ""
    return (key_list("SalesId", sales_id) + f'<SalesOrder xmlns="{DOC}SalesOrder"><SalesTable class="entity"{attr}>'
            f"{hash_el}<CustomerRef>{customer_ref}</CustomerRef><PurchOrderFormNum>U-1</PurchOrderFormNum>"
            f"<ReceiptDateRequested>2026-03-02</ReceiptDateRequested>{extra}</SalesTable></SalesOrder>")


async def test_partial_update_with_hash_then_hash_mismatch(ax):
    sales_id = await _create(ax, "C-000001", "U-1", [("A0001", "1")])
    doc = await _read(ax, sales_id)
    doc_hash = text(doc, "SalesOrder/SalesTable/_DocumentHash", "SalesOrder")
    r = await call(ax, SO, "update", _update_doc(sales_id, doc_hash, "changed ref"))
    assert r.status_code == 200, r.text
    assert "<SalesOrderServiceUpdateResponse" in r.text
    doc = await _read(ax, sales_id)
    assert text(doc, "SalesOrder/SalesTable/CustomerRef", "SalesOrder") == "changed ref"
    # partial update keeps the line that was not sent
    assert text(doc, "SalesOrder/SalesTable/SalesLine/ItemId", "SalesOrder") == "A0001"
    assert text(doc, "SalesOrder/SalesTable/_DocumentHash", "SalesOrder") != doc_hash
    stale = await call(ax, SO, "update", _update_doc(sales_id, doc_hash, "again"))
    faultstring, aif = fault(stale)
    assert faultstring == ("The document hash does not match the hash in the XML. The document may have been "
                           "changed since last read")
    missing = await call(ax, SO, "update", _update_doc(sales_id, None, "no hash"))
    assert "RecVersion" in fault(missing)[0]


async def test_full_update_replaces_lines(ax):
    sales_id = await _create(ax, "C-000001", "U-1", [("A0001", "1"), ("A0002", "1")])
    doc_hash = text(await _read(ax, sales_id), "SalesOrder/SalesTable/_DocumentHash", "SalesOrder")
    line = ('<SalesLine class="entity"><ItemId>A0004</ItemId><SalesQty>3</SalesQty><SalesUnit>ea</SalesUnit>'
            "</SalesLine>")
    r = await call(ax, SO, "update", _update_doc(sales_id, doc_hash, "full", action=None, extra=line))
    assert r.status_code == 200, r.text
    doc = await _read(ax, sales_id)
    ns = f"{{{DOC}SalesOrder}}"
    items = [e.text for e in doc.iter(f"{ns}ItemId")]
    assert items == ["A0004"]  # lines absent from a full update are deleted
    assert text(doc, "SalesOrder/SalesTable/CustomerRef", "SalesOrder") == "full"


async def test_duplicate_message_id_within_24_hours(ax_factory):
    async with ax_factory() as ax:
        mid = "{A3C1D0E2-1111-4A53-9C7B-0C4F2F0B9A11}"
        first = await _create(ax, "C-000001", "M-1", [("A0001", "1")], message_id=mid)
        again = await call(ax, SO, "create", sales_order("C-000001", "M-1", [("A0001", "1")]),
                           message_id=mid.lower().strip("{}"))  # case and braces do not matter
        faultstring, aif = fault(again)
        assert faultstring == "Duplicate message. Message has already been processed."
        found = await call(ax, SO, "findKeys", '<QueryCriteria xmlns="http://schemas.microsoft.com/dynamics/2006/'
                           '02/documents/QueryCriteria"><CriteriaElement><DataSourceName>SalesTable</DataSourceName>'
                           "<FieldName>PurchOrderFormNum</FieldName><Operator>Equal</Operator><Value1>M-1</Value1>"
                           "</CriteriaElement></QueryCriteria>")
        assert re.findall(r"<Value>(SO-\d+)</Value>", found.text) == [first]  # created once
        await ax.post("/_sandbox/clock", json={"advance_seconds": 24 * 3600 + 1})
        assert (await call(ax, SO, "create", sales_order("C-000001", "M-2", [("A0001", "1")]),
                           message_id=mid)).status_code == 200
    async with ax_factory(duplicate_response="cached") as ax:
        r1 = await call(ax, SO, "create", sales_order("C-000001", "M-3", [("A0001", "1")]), message_id=mid)
        r2 = await call(ax, SO, "create", sales_order("C-000001", "M-3", [("A0001", "1")]), message_id=mid)
        assert r2.status_code == 200 and r2.content == r1.content


async def test_failed_message_id_can_be_retried(ax):
    mid = "{B3C1D0E2-2222-4A53-9C7B-0C4F2F0B9A11}"
    await ax.post("/_sandbox/faults", json={"deadlock_next": 1})
    faultstring, aif = fault(await call(ax, SO, "create", sales_order("C-000001", "T-1", [("A0001", "1")]),
                                        message_id=mid))
    assert aif.findtext(f"{{{aif.nsmap[None]}}}XppExceptionType") == "2"
    assert (await call(ax, SO, "create", sales_order("C-000001", "T-1", [("A0001", "1")]),
                       message_id=mid)).status_code == 200


async def test_delete_releases_reservation_and_guards(ax):
    await ax.post("/_sandbox/stock", json={"item_id": "A0005", "warehouse": "11", "qty": 10})
    before = await _on_hand(ax, "A0005")
    sales_id = await _create(ax, "C-000004", "D-1", [("A0005", "2")])
    r = await call(ax, "CustomerService", "delete", key_list("AccountNum", "C-000004"))
    assert "cannot be deleted" in fault(r)[0]
    r = await call(ax, SO, "delete", key_list("SalesId", sales_id))
    assert r.status_code == 200, r.text
    assert (await _on_hand(ax, "A0005")).get("ReservPhysical") == before.get("ReservPhysical")
    assert fault(await call(ax, SO, "read", key_list("SalesId", sales_id)))[0].startswith("No valid document")


async def test_customer_create_person_with_contacts_and_group_check(ax):
    ns = f"{DOC}Customer"
    doc = (f'<Customer xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><CustTable class="entity">'
           "<CustGroup>{group}</CustGroup><DirParty xsi:type=\"AxdEntity_DirParty_DirPerson\" class=\"entity\">"
           '<DirPartyPostalAddressView class="entity"><City>Lyon</City><CountryRegionId>FRA</CountryRegionId>'
           "<Street>1 Rue X</Street><ZipCode>69001</ZipCode></DirPartyPostalAddressView>"
           '<DirPartyContactInfoView class="entity"><Locator>jo@example.org</Locator><Type>Email</Type>'
           '</DirPartyContactInfoView><PersonName class="entity"><FirstName>Jo</FirstName><LastName>Roy</LastName>'
           "</PersonName></DirParty></CustTable></Customer>")
    bad = await call(ax, "CustomerService", "create", doc.replace("{group}", "NOPE"))
    assert fault(bad)[0] == ("The value 'NOPE' in field 'Customer group' is not found in the relating table "
                             "'Customer groups'.")
    r = await call(ax, "CustomerService", "create", doc.replace("{group}", "WEB"))
    assert r.status_code == 200, r.text
    account = re.search(r"<Value>(C-\d+)</Value>", r.text).group(1)
    read = await call(ax, "CustomerService", "read", key_list("AccountNum", account))
    assert 'xsi:type="AxdEntity_DirParty_DirPerson"' in read.text
    assert "<Name>Jo Roy</Name>" in read.text and "<Locator>jo@example.org</Locator>" in read.text
    assert "<Address>1 Rue X\n69001 Lyon\nFRA</Address>" in read.text


async def test_product_then_item_release_with_price(ax):
    product = (f'<EcoResProduct xmlns="{DOC}EcoResProduct" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
               '<Product xsi:type="AxdEntity_Product_EcoResDistinctProduct" class="entity">'
               "<DisplayProductNumber>NEW-1</DisplayProductNumber><ProductType>Item</ProductType>"
               '<Translation class="entity"><LanguageId>en-us</LanguageId><Name>New thing</Name></Translation>'
               "</Product></EcoResProduct>")
    assert (await call(ax, "EcoResProductService", "create", product)).status_code == 200
    item = (f'<Item xmlns="{DOC}Item"><InventTable class="entity"><ItemId>NEW-1</ItemId><Product>NEW-1</Product>'
            '<Sales class="entity"><ItemId>NEW-1</ItemId><Price>12.5</Price><UnitId>ea</UnitId></Sales>'
            "</InventTable></Item>")
    assert (await call(ax, "ItemService", "create", item)).status_code == 200
    sales_id = await _create(ax, "C-000001", "P-1", [("NEW-1", "2")])
    doc = await _read(ax, sales_id)
    assert text(doc, "SalesOrder/SalesTable/SalesLine/SalesPrice", "SalesOrder") == "12.5"
    assert text(doc, "SalesOrder/SalesTable/SalesLine/LineAmount", "SalesOrder") == "25"
    assert text(doc, "SalesOrder/SalesTable/SalesLine/Name", "SalesOrder") == "New thing"
    orphan = item.replace("NEW-1", "GHOST")
    assert "Products" in fault(await call(ax, "ItemService", "create", orphan))[0]


async def test_failed_update_leaves_document_and_reservation_unchanged(ax):
    await ax.post("/_sandbox/stock", json={"item_id": "A0006", "warehouse": "11", "qty": 10})
    sales_id = await _create(ax, "C-000001", "RB-1", [("A0006", "2")])
    reserved = (await _on_hand(ax, "A0006"))["ReservPhysical"]
    doc_hash = text(await _read(ax, sales_id), "SalesOrder/SalesTable/_DocumentHash", "SalesOrder")
    line = ('<SalesLine class="entity" action="create"><ItemId>NOPE</ItemId><SalesQty>1</SalesQty>'
            "<SalesUnit>ea</SalesUnit></SalesLine>")
    r = await call(ax, SO, "update", _update_doc(sales_id, doc_hash, "bad line", extra=line))
    assert "'NOPE'" in fault(r)[0]
    doc = await _read(ax, sales_id)
    assert text(doc, "SalesOrder/SalesTable/_DocumentHash", "SalesOrder") == doc_hash
    assert text(doc, "SalesOrder/SalesTable/CustomerRef", "SalesOrder") == "Web order RB-1"
    assert (await _on_hand(ax, "A0006"))["ReservPhysical"] == reserved
    # the same hash still works for a valid update
    ok = await call(ax, SO, "update", _update_doc(sales_id, doc_hash, "good"))
    assert ok.status_code == 200, ok.text
