"""Typed, narrow msgspec views of the AX documents the flows use.

Decoded once at the boundary (``view(...)`` over the plain dict of a zeep result). Field names
are AX's element names (``rename="pascal"`` turns ``item_id`` into ``ItemId``), so a reader can
match a view to the document schema. Every field has a default because AX omits null and zero
values on output (reference §6.2): a missing decimal is 0, a missing string is ``None`` and a
missing enum is the enum's FIRST symbol (ordinal 0: ``SalesType`` Journal, ``SalesStatus`` None,
``NoYes`` No), which is exactly what AX left out.

Views are read-only pictures of a document as read; writes are built from plain dicts in
:mod:`connectors.dynamics_ax.documents` because AX's partial updates need the exact set of
elements sent, which a struct with defaults cannot express.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

from connectors.errors import PermanentError

__all__ = [
    "Address",
    "ContactInfo",
    "CustTrans",
    "Customer",
    "EntityKey",
    "Invoice",
    "InvoiceLine",
    "Item",
    "KeyPage",
    "OnHand",
    "PackingSlip",
    "PackingSlipLine",
    "PriceAgreement",
    "Product",
    "SalesLine",
    "SalesOrder",
    "view",
]

ZERO = Decimal(0)
T = TypeVar("T", bound=msgspec.Struct)


class EntityKey(msgspec.Struct, frozen=True):
    """An AIF entity key: the key fields of a document's top record, in order (compound keys allowed)."""

    fields: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, **values: str) -> EntityKey:
        return cls(tuple((k, str(v)) for k, v in values.items()))

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.fields if k == name), None)

    @property
    def value(self) -> str:
        """The key as one string (``A|B`` for compound keys), for logs and cross-references."""
        return "|".join(v for _, v in self.fields)


class KeyPage(msgspec.Struct):
    """One page of ``getKeys``/``getChangedKeys``: the keys, the bookmark of the next page and the status.

    ``status_details`` is ``None`` normally, or ``ChangedDateTimeOutOfRange`` /
    ``DocumentFiltersChanged`` / ``ChangeTrackingDisabled``, each of which means "resync fully".
    """

    keys: list[EntityKey]
    bookmark: str | None = None
    status: str = "Success"
    status_details: str | None = None

    @property
    def needs_full_resync(self) -> bool:
        return self.status_details not in (None, "None")


class _AxView(msgspec.Struct, rename="pascal", kw_only=True):
    rec_id: int | None = None
    rec_version: int | None = None


class Address(_AxView):
    location_name: str | None = None
    street: str | None = None
    street_number: str | None = None
    city: str | None = None
    zip_code: str | None = None
    state: str | None = None
    county: str | None = None
    country_region_id: str | None = None
    is_primary: str = "No"
    roles: str | None = None


class ContactInfo(_AxView):
    """A DirPartyContactInfoView row: ``type`` is Phone/Email/URL/Telex/Fax, ``locator`` the value."""

    type: str = "None"
    locator: str | None = None
    locator_extension: str | None = None
    location_name: str | None = None
    is_primary: str = "No"
    is_mobile_phone: str = "No"


class PersonName(msgspec.Struct, rename="pascal"):
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None


class OrganizationName(msgspec.Struct, rename="pascal"):
    name: str | None = None


class Party(_AxView):
    name: str | None = None
    party_number: str | None = None
    language_id: str | None = None
    known_as: str | None = None
    person_name: list[PersonName] = []
    organization_name: list[OrganizationName] = []
    dir_party_postal_address_view: list[Address] = []
    dir_party_contact_info_view: list[ContactInfo] = []


