"""What the bridge sends to AX: typed inputs and the AX documents built from them.

Inputs are msgspec structs with plain Python names (``NewCustomer``, ``NewSalesOrder``); the
builders turn them into the entity dicts of the Customer and SalesOrder documents, in AX's
element names. Only values that are set are sent: AX treats an empty element as "set to
empty" and an absent one as "default" (reference §6.1), and the defaults are usually right.

The shop's order reference goes into both ``PurchOrderFormNum`` (20 chars, the field AX's
duplicate-PO rule and most lookups use) and ``CustomerRef`` (60 chars, shown on documents), so
an order created by a crashed earlier attempt can be found again (DESIGN: exactly once).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

import msgspec

from connectors.errors import ValidationError

__all__ = [
    "NewAddress",
    "NewCustomer",
    "NewSalesLine",
    "NewSalesOrder",
    "customer_entity",
    "sales_order_entity",
]

# Lengths of the AX fields (sharedtypes EDT sizes, reference §9). AX would truncate silently;
# the bridge refuses instead, so that a shortened reference can never break the order lookup.
PURCH_ORDER_FORM_NUM_MAX = 20
CUSTOMER_REF_MAX = 60


class NewAddress(msgspec.Struct, kw_only=True):
    """A postal address; ``country`` is the AX CountryRegionId (ISO 3166 alpha-3 in standard AX, e.g. ``FRA``)."""

    street: str
    city: str
    zip_code: str
    country: str
    state: str | None = None
    county: str | None = None
    location_name: str | None = None  # AX shows it as the address' description
    roles: str = "Delivery;Invoice"


class NewCustomer(msgspec.Struct, kw_only=True):
    """A customer to create: a person (first/last name) or an organisation (``organization_name``)."""

    kind: Literal["person", "organization"] = "person"
    cust_group: str
    currency: str
    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None
    account_num: str | None = None  # leave None when the number sequence is automatic
    language: str | None = None
    email: str | None = None
    phone: str | None = None
    address: NewAddress | None = None
    dlv_mode: str | None = None
    payment_terms: str | None = None
    vat_num: str | None = None


class NewSalesLine(msgspec.Struct, kw_only=True):
    item_id: str
    qty: Decimal
    unit: str
    price: Decimal | None = None  # None: AX prices the line from its trade agreements
    discount_amount: Decimal | None = None
    name: str | None = None
    site: str | None = None
    warehouse: str | None = None


class NewSalesOrder(msgspec.Struct, kw_only=True):
    """A sales order: header, delivery address and lines. ``shop_reference`` is the shop's order reference."""

    cust_account: str
    shop_reference: str
    currency: str
    lines: list[NewSalesLine]
    requested_receipt_date: dt.date | None = None
    delivery_name: str | None = None
    delivery_address: NewAddress | None = None
    dlv_mode: str | None = None
    payment_mode: str | None = None
    customer_ref: str | None = None  # defaults to shop_reference
    site: str | None = None
    warehouse: str | None = None
    email: str | None = None


def _set(out: dict[str, Any], **values: Any) -> dict[str, Any]:
    out.update({k: v for k, v in values.items() if v is not None})
    return out


def _address(addr: NewAddress, *, roles: bool) -> dict[str, Any]:
    out = _set({}, City=addr.city, CountryRegionId=addr.country, County=addr.county,
               LocationName=addr.location_name, State=addr.state, Street=addr.street, ZipCode=addr.zip_code)
    if roles:
        out.update(IsPrimary="Yes", Roles=addr.roles)
    return out


def customer_entity(new: NewCustomer, party_type: Any) -> dict[str, Any]:
    """The ``CustTable`` entity for CustomerService.create.

    ``party_type`` is the zeep type of the polymorphic ``DirParty`` (``AxdEntity_DirParty_DirPerson``
    or ``..._DirOrganization``): AX needs the ``xsi:type`` to know which party to create.
    """
    if new.kind == "person":
        if not new.last_name:
            raise ValidationError("A person customer needs a last name (DirPerson PersonName.LastName).",
                                  system="ax", code="customer")
        name = " ".join(p for p in (new.first_name, new.last_name) if p)
        party: dict[str, Any] = {"Name": name, "PersonName": _set({}, FirstName=new.first_name, LastName=new.last_name)}
    else:
        if not new.organization_name:
            raise ValidationError("An organisation customer needs organization_name.", system="ax", code="customer")
        party = {"Name": new.organization_name, "OrganizationName": {"Name": new.organization_name}}
    _set(party, LanguageId=new.language)
    if new.address is not None:
        party["DirPartyPostalAddressView"] = [_address(new.address, roles=True)]
    contacts = []
    if new.email:
        contacts.append({"IsPrimary": "Yes", "LocationName": "E-mail", "Locator": new.email, "Type": "Email"})
    if new.phone:
        contacts.append({"IsPrimary": "Yes", "LocationName": "Phone", "Locator": new.phone, "Type": "Phone"})
    if contacts:
        party["DirPartyContactInfoView"] = contacts
    cust = _set({}, AccountNum=new.account_num, Currency=new.currency, CustGroup=new.cust_group,
                DlvMode=new.dlv_mode, PaymTermId=new.payment_terms, VATNum=new.vat_num)
    cust["DirParty"] = party_type(**party)
    return cust


def sales_order_entity(new: NewSalesOrder) -> dict[str, Any]:
    """The ``SalesTable`` entity (with lines and delivery address) for SalesOrderService.create."""
    ref = new.shop_reference
    if not ref or len(ref) > PURCH_ORDER_FORM_NUM_MAX:
        raise ValidationError(
            f"The shop order reference {ref!r} must be 1 to {PURCH_ORDER_FORM_NUM_MAX} characters to fit AX "
            "PurchOrderFormNum (AX would truncate it and the order could not be found again).",
            system="ax", code="sales_order")
    if not new.lines:
        raise ValidationError(f"Sales order {ref} has no lines; AX needs at least one.", system="ax", code="sales_order")
    customer_ref = (new.customer_ref or ref)[:CUSTOMER_REF_MAX]
    table = _set({}, CurrencyCode=new.currency, CustAccount=new.cust_account, CustomerRef=customer_ref,
                 DeliveryName=new.delivery_name, DlvMode=new.dlv_mode, Email=new.email,
                 InventLocationId=new.warehouse, InventSiteId=new.site, PaymMode=new.payment_mode,
                 PurchOrderFormNum=ref,
                 ReceiptDateRequested=new.requested_receipt_date or dt.datetime.now(dt.UTC).date())
    lines = []
    for i, line in enumerate(new.lines, start=1):
        if line.qty <= 0:
            raise ValidationError(f"Line {i} of sales order {ref} ({line.item_id}) has quantity {line.qty}; "
                                  "it must be positive.", system="ax", code="sales_order")
        row = _set({}, ItemId=line.item_id, LineDisc=line.discount_amount, LineNum=Decimal(i), Name=line.name,
                   SalesPrice=line.price, SalesQty=line.qty, SalesUnit=line.unit)
        dim = _set({}, InventLocationId=line.warehouse or new.warehouse, InventSiteId=line.site or new.site)
        if dim:
            row["InventDim"] = dim
        lines.append(row)
    if new.delivery_address is not None:
        table["TableDlvAddr"] = _address(new.delivery_address, roles=False)
    table["SalesLine"] = lines
    return table
