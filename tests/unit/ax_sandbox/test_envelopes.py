"""Raw SOAP envelopes in the shape of the public samples get the responses and faults the
reference describes (create, read, find, bad documents, CallContext, WCF-level refusals)."""

from __future__ import annotations

import re

import pytest

from tests.unit.ax_sandbox.soap import (
    DOC,
    EKL,
    GENERIC,
    PATH,
    call,
    criteria,
    envelope,
    fault,
    infolog,
    key_list,
    keys,
    sales_order,
    text,
    wrap,
)

pytestmark = pytest.mark.unit


async def test_create_returns_entity_key_with_number_sequence_sales_id(ax):
    r = await call(ax, "SalesOrderService", "create", sales_order("C-000001", "WEB-7781", [("A0001", "1")]),
                   message_id="{5E0E1C1A-8D8E-4A53-9C7B-0C4F2F0B9A11}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml")
    resp = r.content.decode()
    assert "<SalesOrderServiceCreateResponse" in resp
    assert f'xmlns="{EKL}"' in resp
    assert re.search(r"<Field>SalesId</Field><Value>SO-\d{6}</Value>", resp)


async def test_read_by_entity_key_list_returns_the_document_with_hash_and_recids(ax):
    created = await call(ax, "SalesOrderService", "create", sales_order("C-000002", "WEB-1", [("A0002", "2")]))
    sales_id = re.search(r"<Value>(SO-\d+)</Value>", created.text).group(1)
    r = await call(ax, "SalesOrderService", "read", key_list("SalesId", sales_id))
    assert r.status_code == 200, r.text
    from tests.unit.ax_sandbox.soap import body

    wrapper = body(r)
    assert wrapper.tag.endswith("SalesOrderServiceReadResponse")
    assert text(wrapper, "SalesOrder/DocPurpose", "SalesOrder") == "Original"
    assert text(wrapper, "SalesOrder/SenderId", "SalesOrder") == "DAT"
    assert text(wrapper, "SalesOrder/SalesTable/SalesId", "SalesOrder") == sales_id
    assert re.fullmatch(r"[0-9a-f]{32}", text(wrapper, "SalesOrder/SalesTable/_DocumentHash", "SalesOrder"))
    table = wrapper.find(f"{{{DOC}SalesOrder}}SalesOrder/{{{DOC}SalesOrder}}SalesTable")
    assert table.get("class") == "entity"
    names = [child.tag.split("}")[1] for child in table]
    assert names[0] == "_DocumentHash"  # hash first, then fields alphabetically, then children
    fields = [n for n in names[1:] if n not in ("SalesLine",)]
    assert fields == sorted(fields, key=str.lower)
    assert int(text(wrapper, "SalesOrder/SalesTable/RecId", "SalesOrder")) > 5637144576
    line_qty = text(wrapper, "SalesOrder/SalesTable/SalesLine/SalesQty", "SalesOrder")
    assert line_qty == "2"
    # outbound AX omits zero / empty non-mandatory values
    assert text(wrapper, "SalesOrder/SalesTable/TotalInvoice", "SalesOrder") is None


async def test_read_unknown_key_gives_no_valid_document_fault(ax):
    r = await call(ax, "SalesOrderService", "read", key_list("SalesId", "SO-999999"))
    faultstring, aif = fault(r)
    assert faultstring == "No valid document identified from the entity key."
    assert aif.findtext(f"{{{aif.nsmap[None]}}}XppExceptionType") == "3"
    assert infolog(aif) == ["No valid document identified from the entity key."]


async def test_find_with_query_criteria(ax):
    for po in ("FIND-1", "FIND-2"):
        await call(ax, "SalesOrderService", "create", sales_order("C-000003", po, [("A0001", "1")]))
    r = await call(ax, "SalesOrderService", "find", criteria(("SalesTable", "PurchOrderFormNum", "Equal", "FIND-2")))
    assert r.status_code == 200, r.text
    assert r.text.count("<PurchOrderFormNum>FIND-2</PurchOrderFormNum>") == 1
    assert "FIND-1" not in r.text
    r = await call(ax, "SalesOrderService", "findKeys",
                   criteria(("SalesTable", "PurchOrderFormNum", "Equal", "find-*")))  # case-insensitive wildcard
    from tests.unit.ax_sandbox.soap import body

    assert len(keys(body(r))) == 2
    r = await call(ax, "CustomerService", "findKeys", criteria(("DirPartyContactInfoView", "Type", "Equal", "Email")))
    assert len(keys(body(r))) == 4  # every seeded customer has an e-mail (child data source)


async def test_find_on_unknown_data_source_is_a_fault(ax):
    r = await call(ax, "SalesOrderService", "find", criteria(("CustTable", "AccountNum", "Equal", "x")))
    faultstring, _ = fault(r)
    assert "CustTable" in faultstring


async def test_bad_document_wrong_order_names_the_expected_elements(ax):
    bad = (f'<SalesOrder xmlns="{DOC}SalesOrder"><SalesTable class="entity"><PurchOrderFormNum>X</PurchOrderFormNum>'
           "<CustAccount>C-000001</CustAccount><ReceiptDateRequested>2026-01-01</ReceiptDateRequested>"
           "</SalesTable></SalesOrder>")
    faultstring, _ = fault(await call(ax, "SalesOrderService", "create", bad))
    assert faultstring.startswith("Invalid document schema. The following error is reported : ")
    assert "The element 'SalesTable' in namespace" in faultstring
    assert "has invalid child element 'CustAccount'" in faultstring
    assert "List of possible elements expected:" in faultstring


