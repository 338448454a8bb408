"""The system calls of the declarative flows: ``pipelines.executor.Operations`` on the connectors.

:class:`SystemOperations` performs every ``extract``, ``load`` and ``write-back`` operation the
default flows name, through :class:`connectors.prestashop.Client` and
:class:`connectors.dynamics_ax.Client`. One table, :data:`_HANDLERS`, maps ``(system, operation)``
to its handler; :data:`OPERATION_NAMES` lists them per system (for lint).

Contracts (docs/architecture.md, "Delivery semantics"):

* every AX write carries a deterministic idempotency key (the message id and the flow step id,
  or the operation name when the caller gives no step), so a retried attempt sends the same
  AX ``MessageId`` and AX's duplicate-message check applies;
* before creating, a handler looks for what a crashed earlier attempt may have created: the AX
  sales order by the shop's order reference (``PurchOrderFormNum``), the AX customer by account;
  the PrestaShop order state is only posted when the order is not in that state already, the
  tracking number only written when it differs, an AX invoice only recorded on the order's
  ``order_invoice`` when no note there names its number yet, and a settlement only paid for
  the part the shop's ``order_payments`` do not hold (nothing twice, whatever the retries);
* an AX invoice is not a payment: ``order_invoices.record`` notes it on the shop's invoice (or
  creates one for an order that has none); only ``order_payments.settle``, run when AX settles
  the invoice (a customer payment), adds an ``order_payment``;
* the catalog, stock and price operations (``ax ItemService.read``, ``ax
  InventoryOnHandService.read``, ``prestashop products.upsert|update``, ``combinations.upsert``,
  ``stock_availables.update``) are in :mod:`pipelines.operations.catalog` and
  :mod:`pipelines.operations.stock`: looked up before created, written only where they differ,
  cross-references ``product`` and ``combination``, stock never older than what was applied;
* ``ax SalesOrderService.cancel`` (:mod:`pipelines.operations.orders`) cancels the AX order of a
  cancelled shop order, idempotently, and refuses (permanent error) once AX has shipped it;
* the fulfilment extract (``ax fulfilment.read``) finds the shop order of an AX packing slip,
  invoice or invoice settlement through the ``order`` cross-reference written by the order
  flow; it and the write-backs of the way back are in :mod:`pipelines.operations.fulfilment`,
  the helpers all role modules share in :mod:`pipelines.operations.common`;
* a cross-reference is written right after each successful create (``store.put_xref``):
  ``order`` (PrestaShop order id <-> AX SalesId), ``customer`` (PrestaShop customer id <-> AX
  account), ``address`` (PrestaShop address id <-> AX account);
* an unknown ``(system, operation)`` raises :class:`PermanentError` naming it; connector errors
  pass through unchanged (the worker retries or dead-letters them by class).

Clients are opened lazily on the first call, inside the caller's event loop, and closed by
:meth:`SystemOperations.aclose`.

Circuit breakers: the runtime may set :attr:`SystemOperations.breakers` to an object with
``async before(system) -> ticket`` (raises a ``TransientError`` when the target's breaker is
open) and ``async after(ticket, exc)`` (:class:`runtime.breaker_board.BreakerBoard`); every
operation is then wrapped by them. Nothing here knows how breakers work (imports run
``runtime -> pipelines``).

Test hook (never set in production): with the environment variable
``PRESTA_AX_TEST_CRASH_DIR`` naming a folder, ``sales_order_create`` ends its process with
``os._exit`` right after AX created the sales order and before the cross-reference is written,
once per file ``after_ax_create`` found in that folder (the file is removed first, so the
restarted process goes on). The crash tests use it to kill the entity actor at exactly that point.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import Any

from opentelemetry import trace

from connectors.dynamics_ax import AxConfig, EntityKey
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.errors import ConfigError, DuplicateError, NotFoundError, PermanentError, ValidationError
from connectors.prestashop import Client as PsClient
from connectors.prestashop import (
    ClientConfig,
    F,
)
from pipelines.operations import catalog as operations_catalog
from pipelines.operations import fulfilment as operations_fulfilment
from pipelines.operations import orders as operations_orders
from pipelines.operations import stock as operations_stock
from pipelines.operations.common import ax_document as _ax_document
from pipelines.operations.common import idempotency_key
from pipelines.operations.common import int_id as _int_id

__all__ = ["OPERATION_NAMES", "SystemOperations", "idempotency_key"]

CUSTOMER_NS = "http://schemas.microsoft.com/dynamics/2008/01/documents/Customer"
#: fields a read returns that must never travel further (secrets of the shop's customers)
_SECRET_FIELDS = ("passwd", "secure_key", "reset_password_token", "last_passwd_gen")

Handler = Callable[["SystemOperations", Any, Mapping[str, Any], str], Awaitable[Any]]


#: the test hook's environment variable (module docstring)
CRASH_DIR_ENV = "PRESTA_AX_TEST_CRASH_DIR"


def _test_crash_point(name: str) -> None:
    """End the process here when the test hook asks for it (module docstring); else nothing."""
    folder = os.environ.get(CRASH_DIR_ENV)
    if not folder:
        return
    try:
        os.remove(os.path.join(folder, name))
    except OSError:
        return  # not asked for (or already used): go on
    os._exit(70)


async def _all(calls: Iterable[Awaitable[Any]]) -> list[Any]:
    """Await ``calls`` concurrently; their results in order. Every call runs to its end (none is
    left running unobserved); then the first failure, in the given order, is raised as it is, so
    the worker classifies it like a failure of a single call."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _clean(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in _SECRET_FIELDS}



