"""``Client``: the operations the bridge's flows need from AX 2012, over AIF document services.

Usable alone from a script::

    async with Client(AxConfig(base_url=..., port_name="WebShop", company="DAT")) as ax:
        customer = await ax.find_customer_by_email("ann@example.com")
        created = await ax.create_sales_order(order, idempotency_key="order:WEB-7781")

Every write takes an ``idempotency_key`` (the MessageId derives from it) and is safe to retry:
when AX answers "Duplicate message" the earlier attempt succeeded, and the client looks the
record up (sales order by shop reference, customer by account or e-mail) and returns it with
``existed=True``. Reads return the typed views of :mod:`.models`. Errors are the classes of
:mod:`connectors.errors`, chosen by the fault table in :mod:`.errors`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import msgspec
from opentelemetry import trace

from connectors.dynamics_ax.config import AxConfig
from connectors.dynamics_ax.documents import DocumentService, DocumentSpec
from connectors.dynamics_ax.errors import AlreadyDeliveredError
from connectors.dynamics_ax.models import (
    Customer,
    CustTrans,
    EntityKey,
    Invoice,
    Item,
    KeyPage,
    OnHand,
    PackingSlip,
    PriceAgreement,
    Product,
    SalesOrder,
    view,
)
from connectors.dynamics_ax.payloads import NewCustomer, NewSalesOrder, customer_entity, sales_order_entity
from connectors.dynamics_ax.query import Criterion, eq
from connectors.dynamics_ax.soap import AxSoapClient
from connectors.errors import BridgeError, DuplicateError, NotFoundError, PermanentError

__all__ = ["ENTITIES", "REQUIRED_OPERATIONS", "Canceled", "Client", "Created", "check_port"]

V = TypeVar("V", bound=msgspec.Struct)


class Created(msgspec.Struct, frozen=True):
    """The key of a created record; ``existed`` is true when an earlier attempt had created it."""

    key: str
    existed: bool = False


class Canceled(msgspec.Struct, frozen=True):
    """A cancelled sales order; ``already`` is true when it was cancelled before this call."""

    sales_id: str
    already: bool = False
    lines: int = 0


#: the states of an order AX has delivered (a packing slip posted): no longer cancellable
_DELIVERED = frozenset({"Delivered", "Invoiced"})
_DELIVERED_DOCS = frozenset({"PackingSlip", "Invoice"})


# Entity name (as the bridge calls it) -> (ServiceNames attribute, document, top entity, key, view).
ENTITIES: dict[str, tuple[str, str, str, tuple[str, ...], type[msgspec.Struct]]] = {
    "customer": ("customer", "Customer", "CustTable", ("AccountNum",), Customer),
    "sales_order": ("sales_order", "SalesOrder", "SalesTable", ("SalesId",), SalesOrder),
    "item": ("item", "Item", "InventTable", ("ItemId",), Item),
    "on_hand": ("on_hand", "InventoryOnHand", "InventSum", ("ItemId", "InventDimId"), OnHand),
    "invoice": ("invoice", "SalesInvoice", "CustInvoiceJour", ("RecId",), Invoice),
    "packing_slip": ("packing_slip", "SalesPackingSlip", "CustPackingSlipJour", ("PackingSlipId",), PackingSlip),
    "cust_trans": ("cust_trans", "CustomerTransaction", "CustTrans", ("RecId",), CustTrans),
    "product": ("product", "EcoResProduct", "Product", ("DisplayProductNumber",), Product),
    "price_agreement": ("price_agreement", "PriceDiscTable", "PriceDiscTable", ("RecId",), PriceAgreement),
}

#: Operations the default flows call, per entity; ``check`` lists those the port lacks.
REQUIRED_OPERATIONS: dict[str, tuple[str, ...]] = {
    "customer": ("create", "read", "find", "getKeys"),
    "sales_order": ("create", "read", "update", "find", "findKeys", "getChangedKeys"),
    "item": ("read", "getKeys", "getChangedKeys"),
    "on_hand": ("find", "getChangedKeys"),
    "invoice": ("find", "getChangedKeys"),
    "packing_slip": ("find", "getChangedKeys"),
    "cust_trans": ("find", "read"),
    "product": ("read", "find"),
    "price_agreement": ("find",),
}

CUSTOMER_NS = "http://schemas.microsoft.com/dynamics/2008/01/documents/Customer"


class Client:
    """AX 2012 through one enhanced HTTP inbound port. Async; one instance per event loop."""

    def __init__(self, config: AxConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 wsdl_transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.soap = AxSoapClient(config, transport=transport, wsdl_transport=wsdl_transport)
        self.documents: dict[str, DocumentService] = {}
        for name, (attr, document, top, key, _view) in ENTITIES.items():
            spec = DocumentSpec(getattr(config.services, attr), document, top, key)
            self.documents[name] = DocumentService(self.soap, spec)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.soap.aclose()

    def service(self, entity: str) -> DocumentService:
        try:
            return self.documents[entity]
        except KeyError:
            raise PermanentError(f"Unknown AX entity '{entity}'; known: {', '.join(ENTITIES)}.",
                                 system="ax") from None

    def port_operations(self) -> dict[str, list[str]]:
        """What the port exposes, from its WSDL: ``{entity: [operation, ...]}`` for every entity the
        bridge uses (an empty list when the service is missing). Loads the WSDL if needed; meant for a
        ``check`` command that tells an administrator what is still to be added to the port."""
        routing = self.soap.zeep.wsdl.services.get("RoutingService")
        out: dict[str, list[str]] = {}
        for entity, svc in self.documents.items():
            port = routing.ports.get(f"BasicHttpBinding_{svc.spec.service}") if routing is not None else None
            out[entity] = sorted(port.binding._operations) if port is not None else []
        return out

    async def check(self) -> dict[str, Any]:
        """A health report for ``presta-ax ax check``: what the port exposes, what the flows still
        miss, and whether one real call (customer getKeys, one key) goes through with these
        credentials and this company. Never raises for AX-side problems; reports them instead."""
        report: dict[str, Any] = {"endpoint": self.config.endpoint, "company": self.config.company,
                                  "operations": {}, "missing": [], "call": None, "error": None}
        try:
            report["operations"] = ops = self.port_operations()
            report["missing"] = [f"{self.documents[e].spec.service}.{op}" for e, needed in REQUIRED_OPERATIONS.items()
                                 for op in needed if op not in ops.get(e, [])]
            page = await self.service("customer").get_keys(page_size=1)
            report["call"] = f"CustomerService.getKeys returned {len(page.keys)} key(s)"
            if not page.keys:
                report["call"] += " - add a document filter for Customer on the port, or the company has no customers"
        except BridgeError as err:
            report["error"] = f"{type(err).__name__}: {err.message}"
        return report

    # --- generic typed reads ---------------------------------------------------------------------

    async def read(self, entity: str, keys: Sequence[EntityKey], *, skip_missing: bool = False) -> list[Any]:
        """Typed views of the records with these keys: NotFoundError if one is missing, or, with
        ``skip_missing``, only those that exist."""
        cls = ENTITIES[entity][4]
        return [view(cls, e) for e in await self.service(entity).read(keys, skip_missing=skip_missing)]

    async def find(self, entity: str, criteria: Sequence[Criterion]) -> list[Any]:
        cls = ENTITIES[entity][4]
        try:
            return [view(cls, e) for e in await self.service(entity).find(criteria)]
        except NotFoundError:
            return []  # some AX builds fault on an empty find instead of returning no document

    async def changed_keys(self, entity: str, since: dt.datetime, *, page_size: int | None = None
                           ) -> AsyncIterator[KeyPage]:
        """Pages of keys of ``entity`` records changed on or after ``since`` (UTC).

        The caller stores ``since`` = the time taken *before* the first call as its next cursor
        (with an overlap window); a page with ``needs_full_resync`` says the cursor is too old
        (``ChangedDateTimeOutOfRange``) or tracking was reset: list everything with ``all_keys``.
        """
        async for page in self.service(entity).iter_changed_keys(since, page_size=page_size):
            yield page

    async def all_keys(self, entity: str, *, page_size: int | None = None) -> AsyncIterator[KeyPage]:
        """Pages of every key matching the port's document filter (getKeys)."""
        async for page in self.service(entity).iter_keys(page_size=page_size):
            yield page

    # --- customers -------------------------------------------------------------------------------

    async def find_customer_by_account(self, account_num: str) -> Customer | None:
        try:
            found = await self.read("customer", [EntityKey.of(AccountNum=account_num)])
        except NotFoundError:
            return None
        return found[0] if found else None

    async def find_customer_by_email(self, email: str) -> Customer | None:
        """The customer whose contact information holds this e-mail (case-insensitive), or None.

        The lookup asks AX on ``DirPartyContactInfoView.Locator`` and checks the answer here,
        because AX compares strings by its collation, which may or may not fold case.
        """
        wanted = email.strip().lower()
        for customer in await self.find("customer", [eq("DirPartyContactInfoView", "Locator", email.strip())]):
            contacts = customer.party_view.dir_party_contact_info_view
            if any(c.type == "Email" and (c.locator or "").lower() == wanted for c in contacts):
                return customer
        return None

    async def create_customer(self, new: NewCustomer, *, idempotency_key: str) -> Created:
        """Create a customer (DirPerson or DirOrganization, address, e-mail, phone). Safe to retry."""
        kind = "DirPerson" if new.kind == "person" else "DirOrganization"
        party_type = self.soap.type(f"{{{CUSTOMER_NS}}}AxdEntity_DirParty_{kind}")
        entity = customer_entity(new, party_type)
        try:
            keys = await self.service("customer").create([entity], idempotency_key=idempotency_key)
        except DuplicateError as err:
            existing = await self._existing_customer(new)
            if existing is None or not existing.account_num:
                raise DuplicateError(f"{err.message} The customer could not be found by account number or e-mail.",
                                     system="ax", code=err.code) from None
            return Created(existing.account_num, existed=True)
        if not keys:
            raise PermanentError("AX CustomerService.create returned no entity key.", system="ax")
        return Created(keys[0].value)

    async def _existing_customer(self, new: NewCustomer) -> Customer | None:
        if new.account_num:
            found = await self.find_customer_by_account(new.account_num)
            if found is not None:
                return found
        return await self.find_customer_by_email(new.email) if new.email else None

    # --- sales orders ----------------------------------------------------------------------------

    async def find_sales_order_by_reference(self, shop_reference: str) -> SalesOrder | None:
        """The sales order carrying this shop reference in ``PurchOrderFormNum``, or None.

        If AX holds several (a duplicate PO number turns later ones into Journal orders), the
        regular Sales order wins, then the oldest.
        """
        orders = await self.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", shop_reference)])
        orders = [o for o in orders if o.purch_order_form_num == shop_reference]
        if not orders:
            return None
        orders.sort(key=lambda o: (o.sales_type != "Sales", o.rec_id or 0))
        return orders[0]

    async def create_sales_order(self, new: NewSalesOrder, *, idempotency_key: str) -> Created:
        """Create a sales order (header, lines, delivery address). Safe to retry.

        Returns the new ``SalesId``; on a duplicate message (an earlier attempt created it) the
        order is found by its shop reference and returned with ``existed=True``.
        """
        entity = sales_order_entity(new)
        try:
            keys = await self.service("sales_order").create([entity], idempotency_key=idempotency_key)
        except DuplicateError as err:
            existing = await self.find_sales_order_by_reference(new.shop_reference)
            if existing is None or not existing.sales_id:
                raise DuplicateError(f"{err.message} No sales order with PurchOrderFormNum {new.shop_reference} "
                                     "was found.", system="ax", code=err.code) from None
            _annotate(existing.sales_id, new.shop_reference)
            return Created(existing.sales_id, existed=True)
        if not keys:
            raise PermanentError("AX SalesOrderService.create returned no entity key.", system="ax")
        _annotate(keys[0].value, new.shop_reference)
        return Created(keys[0].value)

    async def cancel_sales_order(self, sales_id: str, *, idempotency_key: str) -> Canceled:
        """Cancel a sales order the way AX 2012 does: the deliver remainder (``RemainSalesPhysical``)
        of every open line set to 0 by a partial ``update``; AX then releases the reservations and
        sets ``SalesStatus`` Canceled on the lines and the header (``SalesStatus`` cannot be written).

        Idempotent: an order already cancelled returns ``already=True`` without a write; a retry
        sends the same MessageId. Raises :class:`AlreadyDeliveredError` (permanent) when AX has
        delivered the order (packing slip posted, also when that happens between the read and the
        update), :class:`NotFoundError` for an unknown SalesId, :class:`PermanentError` when AX
        accepted the update but the order is not cancelled (a port whose data policy drops
        ``RemainSalesPhysical``)."""
        order = await self.read_sales_order(sales_id)
        if order is None:
            raise NotFoundError(f"AX has no sales order {sales_id} to cancel.", system="ax")
        if order.sales_status == "Canceled":
            return Canceled(sales_id, already=True)
        await self._refuse_delivered(order)
        open_lines = [line for line in order.lines
                      if line.sales_status != "Canceled" and line.remain_sales_physical > 0 and line.rec_id]
        if not open_lines:
            return Canceled(sales_id, already=True)
        changes = {"SalesLine": [
            {"action": "update", "RecId": line.rec_id, "RemainSalesPhysical": Decimal(0),
             "SalesQty": line.sales_qty, "SalesUnit": line.sales_unit} for line in open_lines]}
        try:
            await self.service("sales_order").update(EntityKey.of(SalesId=sales_id), changes,
                                                     idempotency_key=idempotency_key)
        except PermanentError:
            # AX refuses the cancellation of a delivered order: say so, whatever its fault text
            fresh = await self.read_sales_order(sales_id)
            if fresh is not None:
                await self._refuse_delivered(fresh)
            raise
        after = await self.read_sales_order(sales_id)
        if after is None or after.sales_status != "Canceled":
            status = after.sales_status if after is not None else "gone"
            raise PermanentError(f"AX accepted the cancellation of sales order {sales_id}, but its status is "
                                 f"{status}, not Canceled: check that the port's data policy lets SalesLine."
                                 "RemainSalesPhysical through.", system="ax", code="not_canceled")
        _annotate(sales_id, order.purch_order_form_num or "")
        return Canceled(sales_id, lines=len(open_lines))

    async def _refuse_delivered(self, order: SalesOrder) -> None:
        delivered = any(line.delivered_intotal > 0 for line in order.lines)
        if order.sales_status in _DELIVERED or order.document_status in _DELIVERED_DOCS or delivered:
            slips = [s.packing_slip_id or "" for s in await self.read_packing_slips(order.sales_id or "")]
            raise AlreadyDeliveredError(order.sales_id or "", order.sales_status, [s for s in slips if s])

    async def read_sales_order(self, sales_id: str) -> SalesOrder | None:
        try:
            found = await self.read("sales_order", [EntityKey.of(SalesId=sales_id)])
        except NotFoundError:
            return None
        return found[0] if found else None

    # --- catalog, stock, fulfilment --------------------------------------------------------------

    async def read_items(self, item_ids: Sequence[str], *, skip_missing: bool = False) -> list[Item]:
        """Released products with their sales price and unit (Sales module), batched by ``read_batch_size``."""
        return await self.read("item", [EntityKey.of(ItemId=i) for i in item_ids], skip_missing=skip_missing)

    async def read_on_hand(self, item_id: str, warehouse: str | None = None) -> list[OnHand]:
        """On-hand rows of one item, one per inventory dimension (site/warehouse); optionally one warehouse."""
        rows: list[OnHand] = await self.find("on_hand", [eq("InventSum", "ItemId", item_id)])
        rows = [r for r in rows if r.item_id == item_id]
        if warehouse is not None:
            rows = [r for r in rows if r.warehouse == warehouse]
        return rows

    async def read_packing_slips(self, sales_id: str) -> list[PackingSlip]:
        """Posted packing slips of a sales order, with the carrier tracking number."""
        slips: list[PackingSlip] = await self.find("packing_slip", [eq("CustPackingSlipJour", "SalesId", sales_id)])
        return [s for s in slips if s.sales_id == sales_id]

    async def read_settlements(self, invoice_id: str) -> list[CustTrans]:
        """The customer transaction(s) of a posted invoice, with how much of it is settled."""
        rows: list[CustTrans] = await self.find("cust_trans", [eq("CustTrans", "Invoice", invoice_id)])
        return [t for t in rows if t.invoice == invoice_id]

    async def read_invoices(self, sales_id: str) -> list[Invoice]:
        """Posted invoices of a sales order, with amounts and lines."""
        invoices: list[Invoice] = await self.find("invoice", [eq("CustInvoiceJour", "SalesId", sales_id)])
        return [i for i in invoices if i.sales_id == sales_id]


async def check_port(config: AxConfig) -> dict[str, Any]:
    """``Client(config).check()`` in one call, for the ``presta-ax ax check`` command.

    The command prints the report and exits non-zero when ``report["error"]`` is set or
    ``report["missing"]`` is not empty.
    """
    async with Client(config) as ax:
        return await ax.check()


def _annotate(sales_id: str, shop_reference: str) -> None:
    """Put the AX SalesId and the shop's order reference on the caller's span (the flow step),
    so an order's trace can be found by either number."""
    span = trace.get_current_span()
    span.set_attribute("ax.sales_id", sales_id)
    span.set_attribute("shop.order_reference", shop_reference)