async def test_bad_document_unknown_element_and_missing_mandatory(ax):
    unknown = sales_order("C-000001", "U-1", [("A0001", "1")], extra_header="<Colour>red</Colour>")
    faultstring, _ = fault(await call(ax, "SalesOrderService", "create", unknown))
    assert "invalid child element 'Colour'" in faultstring
    missing = (f'<SalesOrder xmlns="{DOC}SalesOrder"><SalesTable class="entity"><CustAccount>C-000001</CustAccount>'
               "</SalesTable></SalesOrder>")
    faultstring, _ = fault(await call(ax, "SalesOrderService", "create", missing))
    assert "PurchOrderFormNum" in faultstring  # the mandatory element AX expected next


async def test_over_long_string_is_a_schema_fault(ax):
    long_po = "P" * 21  # PurchOrderFormNum is 20 characters
    faultstring, aif = fault(await call(ax, "SalesOrderService", "create", sales_order("C-000001", long_po,
                                                                                        [("A0001", "1")])))
    assert "PurchOrderFormNum' element is invalid" in faultstring
    assert "The actual length is greater than the MaxLength value." in faultstring
    assert aif.find(f"{{{aif.nsmap[None]}}}FaultMessageListArray") is not None


async def test_generic_fault_text_without_include_exceptions(ax_factory):
    async with ax_factory(include_exceptions_in_fault=False) as client:
        r = await call(client, "SalesOrderService", "read", key_list("SalesId", "SO-424242"))
        faultstring, aif = fault(r)
        assert faultstring == GENERIC
        assert infolog(aif) == []
        assert "No valid document" not in r.text
        assert aif.findtext(f"{{{aif.nsmap[None]}}}XppExceptionType") == "3"


async def test_call_context_company_selects_data_set_and_unknown_company_faults(ax_factory):
    async with ax_factory(extra_companies=("CEU",), customers=2) as client:
        created = await call(client, "CustomerService", "create", _customer("CEU-ONLY"), company="ceu")
        assert created.status_code == 200, created.text
        seen = await call(client, "CustomerService", "read", key_list("AccountNum", "CEU-ONLY"), company="CEU")
        assert seen.status_code == 200
        other = await call(client, "CustomerService", "read", key_list("AccountNum", "CEU-ONLY"), company="DAT")
        assert fault(other)[0] == "No valid document identified from the entity key."
        default = await call(client, "CustomerService", "read", key_list("AccountNum", "C-000001"), company=None)
        assert "<SenderId>DAT</SenderId>" in default.text  # no CallContext: the default company
        unknown = await call(client, "CustomerService", "read", key_list("AccountNum", "C-000001"), company="XYZ")
        assert fault(unknown)[0] == "Company XYZ does not exist."


def _customer(account: str) -> str:
    ns = f"{DOC}Customer"
    return (f'<Customer xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<CustTable class="entity"><AccountNum>{account}</AccountNum><Currency>EUR</Currency>'
            '<CustGroup>WEB</CustGroup><DirParty xsi:type="AxdEntity_DirParty_DirOrganization" class="entity">'
            '<DirPartyContactInfoView class="entity"><Locator>sales@acme.example</Locator><Type>Email</Type>'
            '</DirPartyContactInfoView><OrganizationName class="entity"><Name>ACME Ltd</Name></OrganizationName>'
            "</DirParty></CustTable></Customer>")


async def test_wcf_refusals_action_content_type_size_and_dtd(ax):
    headers = {"Content-Type": "text/xml; charset=utf-8",
               "SOAPAction": "http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/explode"}
    r = await ax.post(PATH, content=envelope(wrap("SalesOrderService", "read", key_list("SalesId", "x"))),
                      headers=headers)
    assert r.status_code == 500 and "ActionNotSupported" in r.text and "ContractFilter mismatch" in r.text
    soap12 = {**headers, "Content-Type": "application/soap+xml; charset=utf-8"}
    assert (await ax.post(PATH, content=b"<x/>", headers=soap12)).status_code == 415
    good = {**headers, "SOAPAction": "http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/read"}
    big = envelope(wrap("SalesOrderService", "read", key_list("SalesId", *["SO-1"] * 1200)))
    assert len(big) > 65536
    too_big = await ax.post(PATH, content=big, headers=good)
    assert too_big.status_code == 400 and too_big.content == b""
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    assert (await ax.post(PATH, content=dtd, headers=good)).status_code == 400


async def test_must_understand_header_is_refused(ax):
    header = '<Security xmlns="urn:sec" xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:mustUnderstand="1"/>'
    r = await ax.post(PATH, content=envelope(wrap("SalesOrderService", "read", key_list("SalesId", "x")),
                                             header=header),
                      headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction":
                               "http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/read"})
    assert r.status_code == 500 and "s:MustUnderstand" in r.text


async def test_string_content_quota_of_wcf(ax):
    long_text = "x" * 8193
    r = await call(ax, "SalesOrderService", "create",
                   sales_order("C-000001", "Q-1", [("A0001", "1")]).replace("Web order Q-1", long_text))
    assert r.status_code == 500
    assert "a:DeserializationFailed" in r.text and "maximum string content length quota (8192)" in r.text
