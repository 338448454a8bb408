"""An independent SOAP stack (zeep, plain sync client, fresh from the served WSDL) calls every
operation of every service of the sandbox over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import zeep
from zeep.exceptions import Fault

from connectors.dynamics_ax.sandbox import SandboxConfig, run_in_thread
from connectors.dynamics_ax.wsdl import SERVICES

pytestmark = pytest.mark.contract
CONFIG = SandboxConfig(seed=5, items=8, customers=5, open_orders=2, include_exceptions_in_fault=True)
CTX = {"context": {"Company": "DAT", "Language": "en-us"}}
DOC = "{http://schemas.microsoft.com/dynamics/2008/01/documents/"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with run_in_thread(CONFIG) as url:
        # open orders move to invoiced so that packing slips and invoices exist
        for _ in range(3):
            httpx.post(url + "/_sandbox/fulfilment/step", json={}, timeout=10)
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> zeep.Client:
    return zeep.Client(base_url + CONFIG.service_path + "?wsdl")


def proxy(client: zeep.Client, base_url: str, service: str) -> zeep.proxy.ServiceProxy:
    return client.create_service(f"{{http://tempuri.org/}}BasicHttpBinding_{service}", base_url + CONFIG.service_path)


def test_served_wsdl_lists_every_service_and_operation(client: zeep.Client, base_url: str):
    service = client.wsdl.services["RoutingService"]
    ports = set(service.ports)
    assert ports == {f"BasicHttpBinding_{s}" for s in SERVICES} | {"reqReplyEndpoint"}
    for name, spec in SERVICES.items():
        port = service.ports[f"BasicHttpBinding_{name}"]
        assert port.binding_options["address"] == base_url + CONFIG.service_path
        assert set(port.binding._operations) == set(spec.operations)
        op = port.binding._operations[spec.operations[0]]
        assert op.soapaction == f"http://schemas.microsoft.com/dynamics/2008/01/services/{name}/{spec.operations[0]}"
    wsdl = httpx.get(base_url + CONFIG.service_path + "?wsdl").text
    assert f'location="{base_url}{CONFIG.service_path}?wsdl=wsdl0"' in wsdl
    xsd0 = httpx.get(base_url + CONFIG.service_path + "?xsd=xsd0")
    assert xsd0.status_code == 200 and "SalesOrderServiceCreateRequest" in xsd0.text
    assert httpx.get(base_url + CONFIG.service_path + "?xsd=xsd99").status_code == 404


def _first_keys(svc, page_size: int = 3) -> list:
    page = svc.getKeys(_soapheaders=CTX, DocumentPaging={"PageSize": page_size})
    assert page.PageStatus == "Success"
    return list(page.EntityKeyList.EntityKey)


def _since() -> datetime:
    # the seeded data was last changed a day before the sandbox started (it predates the bridge)
    return datetime.now(UTC) - timedelta(hours=36)


@pytest.mark.parametrize("service", ["InventoryOnHandService", "SalesInvoiceService", "SalesPackingSlipService",
                                     "ItemService", "EcoResProductService", "CustomerService", "SalesOrderService"])
def test_read_side_operations(client: zeep.Client, base_url: str, service: str):
    svc = proxy(client, base_url, service)
    spec = SERVICES[service]
    keys = _first_keys(svc)
    assert keys, f"{service} has no documents to page through"
    doc = svc.read(_soapheaders=CTX, EntityKeyList={"EntityKey": [keys[0]]})
    top = getattr(doc, spec.root_entity)
    assert len(top) == 1
    key_value = keys[0].KeyData.KeyField[0].Value
    field = spec.key_fields[0]
    assert str(getattr(top[0], field)) == key_value
    criteria = {"CriteriaElement": [  # every key field (on-hand has a compound key)
        {"DataSourceName": spec.root_entity, "FieldName": kf.Field, "Operator": "Equal", "Value1": kf.Value}
        for kf in keys[0].KeyData.KeyField]}
    found = svc.find(_soapheaders=CTX, QueryCriteria=criteria)
    assert [str(getattr(e, field)) for e in getattr(found, spec.root_entity)] == [key_value]
    found_keys = svc.findKeys(_soapheaders=CTX, QueryCriteria=criteria)
    assert [k.KeyData.KeyField[0].Value for k in found_keys] == [key_value]
    changed = svc.getChangedKeys(_soapheaders=CTX, DocumentPaging={"PageSize": 100}, changedDateTime=_since())
    assert changed.PageStatus == "Success"
    assert key_value in {k.KeyData.KeyField[0].Value for k in changed.EntityKeyList.EntityKey}


def test_sales_order_create_update_delete(client: zeep.Client, base_url: str):
    svc = proxy(client, base_url, "SalesOrderService")
    ctx = {"context": {"Company": "DAT", "MessageId": "{0B3E5C44-0000-4000-8000-000000000001}"}}
    created = svc.create(_soapheaders=ctx, SalesOrder={"SalesTable": [{
        "class": "entity", "CustAccount": "C-000001", "PurchOrderFormNum": "ZEEP-1", "CustomerRef": "zeep",
        "ReceiptDateRequested": "2026-05-01",
        "SalesLine": [{"class": "entity", "ItemId": "A0001", "SalesQty": Decimal(1), "SalesUnit": "ea"}]}]})
    key = created[0]
    sales_id = key.KeyData.KeyField[0].Value
    doc = svc.read(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]})
    table = doc.SalesTable[0]
    assert table.SalesId == sales_id and table.SalesStatus == "Backorder"
    svc.update(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]}, SalesOrder={"SalesTable": [{
        "class": "entity", "action": "update", "_DocumentHash": table._DocumentHash, "CustomerRef": "zeep 2",
        "PurchOrderFormNum": "ZEEP-1", "ReceiptDateRequested": "2026-05-01"}]})
    assert svc.read(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]}).SalesTable[0].CustomerRef == "zeep 2"
    with pytest.raises(Fault) as stale:
        svc.update(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]}, SalesOrder={"SalesTable": [{
            "class": "entity", "action": "update", "_DocumentHash": table._DocumentHash, "CustomerRef": "x",
            "PurchOrderFormNum": "ZEEP-1", "ReceiptDateRequested": "2026-05-01"}]})
    assert stale.value.message.startswith("The document hash does not match")
    assert stale.value.detail.find(".//{*}XppExceptionType").text == "3"
    svc.delete(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]})
    with pytest.raises(Fault) as gone:
        svc.read(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]})
    assert gone.value.message == "No valid document identified from the entity key."


def test_customer_product_item_create_and_customer_update_delete(client: zeep.Client, base_url: str):
    customers = proxy(client, base_url, "CustomerService")
    person = client.get_type(f"{DOC}Customer}}AxdEntity_DirParty_DirPerson")
    party = person(**{"class": "entity", "PersonName": [{"class": "entity", "FirstName": "Zoe", "LastName": "Zeep"}],
                      "DirPartyContactInfoView": [{"class": "entity", "Locator": "zoe@example.org", "Type": "Email"}]})
    created = customers.create(_soapheaders=CTX, Customer={"CustTable": [{"class": "entity", "CustGroup": "WEB",
                                                                         "DirParty": party}]})
    key = created[0]
    cust = customers.read(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]}).CustTable[0]
    assert cust.Name == "Zoe Zeep" and cust.DirParty.DirPartyContactInfoView[0].Locator == "zoe@example.org"
    customers.update(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]}, Customer={"CustTable": [{
        "class": "entity", "action": "update", "_DocumentHash": cust._DocumentHash, "CustGroup": "10"}]})
    assert customers.read(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]}).CustTable[0].CustGroup == "10"
    customers.delete(_soapheaders=CTX, EntityKeyList={"EntityKey": [key]})

    products = proxy(client, base_url, "EcoResProductService")
    distinct = client.get_type(f"{DOC}EcoResProduct}}AxdEntity_Product_EcoResDistinctProduct")
    products.create(_soapheaders=CTX, EcoResProduct={"Product": [distinct(**{
        "class": "entity", "DisplayProductNumber": "ZP-1", "ProductType": "Item",
        "Translation": [{"class": "entity", "LanguageId": "en-us", "Name": "Zeep product"}]})]})
    items = proxy(client, base_url, "ItemService")
    item_key = items.create(_soapheaders=CTX, Item={"InventTable": [{
        "class": "entity", "ItemId": "ZP-1", "Product": "ZP-1",
        "Sales": [{"class": "entity", "ItemId": "ZP-1", "Price": Decimal("9.95"), "UnitId": "ea"}]}]})[0]
    item = items.read(_soapheaders=CTX, EntityKeyList={"EntityKey": [item_key]}).InventTable[0]
    assert item.Sales[0].Price == Decimal("9.95")


def test_faults_reach_zeep_as_aif_faults(client: zeep.Client, base_url: str):
    svc = proxy(client, base_url, "SalesOrderService")
    with pytest.raises(Fault) as bad_company:
        svc.read(_soapheaders={"context": {"Company": "ZZZ"}}, EntityKeyList={"EntityKey": []})
    assert bad_company.value.message == "Company ZZZ does not exist."
    httpx.post(base_url + "/_sandbox/faults", json={"deadlock_next": 1})
    with pytest.raises(Fault) as deadlock:
        svc.getKeys(_soapheaders=CTX, DocumentPaging={"PageSize": 1})
    assert deadlock.value.detail.find(".//{*}XppExceptionType").text == "2"
