"""The ``/_sandbox`` control API (JSON): state, faults, fulfilment steps, clock, stock, prices.

Not part of AX; it lets tests, demos and the CLI drive the emulated company:

* ``GET /_sandbox/state`` - counts per company, open customer transactions, clock, faults;
* ``GET|POST|DELETE /_sandbox/faults`` - read, change (JSON object of FaultSettings fields), reset;
* ``POST /_sandbox/fulfilment/step`` ``{"company"?, "sales_id"?}`` - advance open orders one stage;
* ``POST /_sandbox/clock`` ``{"advance_seconds": n}`` - move the virtual clock forward;
* ``POST /_sandbox/stock`` ``{"company"?, "item_id", "warehouse", "qty"}`` - book stock in (or out);
* ``POST /_sandbox/prices`` ``{"company"?, "item_id", "price"}`` - change an item's sales price;
* ``POST /_sandbox/payments`` ``{"company"?, "invoice_id", "amount"?}`` - post a customer payment
  that settles the invoice (default: what is open), see ``payments.py``.
* ``POST /_sandbox/price_agreements`` ``{"company"?, "rec_id"? | "item_id", "account_code"?
  (All|Group|Table), "account_relation"?, "currency"?, "amount", "price_unit"?, "quantity_from"?,
  "from_date"?, "to_date"?}`` - add a sales trade agreement line, or change the one with
  ``rec_id``; ``DELETE`` with ``{"company"?, "rec_id"}`` removes one (``agreements.py``);
* ``POST /_sandbox/variants`` ``{"company"?, "product_master", "number"}`` - add a product variant;
* ``POST /_sandbox/items`` ``{"company"?, "item_id", "name"?, "price"}`` - release a new item
  (a distinct product of that number, released to the company with a sales price; what an AX
  user does in *Product information management*), through the same rules as an AIF create.
Each change goes through change tracking, so pollers see it. Bad input answers 400 with
``{"error": "<sentence>"}``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .agreements import AgreementError, add_variant, put_agreement, remove_agreement
from .config import FaultSettings
from .entity import Entity
from .faults import AxFault
from .model import fmt
from .payments import PaymentError, open_transactions, settle
from .rules import create_item, create_product

if TYPE_CHECKING:
    from .app import SandboxState

__all__ = ["control_routes"]


class _BadRequest(Exception):
    pass


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise _BadRequest("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise _BadRequest("The request body must be a JSON object.")
    return data


def _state(request: Request) -> SandboxState:
    return request.app.state.sandbox  # type: ignore[no-any-return]


def _company(state: SandboxState, data: dict[str, Any]) -> Any:
    company_id = str(data.get("company") or state.config.company)
    company = state.world.company(company_id)
    if company is None:
        raise _BadRequest(f"Company {company_id!r} does not exist in this sandbox.")
    return company


def _decimal(data: dict[str, Any], name: str) -> Decimal:
    try:
        return Decimal(str(data[name]))
    except (KeyError, InvalidOperation) as exc:
        raise _BadRequest(f"Field {name!r} must be given as a number.") from exc


def _handler(fn: Any) -> Any:
    async def wrapped(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await fn(request))
        except _BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return wrapped


async def state_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    companies = {}
    for cid, company in state.world.companies.items():
        orders = company.store("SalesOrderService").docs.values()
        companies[cid] = {
            "customers": len(company.store("CustomerService").docs),
            "items": len(company.store("ItemService").docs),
            "sales_orders": len(orders),
            "orders_by_status": _count(o.get("DocumentStatus") or "None" for o in orders),
            "packing_slips": len(company.store("SalesPackingSlipService").docs),
            "invoices": len(company.store("SalesInvoiceService").docs),
            "on_hand_records": len(company.store("InventoryOnHandService").docs),
            "warehouses": company.warehouses,
            "open_customer_transactions": open_transactions(company),
        }
    now = datetime.fromtimestamp(state.world.now(), UTC).isoformat()
    return {"clock": now, "calls": state.calls, "peak_in_flight": state.peak_in_flight, "products": len(state.world.products.docs),
            "companies": companies, "faults": asdict(state.config.faults)}


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


async def faults_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    if request.method == "DELETE":
        state.config.faults = FaultSettings()
    elif request.method == "POST":
        data = await _json(request)
        try:
            unknown = state.config.faults.update(data)
        except (TypeError, ValueError) as exc:
            raise _BadRequest(f"A fault setting has a value of the wrong type: {exc}.") from exc
        if unknown:
            raise _BadRequest(f"Unknown fault settings: {', '.join(sorted(unknown))}.")
    return asdict(state.config.faults)


async def step_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    data = await _json(request)
    company = _company(state, data) if data.get("company") else None
    async with state.workers:
        done = state.fulfil(company.id if company else None, data.get("sales_id"))
    return {"advanced": [{"sales_id": s, "stage": stage} for s, stage in done]}


async def clock_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    data = await _json(request)
    state.world.offset += float(_decimal(data, "advance_seconds"))
    return {"clock": datetime.fromtimestamp(state.world.now(), UTC).isoformat()}


async def stock_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    data = await _json(request)
    company = _company(state, data)
    item_id, warehouse = str(data.get("item_id", "")), str(data.get("warehouse", company.default_warehouse))
    if company.store("ItemService").get((item_id,)) is None:
        raise _BadRequest(f"Item {item_id!r} is not released to company {company.id}.")
    if warehouse not in company.warehouses:
        raise _BadRequest(f"Warehouse {warehouse!r} does not exist in company {company.id}.")
    async with state.workers:
        top = state.world.adjust(company, item_id, warehouse, PostedQty=_decimal(data, "qty"))
    return {"item_id": item_id, "warehouse": warehouse, "physical": top.get("PhysicalInvent"),
            "available": top.get("AvailPhysical"), "reserved": top.get("ReservPhysical") or "0"}


async def prices_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    data = await _json(request)
    company = _company(state, data)
    store = company.store("ItemService")
    item = store.get((str(data.get("item_id", "")),))
    if item is None:
        raise _BadRequest(f"Item {data.get('item_id')!r} is not released to company {company.id}.")
    price = _decimal(data, "price")
    async with state.workers:
        sales = item.child("Sales")
        if sales is not None:
            sales.fields["Price"] = fmt(price)
            state.world.bump(sales)
        state.world.bump(item)
        state.world.touch(store, item)
    return {"item_id": item.get("ItemId"), "price": fmt(price)}


async def payments_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    data = await _json(request)
    company = _company(state, data)
    invoice_id = str(data.get("invoice_id") or "").strip()
    if not invoice_id:
        raise _BadRequest("Field 'invoice_id' must name the invoice the payment settles.")
    amount = _decimal(data, "amount") if data.get("amount") is not None else None
    async with state.workers:
        try:
            voucher = settle(state.world, company, invoice_id, amount)
        except PaymentError as exc:
            raise _BadRequest(str(exc)) from None
    return {"invoice_id": invoice_id, "voucher": voucher, "open_customer_transactions": open_transactions(company)}


async def price_agreements_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    data = await _json(request)
    company = _company(state, data)
    async with state.workers:
        try:
            if request.method == "DELETE":
                remove_agreement(state.world, company, data.get("rec_id"))
                return {"rec_id": data.get("rec_id"), "deleted": True}
            line = put_agreement(state.world, company, data)
        except AgreementError as exc:
            raise _BadRequest(str(exc)) from None
    return {"rec_id": line.rec_id, **{k: v for k, v in line.fields.items() if isinstance(v, str)}}


async def variants_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    data = await _json(request)
    company = _company(state, data)
    async with state.workers:
        try:
            variant = add_variant(state.world, company, str(data.get("product_master") or ""),
                                  str(data.get("number") or "").strip())
        except AgreementError as exc:
            raise _BadRequest(str(exc)) from None
    return {"number": variant.get("DisplayProductNumber"), "product_master": variant.get("ProductMaster")}


async def items_view(request: Request) -> dict[str, Any]:
    state = _state(request)
    data = await _json(request)
    company = _company(state, data)
    item_id = str(data.get("item_id") or "").strip()
    if not item_id or len(item_id) > 20:
        raise _BadRequest("Field 'item_id' must be an item number of 1 to 20 characters.")
    price = _decimal(data, "price")
    name = str(data.get("name") or item_id)
    product = Entity("Product", "AxdEntity_Product_EcoResDistinctProduct",
                     {"DisplayProductNumber": item_id, "ProductType": "Item", "SearchName": name[:20]})
    product.children["Translation"] = [Entity("Translation", "AxdEntity_Translation",
                                              {"LanguageId": "en-us", "Name": name})]
    item = Entity("InventTable", "AxdEntity_InventTable", {"ItemId": item_id, "Product": item_id})
    item.children["Sales"] = [Entity("Sales", "AxdEntity_Sales", {"UnitId": "ea", "Price": fmt(price)})]
    async with state.workers:
        try:
            if state.world.products.get((item_id,)) is None:
                state.world.put(state.world.products, create_product(state.world, company, product))
            state.world.put(company.store("ItemService"), create_item(state.world, company, item))
        except AxFault as exc:  # e.g. the item is released already
            raise _BadRequest(str(exc)) from None
    return {"item_id": item_id, "price": fmt(price)}


def control_routes() -> list[Route]:
    return [
        Route("/_sandbox/state", _handler(state_view), methods=["GET"]),
        Route("/_sandbox/faults", _handler(faults_view), methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/fulfilment/step", _handler(step_view), methods=["POST"]),
        Route("/_sandbox/clock", _handler(clock_view), methods=["POST"]),
        Route("/_sandbox/stock", _handler(stock_view), methods=["POST"]),
        Route("/_sandbox/prices", _handler(prices_view), methods=["POST"]),
        Route("/_sandbox/payments", _handler(payments_view), methods=["POST"]),
        Route("/_sandbox/price_agreements", _handler(price_agreements_view), methods=["POST", "DELETE"]),
        Route("/_sandbox/variants", _handler(variants_view), methods=["POST"]),
        Route("/_sandbox/items", _handler(items_view), methods=["POST"]),
    ]
