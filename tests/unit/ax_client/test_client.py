"""The client against a scripted AIF endpoint: envelopes sent, results decoded, faults mapped."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from connectors.dynamics_ax import (
    EntityKey,
    NewAddress,
    NewCustomer,
    NewSalesLine,
    NewSalesOrder,
    message_id_for,
)
from connectors.errors import AuthError, DuplicateError, NotFoundError, PermanentError, TransientError

pytestmark = pytest.mark.unit

SO = "SalesOrderService"
ORDER = NewSalesOrder(
    cust_account="C-1001", shop_reference="WEB-7781", currency="EUR",
    requested_receipt_date=dt.date(2026, 3, 2), delivery_name="Ann Lee",
    delivery_address=NewAddress(street="1 Rue X", city="Paris", zip_code="75001", country="FRA"),
    lines=[NewSalesLine(item_id="A0001", qty=Decimal(2), unit="ea", price=Decimal("9.90"), warehouse="11")],
)
SALES_TABLE = (
    '<SalesTable class="entity"><_DocumentHash>{hash}</_DocumentHash><CurrencyCode>EUR</CurrencyCode>'
    "<CustAccount>C-1001</CustAccount><CustomerRef>WEB-7781</CustomerRef><PurchOrderFormNum>WEB-7781</PurchOrderFormNum>"
    "<ReceiptDateRequested>2026-03-02</ReceiptDateRequested><RecId>{rec}</RecId><RecVersion>1</RecVersion>"
    "<SalesId>{sid}</SalesId><SalesStatus>Backorder</SalesStatus><SalesType>{stype}</SalesType>"
    '<SalesLine class="entity"><ItemId>A0001</ItemId><LineAmount>19.80</LineAmount><SalesPrice>9.90</SalesPrice>'
    '<SalesQty>2</SalesQty><SalesUnit>ea</SalesUnit><InventDim class="entity"><InventLocationId>11</InventLocationId>'
    "</InventDim></SalesLine></SalesTable>"
)


def order_xml(sid="SO-000123", stype="Sales", rec=5637144576, hash_="0123456789abcdef0123456789abcdef"):
    return SALES_TABLE.format(sid=sid, stype=stype, rec=rec, hash=hash_)


async def test_create_sales_order_sends_the_reference_shape(ax, aif, soap):
    aif.on("create", soap.keys(SO, "Create", "SalesId", "SO-000123"))
    created = await ax.create_sales_order(ORDER, idempotency_key="order:WEB-7781")
    assert created.key == "SO-000123" and not created.existed
    sent = aif.seen[0]
    assert sent.action == "http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/create"
    assert sent.context == {"Company": "DAT", "Language": "en-us",
                            "MessageId": message_id_for("DAT", SO, "create", "order:WEB-7781")}
    assert b"addressing" not in sent.raw  # basicHttpBinding: no WS-Addressing headers
    table = sent.body[0][0]
    assert table.get("class") == "entity"
    assert soap.text_of(table, "PurchOrderFormNum") == ["WEB-7781"]
    assert soap.text_of(table, "CustomerRef") == ["WEB-7781"]
    assert soap.text_of(table, "SalesQty") == ["2"] and soap.text_of(table, "InventLocationId") == ["11"]
    # field order follows the schema (case-insensitive alphabetical, children last)
    names = [el.tag.split("}")[1] for el in table]
    assert names.index("CurrencyCode") < names.index("CustAccount") < names.index("PurchOrderFormNum")
    assert names[-2:] == ["TableDlvAddr", "SalesLine"]
    assert all(el.get("class") == "entity" for el in table.iter() if el.tag.endswith(("SalesLine", "InventDim")))


async def test_retry_reuses_message_id_and_duplicate_resolves_by_reference(ax, aif, soap):
    aif.on("create", httpx.ReadTimeout("timed out"),
           soap.fault("Duplicate message. Message has already been processed."))
    aif.on("find", soap.document(SO, "Find", "SalesOrder", order_xml("SO-000124", "Journal", 9) + order_xml()))
    with pytest.raises(TransientError):
        await ax.create_sales_order(ORDER, idempotency_key="order:WEB-7781")
    created = await ax.create_sales_order(ORDER, idempotency_key="order:WEB-7781")
    assert created.key == "SO-000123" and created.existed  # the regular order wins over the journal
    first, second = aif.of("create")
    assert first.context["MessageId"] == second.context["MessageId"]
    crit = aif.of("find")[0].body
    assert soap.text_of(crit, "FieldName") == ["PurchOrderFormNum"] and soap.text_of(crit, "Value1") == ["WEB-7781"]


async def test_duplicate_without_a_trace_stays_duplicate(ax, aif, soap):
    aif.on("create", soap.fault("Duplicate message. Message has already been processed."))
    aif.on("find", soap.document(SO, "Find", "SalesOrder", ""))
    with pytest.raises(DuplicateError, match="No sales order with PurchOrderFormNum WEB-7781"):
        await ax.create_sales_order(ORDER, idempotency_key="order:WEB-7781")


async def test_read_decodes_typed_view(ax, aif, soap):
    aif.on("read", soap.document(SO, "Read", "SalesOrder", order_xml()))
    order = await ax.read_sales_order("SO-000123")
    assert order.sales_id == "SO-000123" and order.purch_order_form_num == "WEB-7781"
    assert order.receipt_date_requested == dt.date(2026, 3, 2)
    assert order.lines[0].line_amount == Decimal("19.80") and order.lines[0].invent_dim[0].invent_location_id == "11"
    assert order.lines[0].line_disc == 0  # omitted by AX on output, defaults to zero
    assert soap.text_of(aif.seen[0].body, "Value") == ["SO-000123"]


async def test_read_unknown_key_is_none(ax, aif, soap):
    aif.on("read", soap.fault("No valid document identified from the entity key."))
    assert await ax.read_sales_order("SO-999") is None


async def test_read_many_is_batched(ax, aif, soap):
    item = ('<InventTable class="entity"><ItemId>{0}</ItemId><Sales class="entity"><ItemId>{0}</ItemId>'
            "<ModuleType>Sales</ModuleType><Price>12.50</Price><UnitId>ea</UnitId></Sales></InventTable>")
    aif.on("read", soap.document("ItemService", "Read", "Item", item.format("A1") + item.format("A2")),
           soap.document("ItemService", "Read", "Item", item.format("A3")))
    items = await ax.read_items(["A1", "A2", "A3"])
    assert [i.item_id for i in items] == ["A1", "A2", "A3"]
    assert items[0].sales_price == Decimal("12.50") and items[0].sales_unit == "ea"
    assert [len(soap.text_of(s.body, "KeyField")) for s in aif.of("read")] == [2, 1]


async def test_partial_update_reads_first_and_retries_once_on_hash_mismatch(ax, aif, soap):
    aif.on("read", soap.document(SO, "Read", "SalesOrder", order_xml(hash_="a" * 32)),
           soap.document(SO, "Read", "SalesOrder", order_xml(hash_="b" * 32)))
    aif.on("update", soap.fault("The document hash does not match the hash in the XML. The document may have "
                                "been changed since last read"), soap.empty(SO, "Update"))
    await ax.service("sales_order").update(EntityKey.of(SalesId="SO-000123"), {"DlvMode": "UPS"},
                                           idempotency_key="order:WEB-7781:dlv")
    first, second = aif.of("update")
    assert soap.text_of(first.body, "_DocumentHash") == ["a" * 32]
    assert soap.text_of(second.body, "_DocumentHash") == ["b" * 32]
    assert first.context["MessageId"] != second.context["MessageId"]
    table = next(el for el in second.body.iter() if el.tag.endswith("}SalesTable"))
    assert table.get("action") == "update" and table.get("class") == "entity"
    assert soap.text_of(table, "DlvMode") == ["UPS"] and soap.text_of(table, "SalesId") == ["SO-000123"]
    assert not soap.text_of(table, "CustAccount")  # partial: untouched fields are not sent


async def test_hash_mismatch_twice_is_transient(ax, aif, soap):
    mismatch = "The document hash does not match the hash in the XML. The document may have been changed since last read"
    aif.on("read", soap.document(SO, "Read", "SalesOrder", order_xml()), soap.document(SO, "Read", "SalesOrder", order_xml()))
    aif.on("update", soap.fault(mismatch), soap.fault(mismatch))
    with pytest.raises(TransientError) as info:
        await ax.service("sales_order").update(EntityKey.of(SalesId="SO-000123"), {"DlvMode": "UPS"},
                                               idempotency_key="k")
    assert info.value.code == "hash_mismatch"


async def test_full_update_replaces(ax, aif, soap):
    aif.on("read", soap.document(SO, "Read", "SalesOrder", order_xml()))
    aif.on("update", soap.empty(SO, "Update"))

    def edit(table):
        table["DlvMode"] = "DHL"
        table["SalesLine"] = []  # full update: lines not sent are deleted by AX

    await ax.service("sales_order").update(EntityKey.of(SalesId="SO-000123"), edit, idempotency_key="k", partial=False)
    table = next(el for el in aif.of("update")[0].body.iter() if el.tag.endswith("}SalesTable"))
    assert table.get("action") == "replace"
    assert soap.text_of(table, "CustAccount") == ["C-1001"] and soap.text_of(table, "DlvMode") == ["DHL"]
    assert not soap.text_of(table, "ItemId")


async def test_delete_duplicate_is_done(ax, aif, soap):
    aif.on("delete", soap.fault("Duplicate message. Message has already been processed."))
    await ax.service("sales_order").delete([EntityKey.of(SalesId="SO-1")], idempotency_key="del:SO-1")
    assert aif.of("delete")[0].context["MessageId"] == message_id_for("DAT", SO, "delete", "del:SO-1")


async def test_changed_keys_pages_with_bookmarks(ax, aif, soap):
    aif.on("getChangedKeys", soap.page(SO, "GetChangedKeys", "SalesId", ["S1", "S2"], "bm1"),
           soap.page(SO, "GetChangedKeys", "SalesId", ["S3"], "bm2"),
           soap.page(SO, "GetChangedKeys", "SalesId", [], None))
    since = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
    pages = [p async for p in ax.changed_keys("sales_order", since)]
    assert [[k.value for k in p.keys] for p in pages] == [["S1", "S2"], ["S3"], []]
    sent = aif.of("getChangedKeys")
    assert [soap.text_of(s.body, "Bookmark") for s in sent] == [[], ["bm1"], ["bm2"]]
    assert soap.text_of(sent[0].body, "PageSize") == ["2"]
    assert soap.text_of(sent[0].body, "changedDateTime")[0].startswith("2026-11-01T12:00:00")


async def test_changed_keys_out_of_range_stops(ax, aif, soap):
    aif.on("getChangedKeys", soap.page(SO, "GetChangedKeys", "SalesId", [], None, details="ChangedDateTimeOutOfRange"))
    pages = [p async for p in ax.changed_keys("sales_order", dt.datetime(2020, 1, 1))]
    assert len(pages) == 1 and pages[0].needs_full_resync
    assert pages[0].status_details == "ChangedDateTimeOutOfRange"


async def test_create_customer_person_with_xsi_type(ax, aif, soap):
    aif.on("create", soap.keys("CustomerService", "Create", "AccountNum", "C-2001"))
    new = NewCustomer(cust_group="WEB", currency="EUR", first_name="Ann", last_name="Lee", email="ann@example.com",
                      phone="+33 1 23", address=NewAddress(street="1 Rue X", city="Paris", zip_code="75001", country="FRA"))
    created = await ax.create_customer(new, idempotency_key="customer:17")
    assert created.key == "C-2001"
    party = next(el for el in aif.seen[0].body.iter() if el.tag.endswith("}DirParty"))
    assert party.get("{http://www.w3.org/2001/XMLSchema-instance}type").endswith("AxdEntity_DirParty_DirPerson")
    assert soap.text_of(party, "LastName") == ["Lee"]
    assert soap.text_of(party, "Locator") == ["ann@example.com", "+33 1 23"]
    assert soap.text_of(party, "Type") == ["Email", "Phone"]


@pytest.mark.parametrize(
    ("answer", "cls", "code"),
    [
        (httpx.Response(503, headers={"Retry-After": "5"}), TransientError, "unavailable"),
        (httpx.Response(401, headers={"WWW-Authenticate": "Negotiate"}), AuthError, "unauthorized"),
        (httpx.Response(400, text="<html>Bad Request</html>"), PermanentError, "message_too_large"),
        (httpx.ConnectError("refused"), TransientError, "network"),
    ],
)
async def test_http_and_network_failures(ax, aif, answer, cls, code):
    aif.on("read", answer)
    with pytest.raises(cls) as info:
        await ax.read("sales_order", [EntityKey.of(SalesId="S1")])
    assert info.value.code == code
    if code == "unavailable":
        assert info.value.retry_after == 5.0


async def test_deadlock_and_business_faults(ax, aif, soap):
    aif.on("create", soap.fault("Deadlock.", xpp=2), soap.fault("Customer account C-9 does not exist."))
    with pytest.raises(TransientError, match="deadlock"):
        await ax.create_sales_order(ORDER, idempotency_key="x")
    with pytest.raises(PermanentError, match="Customer account C-9 does not exist"):
        await ax.create_sales_order(ORDER, idempotency_key="x")


async def test_find_customer_by_email_checks_the_answer(ax, aif, soap):
    cust = ('<CustTable class="entity"><AccountNum>{acc}</AccountNum><CustGroup>WEB</CustGroup>'
            '<DirParty class="entity" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:type="AxdEntity_DirParty_DirPerson">'
            "<Name>Ann Lee</Name>"
            '<DirPartyContactInfoView class="entity"><Locator>{mail}</Locator><Type>Email</Type></DirPartyContactInfoView>'
            '<PersonName class="entity"><FirstName>Ann</FirstName><LastName>Lee</LastName></PersonName></DirParty></CustTable>')
    aif.on("find", soap.document("CustomerService", "Find", "Customer",
                                 cust.format(acc="C-1", mail="other@example.com") + cust.format(acc="C-2", mail="Ann@Example.com")))
    found = await ax.find_customer_by_email("ann@example.com")
    assert found is not None and found.account_num == "C-2" and found.kind == "person" and found.email == "Ann@Example.com"
    assert found.party_view.person_name[0].last_name == "Lee"


async def test_not_found_is_typed(ax, aif, soap):
    aif.on("read", soap.fault("No valid document identified from the entity key."))
    with pytest.raises(NotFoundError):
        await ax.read("customer", [EntityKey.of(AccountNum="nope")])


async def test_port_operations_from_the_wsdl(ax):
    ops = ax.port_operations()
    assert set(ops) == {"customer", "sales_order", "item", "on_hand", "invoice", "packing_slip", "cust_trans",
                        "product", "price_agreement"}
    assert ops["cust_trans"] == ["find", "findKeys", "read"]  # R2+ CustomerTransactionService, read-only
    assert {"create", "read", "update", "delete", "find", "findKeys", "getKeys", "getChangedKeys"} <= set(ops["sales_order"])
    assert "getChangedKeys" in ops["packing_slip"] and "create" not in ops["invoice"]


async def test_omitted_enum_is_its_first_symbol(ax, aif, soap):
    # AX leaves out enum values of ordinal 0: a missing SalesType is a Journal order
    aif.on("read", soap.document(SO, "Read", "SalesOrder", order_xml().replace("<SalesType>Sales</SalesType>", "")))
    order = await ax.read_sales_order("SO-000123")
    assert order.sales_type == "Journal" and order.document_status == "None"


async def test_skip_missing_reads_a_failed_batch_key_by_key(ax, aif, soap):
    item = '<InventTable class="entity"><ItemId>{0}</ItemId></InventTable>'
    missing = "No valid document identified from the entity key."
    aif.on("read", soap.fault(missing), soap.document("ItemService", "Read", "Item", item.format("A1")),
           soap.fault(missing), soap.document("ItemService", "Read", "Item", item.format("A3")))
    items = await ax.read_items(["A1", "GONE", "A3"], skip_missing=True)
    assert [i.item_id for i in items] == ["A1", "A3"]
    assert [len(soap.text_of(s.body, "KeyField")) for s in aif.of("read")] == [2, 1, 1, 1]


async def test_call_context_carries_logon_as_user_and_partition(aif, soap):
    from connectors.dynamics_ax import AxConfig, Client

    cfg = AxConfig(base_url="http://aos.test/MicrosoftDynamicsAXAif60", port_name="WebShop", company="USMF",
                   language="de", logon_as_user="CONTOSO\\web-shop", partition_key="initial", wsdl="bundled")
    aif.on("read", soap.fault("No valid document identified from the entity key."))
    async with Client(cfg, transport=httpx.MockTransport(aif)) as client:
        assert await client.read_sales_order("SO-1") is None
    assert aif.seen[0].context == {"Company": "USMF", "Language": "de", "LogonAsUser": "CONTOSO\\web-shop",
                                   "MessageId": aif.seen[0].context["MessageId"], "PartitionKey": "initial"}


async def test_operation_missing_on_the_port_is_config(ax, aif):
    from connectors.errors import ConfigError

    with pytest.raises(ConfigError, match="no operation 'create'"):
        await ax.soap.call("SalesInvoiceService", "create", idempotency_key="x")
    assert aif.seen == []  # refused before anything was sent


async def test_secrets_stay_out_of_logs_and_errors(aif, caplog):
    import base64
    import logging

    from connectors.dynamics_ax import AuthConfig, AxConfig, Client

    caplog.set_level(logging.DEBUG)
    cfg = AxConfig(base_url="http://aos.test/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT",
                   wsdl="bundled", auth=AuthConfig(mode="basic", username="svc", password="S3cr3t-pw!"))
    aif.on("create", httpx.Response(401, text="401 - Unauthorized"))
    async with Client(cfg, transport=httpx.MockTransport(aif)) as client:
        with pytest.raises(AuthError) as info:
            await client.create_sales_order(ORDER, idempotency_key="o")
    header = base64.b64encode(b"svc:S3cr3t-pw!").decode()
    assert aif.seen[0].headers["authorization"] == "Basic " + header  # it was sent...
    texts = [info.value.message, repr(cfg), str(cfg.model_dump()), caplog.text]
    assert not any("S3cr3t-pw!" in t or header in t for t in texts)  # ...and shown nowhere


async def test_created_order_numbers_land_on_the_callers_span(ax, aif, soap):
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("flow-step")
    aif.on("create", soap.keys(SO, "Create", "SalesId", "SO-000321"))
    with tracer.start_as_current_span("load order") as span:
        await ax.create_sales_order(ORDER, idempotency_key="order:WEB-7781")
    assert span.attributes["ax.sales_id"] == "SO-000321"
    assert span.attributes["shop.order_reference"] == "WEB-7781"