class SystemOperations:
    """``call(system, operation, payload, mode=, context=)`` for the flows (see module docstring).

    ``store`` is the runtime store (sync :class:`runtime.store.Store` or :class:`AsyncStore`);
    ``None`` skips cross-references (a dry run). ``ps``/``ax`` may be given ready-made clients
    (tests); otherwise they are built from the configs.
    """

    def __init__(self, prestashop: ClientConfig | None, ax: AxConfig | None, store: Any = None, *,
                 ps_client: PsClient | None = None, ax_client: AxClient | None = None) -> None:
        self.ps_config = prestashop
        self.ax_config = ax
        self.store = store
        self._ps = ps_client
        self._ax = ax_client
        #: the runtime's circuit breakers (module docstring), None: every call goes through
        self.breakers: Any = None

    @classmethod
    def from_settings(cls, settings: Any, store: Any = None) -> SystemOperations:
        return cls(settings.systems.prestashop, settings.systems.ax, store)

    def __repr__(self) -> str:  # no keys, no passwords
        return f"SystemOperations(prestashop={self.ps_config is not None}, ax={self.ax_config is not None})"

    @property
    def ps(self) -> PsClient:
        if self._ps is None:
            if self.ps_config is None:
                raise ConfigError("systems.prestashop is not configured, so no PrestaShop operation can run.")
            self._ps = PsClient(self.ps_config)
        return self._ps

    @property
    def ax(self) -> AxClient:
        if self._ax is None:
            if self.ax_config is None:
                raise ConfigError("systems.ax is not configured, so no AX operation can run.")
            self._ax = AxClient(self.ax_config)
        return self._ax

    async def aclose(self) -> None:
        for client in (self._ps, self._ax):
            if client is not None:
                await client.aclose()
        self._ps = self._ax = None

    async def call(self, system: str, operation: str, payload: Any, *, mode: str | None,
                   context: Mapping[str, Any], step: str | None = None) -> Any:
        """Run one operation; ``step`` (the flow step id) completes the idempotency key."""
        handler = _HANDLERS.get((system, operation))
        if handler is None:
            known = ", ".join(f"{s} {o}" for s, o in sorted(_HANDLERS))
            raise PermanentError(f"The flow calls the operation '{operation}' on system '{system}', which the "
                                 f"runtime does not provide. Known operations: {known}.", system=system)
        breakers = self.breakers
        if breakers is None:
            return await handler(self, payload, context, step or operation)
        ticket = await breakers.before(system)
        try:
            result = await handler(self, payload, context, step or operation)
        except Exception as exc:
            await breakers.after(ticket, exc)
            raise
        await breakers.after(ticket, None)
        return result

    async def _xref(self, entity: str, ps_id: Any, ax_id: Any) -> None:
        if self.store is None or ps_id in (None, "") or ax_id in (None, ""):
            return
        result = self.store.put_xref(entity, str(ps_id), str(ax_id))
        if isinstance(result, Awaitable):
            await result

    async def _get_xref(self, entity: str, **side: str) -> dict[str, Any] | None:
        if self.store is None:
            return None
        result = self.store.get_xref(entity, **side)
        if isinstance(result, Awaitable):
            result = await result
        return result  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ PrestaShop reads

    async def _country_of(self, address: Mapping[str, Any], cache: dict[str, Any]) -> dict[str, Any]:
        """The address's country, read once per ``cache`` (it holds the reads as tasks, so
        concurrent readers of one country share one call)."""
        cid = str(address.get("id_country") or "0")
        if cid == "0":
            return {}
        if cid not in cache:
            cache[cid] = asyncio.ensure_future(self.ps.get("countries", int(cid)))
        return dict(await cache[cid])

    async def _addresses_of(self, customer_id: Any, cache: dict[str, Any]) -> list[dict[str, Any]]:
        rows = await self.ps.list("addresses", display="full", filters={"id_customer": F.eq(int(customer_id))},
                                  sort=["id_ASC"])
        addresses = [dict(row) for row in rows]
        for address, country in zip(addresses, await _all(self._country_of(a, cache) for a in addresses),
                                    strict=True):
            address["country"] = country
        return addresses

    async def orders_get(self, request: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
        """Extract: the order with what the order mapping reads nested into it (customer, its
        addresses with their countries, delivery/invoice addresses, currency, carrier, country
        of delivery; see tests/mappings/ps_order_to_ax_sales_order/*.input.json); with
        ``canceled_state`` the shop's Canceled state id in ``context.ps_canceled_state``.

        After the order itself, the reads it leads to run concurrently (they depend on the
        order only, countries on their address): an order's extract costs three round trips
        to the shop instead of eight or more in a row."""
        key = _int_id(request.get("key"), "The order key")
        include = set(request.get("include") or ())
        order = _clean(await self.ps.get("orders", key))
        countries: dict[str, Any] = {}
        jobs: dict[str, Awaitable[Any]] = {}

        async def customer() -> dict[str, Any]:
            found = _clean(await self.ps.get("customers", int(order["id_customer"])))
            if "customer.addresses" in include:
                found["addresses"] = await self._addresses_of(found["id"], countries)
            return found

        async def address(name: str) -> dict[str, Any]:
            wanted = str(order[f"id_{name}"])
            if "customer" in jobs:
                # the customer's address list (read anyway) usually holds it: no second read
                for known in (await jobs["customer"]).get("addresses") or ():
                    if str(known.get("id")) == wanted:
                        return {k: v for k, v in known.items() if k != "country"}
            return dict(await self.ps.get("addresses", int(wanted)))

        async def delivery_with_country() -> dict[str, Any]:
            found = await address("address_delivery")
            order["country_delivery"] = await self._country_of(found, countries)
            return found

        if "customer" in include or "customer.addresses" in include:
            jobs["customer"] = asyncio.ensure_future(customer())  # awaited by the address reads too
        if "country_delivery" in include:
            jobs["address_delivery"] = delivery_with_country()
        elif "address_delivery" in include:
            jobs["address_delivery"] = address("address_delivery")
        if "address_invoice" in include:
            jobs["address_invoice"] = address("address_invoice")
        if "currency" in include:
            jobs["currency"] = self.ps.get("currencies", int(order["id_currency"]))
        if "carrier" in include and str(order.get("id_carrier") or "0") != "0":
            jobs["carrier"] = self.ps.get("carriers", int(order["id_carrier"]))
        if "canceled_state" in include:
            jobs[""] = operations_orders.canceled_state(self, context)  # -> context.ps_canceled_state
        for name, value in zip(jobs, await _all(jobs.values()), strict=True):
            if name:
                order[name] = dict(value)
        if isinstance(context, MutableMapping):
            # the customer's shop id, for the customer cross-reference written by a later load
            context.setdefault("ps_customer_id", order.get("id_customer"))
        return order

    async def customers_get(self, request: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
        """Extract: the customer (secrets removed) with ``addresses``, each with its ``country``."""
        key = _int_id(request.get("key"), "The customer key")
        customer = _clean(await self.ps.get("customers", key))
        if "addresses" in set(request.get("include") or ()):
            customer["addresses"] = await self._addresses_of(key, {})
        if isinstance(context, MutableMapping):
            context.setdefault("ps_customer_id", customer.get("id"))
        return customer

    # ------------------------------------------------------------------ PrestaShop writes

    async def _ps_upsert(self, resource: str, entity: str, doc: Any, context: Mapping[str, Any]) -> dict[str, Any]:
        ax_key = (context.get("message") or {}).get("key")
        record = {k: v for k, v in doc.items() if v is not None}
        ps_id = record.pop("id", None)
        if ps_id in (None, "") and ax_key:
            xref = await self._get_xref(entity, ax_id=str(ax_key))
            ps_id = xref["ps_id"] if xref else None
        if ps_id in (None, "") and resource == "addresses":
            ps_id = await self._same_address(record)
            if ps_id is not None:
                await self._xref(entity, ps_id, ax_key)
        if ps_id not in (None, ""):
            record.pop("passwd", None)  # an update never resets the customer's password
            saved = await self.ps.update(resource, int(ps_id), record)
            return {"id": saved.get("id"), "existed": True}
        created = await self.ps.create(resource, record)
        await self._xref(entity, created.get("id"), ax_key)
        return {"id": created.get("id"), "existed": False}

    async def _same_address(self, record: Mapping[str, Any]) -> str | None:
        """The id of the customer's live address at the same street, postcode and city, if any:
        the shop may hold the address AX has, entered before the two were linked."""
        if record.get("id_customer") in (None, ""):
            return None
        rows = await self.ps.list("addresses", display="full",
                                  filters={"id_customer": F.eq(_int_id(record["id_customer"], "id_customer"))})

        def norm(r: Mapping[str, Any]) -> tuple[str, ...]:
            return tuple(str(r.get(k) or "").strip().lower() for k in ("address1", "postcode", "city"))

        want = norm(record)
        return next((str(r["id"]) for r in rows if r.get("deleted") != "1" and norm(r) == want), None)

    async def customers_upsert(self, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
        return await self._ps_upsert("customers", "customer", doc, context)

    async def addresses_upsert(self, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
        return await self._ps_upsert("addresses", "address", doc, context)

    # ------------------------------------------------------------------ AX

    async def customer_read(self, request: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
        """Extract: the AX customer document (AX element names) of account ``key``."""
        key = str(request.get("key") or "")
        found = await self.ax.service("customer").read([EntityKey.of(AccountNum=key)])
        if not found:
            raise NotFoundError(f"AX has no customer with account {key}.", system="ax")
        return _ax_document(found[0])  # type: ignore[no-any-return]

    async def _customer_exists(self, account: str) -> bool:
        # find, not read: a read of an unknown key is a fault, and a port without "include
        # exceptions in fault" hides which one; an empty find is unambiguous
        found = await self.ax.find("customer", [eq("CustTable", "AccountNum", account)])
        return any(c.account_num == account for c in found)

    def _customer_entity(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        entity = {k: v for k, v in doc.items() if v is not None}
        party = dict(entity.get("DirParty") or {})
        if not party:
            raise ValidationError(f"AX customer {entity.get('AccountNum')} has no DirParty (name); AX needs one.",
                                  system="ax", code="customer")
        kind = "DirOrganization" if "OrganizationName" in party else "DirPerson"
        # AX needs the party's xsi:type to know whether to create a person or an organisation
        entity["DirParty"] = self.ax.soap.type(f"{{{CUSTOMER_NS}}}AxdEntity_DirParty_{kind}")(**party)
        return entity

    async def _create_customer(self, doc: Any, context: Mapping[str, Any], step: str, *,
                               known_missing: bool = False) -> dict[str, Any]:
        """``known_missing``: the caller's own find just came back empty (one find, not two)."""
        account = str(doc.get("AccountNum") or "")
        existed = bool(account) and not known_missing and await self._customer_exists(account)
        if not existed:
            try:
                keys = await self.ax.service("customer").create([self._customer_entity(doc)],
                                                                idempotency_key=idempotency_key(context, step))
            except (DuplicateError, PermanentError):
                # an earlier attempt's message was applied, or another flow (customer sync)
                # created the account meanwhile: then it exists now and is the one to use
                if not account or not await self._customer_exists(account):
                    raise
                keys, existed = [EntityKey.of(AccountNum=account)], True
            if not keys:
                raise PermanentError("AX CustomerService.create returned no entity key.", system="ax")
            account = keys[0].value
        await self._xref("customer", context.get("ps_customer_id"), account)
        return {"AccountNum": account, "existed": existed}

    async def customer_create(self, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
        """Load: create the AX customer unless the account exists already; xref customer."""
        return await self._create_customer(doc, context, step)

    async def customer_upsert(self, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
        """Load: create the AX customer, or update an existing one with one partial
        ``CustomerService.update``: its top-level fields, and, where they differ from what AX holds,
        the party's name (``DirParty.Name`` and the person's ``PersonName`` or the organisation's
        ``OrganizationName``) and its primary e-mail contact (``DirPartyContactInfoView``), as
        child records carrying their own ``action`` (``update`` by RecId, ``create`` for an e-mail
        AX does not have). Postal addresses, other contacts and the party type are AX-side
        records and are left to AX. Returns ``updated``: the top-level fields sent and
        ``DirParty`` when the party changed."""
        account = str(doc.get("AccountNum") or "")
        if not account or not await self._customer_exists(account):
            return await self._create_customer(doc, context, step, known_missing=True)
        changes: dict[str, Any] = {k: v for k, v in doc.items()
                                   if k != "AccountNum" and v is not None and not isinstance(v, (Mapping, list))}
        party = await self._party_changes(account, doc.get("DirParty"))
        if party is not None:
            changes["DirParty"] = party
        if changes:
            await self.ax.service("customer").update(EntityKey.of(AccountNum=account), changes,
                                                     idempotency_key=idempotency_key(context, step))
        await self._xref("customer", context.get("ps_customer_id"), account)
        return {"AccountNum": account, "existed": True, "updated": sorted(changes)}

    async def _party_changes(self, account: str, sent: Any) -> Any:
        """The partial ``DirParty`` update for what ``sent`` changes in the AX party of
        ``account`` (see :meth:`customer_upsert`), or None when AX holds it already."""
        if not isinstance(sent, Mapping):
            return None
        found = await self.ax.service("customer").read([EntityKey.of(AccountNum=account)])
        current = (_ax_document(found[0]).get("DirParty") or {}) if found else {}
        if not current.get("RecId"):
            return None
        entry: dict[str, Any] = {}
        if sent.get("Name") not in (None, "") and str(sent["Name"]) != str(current.get("Name") or ""):
            entry["Name"] = sent["Name"]
        for child, names in (("PersonName", ("FirstName", "MiddleName", "LastName")), ("OrganizationName", ("Name",))):
            want, have = sent.get(child), current.get(child)
            if not isinstance(want, Mapping) or not isinstance(have, Mapping) or not have.get("RecId"):
                continue  # the party type is AX's: a person's name is not made an organisation's
            differ = {n: want[n] for n in names if want.get(n) not in (None, "") and str(want[n]) != str(have.get(n) or "")}
            if differ:
                entry[child] = {"action": "update", "RecId": have["RecId"], **differ}
        contact = self._email_change(sent.get("DirPartyContactInfoView"), current.get("DirPartyContactInfoView"))
        if contact is not None:
            entry["DirPartyContactInfoView"] = [contact]
        if not entry:
            return None
        kind = "DirOrganization" if "OrganizationName" in current or (
            "PersonName" not in current and "OrganizationName" in sent) else "DirPerson"
        entry.update({"action": "update", "RecId": current["RecId"]})
        return self.ax.soap.type(f"{{{CUSTOMER_NS}}}AxdEntity_DirParty_{kind}")(**entry)

    @staticmethod
    def _email_change(sent: Any, current: Any) -> dict[str, Any] | None:
        """The contact record that makes AX's primary e-mail the one sent, or None."""
        wanted = next((c for c in sent or () if isinstance(c, Mapping) and c.get("Type") == "Email"
                       and c.get("Locator")), None)
        if wanted is None:
            return None
        emails = [c for c in current or () if isinstance(c, Mapping) and c.get("Type") == "Email"]
        primary = next((c for c in emails if c.get("IsPrimary") == "Yes"), emails[0] if emails else None)
        if primary is None:
            return {"action": "create", **{k: v for k, v in wanted.items() if v is not None}}
        if str(primary.get("Locator") or "") == str(wanted["Locator"]) or not primary.get("RecId"):
            return None
        return {"action": "update", "RecId": primary["RecId"], "Locator": wanted["Locator"]}

    async def sales_order_create(self, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
        """Load: the AX sales order, found by ``PurchOrderFormNum`` first (a crashed attempt may
        have created it), created otherwise; xref order (PrestaShop id <-> SalesId)."""
        reference = str(doc.get("PurchOrderFormNum") or "")
        if not reference:
            raise ValidationError("The sales order has no PurchOrderFormNum (the shop's order reference).",
                                  system="ax", code="sales_order")
        existing = await self.ax.find_sales_order_by_reference(reference)
        if existing is not None and existing.sales_id:
            sales_id, existed = existing.sales_id, True
        else:
            entity = {k: v for k, v in doc.items() if v is not None}
            try:
                keys = await self.ax.service("sales_order").create([entity],
                                                                   idempotency_key=idempotency_key(context, step))
            except DuplicateError:
                found = await self.ax.find_sales_order_by_reference(reference)
                if found is None or not found.sales_id:
                    raise
                keys = [EntityKey.of(SalesId=found.sales_id)]
            if not keys:
                raise PermanentError("AX SalesOrderService.create returned no entity key.", system="ax")
            sales_id, existed = keys[0].value, False
            _test_crash_point("after_ax_create")  # test hook: a crash before the xref is written
        # the order's trace can be found by either number (the current span is the step's)
        span = trace.get_current_span()
        span.set_attribute("ax.sales_id", sales_id)
        span.set_attribute("shop.order_reference", reference)
        await self._xref("order", (context.get("message") or {}).get("key"), sales_id)
        return {"SalesId": sales_id, "PurchOrderFormNum": reference, "existed": existed}


#: (system, operation) -> handler: the one table of what the flows may call
_HANDLERS: dict[tuple[str, str], Handler] = {
    ("prestashop", "orders.get"): SystemOperations.orders_get,
    ("prestashop", "customers.get"): SystemOperations.customers_get,
    ("prestashop", "order_histories.create"): operations_fulfilment.order_histories_create,
    ("prestashop", "order_carriers.update"): operations_fulfilment.order_carriers_update,
    ("prestashop", "order_payments.create"): operations_fulfilment.order_payments_create,
    ("prestashop", "order_payments.settle"): operations_fulfilment.order_payments_settle,
    ("prestashop", "order_invoices.record"): operations_fulfilment.order_invoices_record,
    ("prestashop", "customers.upsert"): SystemOperations.customers_upsert,
    ("prestashop", "addresses.upsert"): SystemOperations.addresses_upsert,
    ("ax", "CustomerService.read"): SystemOperations.customer_read,
    ("ax", "CustomerService.create"): SystemOperations.customer_create,
    ("ax", "CustomerService.upsert"): SystemOperations.customer_upsert,
    ("ax", "fulfilment.read"): operations_fulfilment.fulfilment_read,
    ("ax", "SalesOrderService.create"): SystemOperations.sales_order_create,
    ("ax", "SalesOrderService.cancel"): operations_orders.sales_order_cancel,
    ("ax", "ItemService.read"): operations_catalog.item_read,
    ("ax", "InventoryOnHandService.read"): operations_stock.on_hand_read,
    ("prestashop", "products.upsert"): operations_catalog.products_upsert,
    ("prestashop", "combinations.upsert"): operations_catalog.combinations_upsert,
    ("prestashop", "products.update"): operations_stock.products_update,
    ("prestashop", "stock_availables.update"): operations_stock.stock_availables_update,
}

#: operation names per system, for lint (``step.operation in OPERATION_NAMES[step.system]``)
OPERATION_NAMES: dict[str, frozenset[str]] = {
    system: frozenset(op for s, op in _HANDLERS if s == system) for system in {s for s, _ in _HANDLERS}
}
