"""Hand-written SOAP 1.1 envelopes in the shape of the public AX 2012 samples, and readers.

The sandbox is checked against these raw messages, not only against a SOAP library.
"""

from __future__ import annotations

from typing import Any

import httpx
from lxml import etree

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICES = "http://schemas.microsoft.com/dynamics/2008/01/services"
CTX = "http://schemas.microsoft.com/dynamics/2010/01/datacontracts"
EKL = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKeyList"
EK = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKey"
QC = "http://schemas.microsoft.com/dynamics/2006/02/documents/QueryCriteria"
PAGING = "http://schemas.microsoft.com/dynamics/2006/02/documents/DocumentPaging"
KEYPAGE = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKeyPage"
FAULT = "http://schemas.microsoft.com/dynamics/2008/01/documents/Fault"
DOC = "http://schemas.microsoft.com/dynamics/2008/01/documents/"
PATH = "/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc"
GENERIC = "Request Failed. See the Exception Log for details."


def envelope(body: str, company: str | None = "DAT", message_id: str | None = None, header: str = "") -> bytes:
    ctx = ""
    if company is not None or message_id is not None:
        ctx = f'<CallContext xmlns="{CTX}">'
        ctx += f"<Company>{company}</Company>" if company is not None else ""
        ctx += "<Language>en-us</Language>"
        ctx += f"<MessageId>{message_id}</MessageId>" if message_id else ""
        ctx += "</CallContext>"
    return (f'<s:Envelope xmlns:s="{SOAP}"><s:Header>{ctx}{header}</s:Header>'
            f"<s:Body>{body}</s:Body></s:Envelope>").encode()


def key_list(field: str, *values: str) -> str:
    keys = "".join(
        f'<EntityKey xmlns="{EK}"><KeyData><KeyField><Field>{field}</Field><Value>{v}</Value></KeyField>'
        "</KeyData></EntityKey>" for v in values)
    return f'<EntityKeyList xmlns="{EKL}">{keys}</EntityKeyList>'


def criteria(*elements: tuple[str, str, str, str]) -> str:
    inner = "".join(
        f"<CriteriaElement><DataSourceName>{ds}</DataSourceName><FieldName>{f}</FieldName>"
        f"<Operator>{op}</Operator><Value1>{v}</Value1></CriteriaElement>" for ds, f, op, v in elements)
    return f'<QueryCriteria xmlns="{QC}">{inner}</QueryCriteria>'


def wrap(service: str, op: str, inner: str) -> str:
    name = f"{service}{op[0].upper()}{op[1:]}Request"
    return f'<{name} xmlns="{SERVICES}">{inner}</{name}>'


def sales_order(cust: str, po: str, lines: list[tuple[str, str]], extra_header: str = "",
                warehouse: str = "11") -> str:
    body = "".join(
        f'<SalesLine class="entity"><ItemId>{item}</ItemId><SalesQty>{qty}</SalesQty><SalesUnit>ea</SalesUnit>'
        f'<InventDim class="entity"><InventLocationId>{warehouse}</InventLocationId></InventDim></SalesLine>'
        for item, qty in lines)
    return (f'<SalesOrder xmlns="{DOC}SalesOrder"><SalesTable class="entity">{extra_header}'
            f"<CurrencyCode>EUR</CurrencyCode><CustAccount>{cust}</CustAccount>"
            f"<CustomerRef>Web order {po}</CustomerRef><PurchOrderFormNum>{po}</PurchOrderFormNum>"
            f"<ReceiptDateRequested>2026-03-02</ReceiptDateRequested>{body}</SalesTable></SalesOrder>")


async def call(client: httpx.AsyncClient, service: str, op: str, inner: str, **kw: Any) -> httpx.Response:
    return await client.post(
        PATH, content=envelope(wrap(service, op, inner), **kw),
        headers={"Content-Type": "text/xml; charset=utf-8",
                 "SOAPAction": f'"http://schemas.microsoft.com/dynamics/2008/01/services/{service}/{op}"'})


def body(response: httpx.Response) -> etree._Element:
    root = etree.fromstring(response.content)
    return root.find(f"{{{SOAP}}}Body")[0]


def fault(response: httpx.Response) -> tuple[str, etree._Element]:
    """(faultstring, AifFault element) of a fault response."""
    assert response.status_code == 500, response.text
    f = body(response)
    assert f.tag == f"{{{SOAP}}}Fault"
    return f.findtext("faultstring"), f.find(f"detail/{{{FAULT}}}AifFault")


def infolog(aif: etree._Element) -> list[str]:
    return [m.text for m in aif.iter("{http://schemas.datacontract.org/2004/07/Microsoft.Dynamics.AX.Framework.Services}Message")]


def keys(el: etree._Element) -> list[str]:
    return [v.text for v in el.iter(f"{{{EK}}}Value")]


def text(el: etree._Element, path: str, doc: str) -> str | None:
    """Text of ``path`` (slash-separated local names) inside a document namespace."""
    ns = f"{{{DOC}{doc}}}"
    return el.findtext("/".join(ns + p for p in path.split("/")))