class Customer(_AxView):
    """A customer (CustTable + its DirParty) as read from CustomerService."""

    document_hash: str | None = msgspec.field(default=None, name="_DocumentHash")
    account_num: str | None = None
    cust_group: str | None = None
    currency: str | None = None
    name: str | None = None
    party: str | None = None
    blocked: str = "No"
    language_id: str | None = None
    dir_party: list[Party] = []

    @property
    def party_view(self) -> Party:
        return self.dir_party[0] if self.dir_party else Party()

    @property
    def kind(self) -> str:
        """``person`` when the party carries a PersonName, ``organization`` otherwise."""
        return "person" if self.party_view.person_name else "organization"

    def _contact(self, kind: str) -> str | None:
        rows = [c for c in self.party_view.dir_party_contact_info_view if c.type == kind and c.locator]
        rows.sort(key=lambda c: c.is_primary != "Yes")  # the primary one first
        return rows[0].locator if rows else None

    @property
    def email(self) -> str | None:
        return self._contact("Email")

    @property
    def phone(self) -> str | None:
        return self._contact("Phone")

    @property
    def addresses(self) -> list[Address]:
        return self.party_view.dir_party_postal_address_view


class InventDim(msgspec.Struct, rename="pascal"):
    invent_site_id: str | None = None
    invent_location_id: str | None = None
    invent_dim_id: str | None = None
    invent_color_id: str | None = None
    invent_size_id: str | None = None
    config_id: str | None = None


class SalesLine(_AxView):
    line_num: Decimal = ZERO
    item_id: str | None = None
    name: str | None = None
    sales_qty: Decimal = ZERO
    sales_unit: str | None = None
    sales_price: Decimal = ZERO
    line_amount: Decimal = ZERO
    line_disc: Decimal = ZERO
    line_percent: Decimal = ZERO
    sales_status: str = "None"
    invent_trans_id: str | None = None
    remain_sales_physical: Decimal = ZERO
    delivered_intotal: Decimal = ZERO
    invent_dim: list[InventDim] = []


class SalesOrder(_AxView):
    """A sales order header with its lines (SalesOrderService)."""

    document_hash: str | None = msgspec.field(default=None, name="_DocumentHash")
    sales_id: str | None = None
    cust_account: str | None = None
    invoice_account: str | None = None
    purch_order_form_num: str | None = None
    customer_ref: str | None = None
    currency_code: str | None = None
    sales_status: str = "None"
    document_status: str = "None"
    sales_type: str = "Journal"
    receipt_date_requested: dt.date | None = None
    delivery_date: dt.date | None = None
    delivery_name: str | None = None
    dlv_mode: str | None = None
    invent_site_id: str | None = None
    invent_location_id: str | None = None
    sales_line: list[SalesLine] = []

    @property
    def lines(self) -> list[SalesLine]:
        return self.sales_line


class ItemModule(_AxView):
    module_type: str = "Invent"
    unit_id: str | None = None
    price: Decimal = ZERO
    price_unit: Decimal = ZERO
    price_qty: Decimal = ZERO
    price_date: dt.date | None = None
    tax_item_group_id: str | None = None


class Item(_AxView):
    """A released product (ItemService): ``sales_price``/``sales_unit`` come from its Sales module row."""

    document_hash: str | None = msgspec.field(default=None, name="_DocumentHash")
    item_id: str | None = None
    product: str | None = None
    name_alias: str | None = None
    item_type: str = "Item"
    net_weight: Decimal = ZERO
    sales: list[ItemModule] = []
    invent: list[ItemModule] = []

    @property
    def sales_price(self) -> Decimal:
        return self.sales[0].price if self.sales else ZERO

    @property
    def sales_unit(self) -> str | None:
        return self.sales[0].unit_id if self.sales else (self.invent[0].unit_id if self.invent else None)

    @property
    def price_unit(self) -> Decimal:
        """Quantity the price is for (AX ``PriceUnit``; 0 on output means the default of 1)."""
        return (self.sales[0].price_unit if self.sales else ZERO) or Decimal(1)


class OnHand(_AxView):
    """On-hand stock of one item in one inventory dimension (site/warehouse), from InventSum."""

    item_id: str | None = None
    invent_dim_id: str | None = None
    physical_invent: Decimal = ZERO
    reserv_physical: Decimal = ZERO
    avail_physical: Decimal = ZERO
    on_order: Decimal = ZERO
    ordered: Decimal = ZERO
    avail_ordered: Decimal = ZERO
    invent_dim: list[InventDim] = []

    @property
    def warehouse(self) -> str | None:
        return self.invent_dim[0].invent_location_id if self.invent_dim else None

    @property
    def site(self) -> str | None:
        return self.invent_dim[0].invent_site_id if self.invent_dim else None


class PackingSlipLine(msgspec.Struct, rename="pascal"):
    item_id: str | None = None
    name: str | None = None
    qty: Decimal = ZERO
    sales_unit: str | None = None
    invent_trans_id: str | None = None
    line_num: Decimal = ZERO


class PackingSlip(_AxView):
    """A posted packing slip (CustPackingSlipJour) with the carrier tracking number when AX has one."""

    packing_slip_id: str | None = None
    sales_id: str | None = None
    delivery_date: dt.date | None = None
    order_account: str | None = None
    dlv_mode: str | None = None
    qty: Decimal = ZERO
    # Not in the standard AxdSalesPackingSlip: a document extension of the port carries it [I].
    tracking_number: str | None = msgspec.field(default=None, name="ShipCarrierTrackingNum")
    cust_packing_slip_trans: list[PackingSlipLine] = []


class InvoiceLine(msgspec.Struct, rename="pascal"):
    item_id: str | None = None
    name: str | None = None
    qty: Decimal = ZERO
    sales_price: Decimal = ZERO
    line_amount: Decimal = ZERO
    tax_amount: Decimal = ZERO
    line_num: Decimal = ZERO


class Invoice(_AxView):
    """A posted sales invoice (CustInvoiceJour) with its lines."""

    invoice_id: str | None = None
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    sales_id: str | None = None
    order_account: str | None = None
    customer_ref: str | None = None
    purchase_order: str | None = None
    currency_code: str | None = None
    invoice_amount: Decimal = ZERO
    sum_tax: Decimal = ZERO
    sales_balance: Decimal = ZERO
    cust_invoice_trans: list[InvoiceLine] = []


class CustTrans(_AxView):
    """A customer transaction (CustTrans, R2+ CustomerTransactionService): an invoice's amount
    and how much of it customer payments have settled (``Closed`` once settled in full)."""

    account_num: str | None = None
    invoice: str | None = None
    voucher: str | None = None
    trans_date: dt.date | None = None
    currency_code: str | None = None
    amount_cur: Decimal = ZERO
    settle_amount_cur: Decimal = ZERO
    last_settle_voucher: str | None = None
    last_settle_date: dt.date | None = None
    closed: dt.date | None = None


class Product(_AxView):
    """A shared product (EcoResProductService): a distinct product, a product master, or a
    variant of one (``product_master`` set)."""

    display_product_number: str | None = None
    search_name: str | None = None
    product_master: str | None = None


class PriceAgreement(_AxView):
    """A sales trade agreement line (PriceDiscTable, read through the port's custom
    PriceDiscTableService): a price for an item (``item_code`` Table) for all customers, a
    customer group or one account (``account_code`` All / Group / Table), from a quantity, in a
    currency, valid between two dates (AX's empty date is 1900-01-01)."""

    relation: str | None = None
    item_code: str | None = None
    item_relation: str | None = None
    account_code: str | None = None
    account_relation: str | None = None
    currency: str | None = None
    amount: Decimal = ZERO
    price_unit: Decimal = ZERO
    quantity_amount_from: Decimal = ZERO
    from_date: dt.date | None = None
    to_date: dt.date | None = None


def view(cls: type[T], data: Mapping[str, Any]) -> T:
    """Decode one entity (a plain dict of AX element names) into its view.

    Unknown elements are ignored (ports differ by data policy); a value of the wrong type raises
    :class:`~connectors.errors.PermanentError` naming the field (code ``response_schema``).
    """
    try:
        return msgspec.convert(_listify(data), cls, strict=False)
    except msgspec.ValidationError as exc:  # names the field and the expected type, never the value
        raise PermanentError(f"AX answered with a {cls.__name__} the bridge cannot read: {exc}.", system="ax",
                             code="response_schema") from None


def _listify(value: Any) -> Any:
    """Nested entities as lists: a port may declare a child (DirParty, InventDim) single or repeated."""
    if isinstance(value, Mapping):
        return {k: ([_listify(v)] if isinstance(v, Mapping) else _listify(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_listify(v) for v in value]
    return value
