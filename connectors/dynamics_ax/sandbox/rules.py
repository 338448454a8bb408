"""Business rules of the documents that can be created or changed through the port.

Each ``create_*`` takes a parsed, schema-valid top entity, checks and defaults it as AX's
Axd classes would, applies side effects (number sequences, stock reservation) and returns
the entity to store. ``before_update``/``after_update``/``before_delete`` hooks guard the
other write operations. Errors are :class:`AxFault` with AX infolog wording; texts marked
[I] are plausible AX labels, not captured from a live system.
"""

from __future__ import annotations

import time
from decimal import Decimal

from . import cancel
from .entity import Entity
from .faults import AxFault
from .model import Company, World, fmt, norm_key

__all__ = ["CREATE_RULES", "before_delete", "before_update", "after_update", "item_name", "release_order"]


def _today(world: World) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(world.now()))


def _missing(label: str) -> AxFault:
    return AxFault([f"Field '{label}' must be filled in."])


def _not_found(value: str, label: str, table: str) -> AxFault:
    return AxFault([f"The value '{value}' in field '{label}' is not found in the relating table '{table}'."])


def _exists(table_label: str, table: str, key_label: str, value: str) -> AxFault:
    return AxFault([f"Cannot create a record in {table_label} ({table}). {key_label}: {value}. "
                    "The record already exists."])


# ----- products and items ------------------------------------------------------------------


def create_product(world: World, company: Company, top: Entity) -> Entity:
    number = top.get("DisplayProductNumber").strip()
    if world.products.get((number,)) is not None:
        raise _exists("Products", "EcoResProduct", "Product number", number)
    if not top.children.get("Identifier"):
        top.children["Identifier"] = [Entity("Identifier", "AxdEntity_Identifier", {"ProductNumber": number})]
    for child in ("Translation", "StorageDimGroup", "TrackingDimGroup", "ProductDimGroup"):
        for rec in top.children.get(child, []):
            if "Product" in rec.fields:
                rec.fields["Product"] = number
    if not top.get("SearchName"):
        top.fields["SearchName"] = number[:20]
    return top


def item_name(world: World, product_number: str) -> str:
    product = world.products.get((product_number,))
    if product is None:
        return ""
    names = product.children.get("Translation", [])
    for t in names:
        if t.get("LanguageId").lower().startswith("en"):
            return t.get("Name")
    return names[0].get("Name") if names else ""


def create_item(world: World, company: Company, top: Entity) -> Entity:
    product = top.get("Product").strip()
    if world.products.get((product,)) is None:
        raise _not_found(product, "Product number", "Products")
    item_id = top.get("ItemId").strip() or product[:20]
    top.fields["ItemId"] = item_id
    if company.store("ItemService").get((item_id,)) is not None:
        raise _exists("Released products", "InventTable", "Item number", item_id)
    top.fields.setdefault("ItemType", "Item")
    for module, kind in (("Invent", "Invent"), ("Purch", "Purch"), ("Sales", "Sales")):
        rows = top.children.setdefault(module, [])
        if not rows:
            rows.append(Entity(module, f"AxdEntity_{module}", {"UnitId": "ea"}))
        for row in rows:
            row.fields["ItemId"] = item_id
            row.fields["ModuleType"] = kind
            row.fields.setdefault("PriceUnit", "1")
    return top


# ----- customers ---------------------------------------------------------------------------


def _party_name(party: Entity) -> str:
    if party.type_name.endswith("DirPerson"):
        pn = party.child("PersonName")
        if pn is not None:
            return " ".join(p for p in (pn.get("FirstName"), pn.get("MiddleName"), pn.get("LastName")) if p)
    org = party.child("OrganizationName")
    if org is not None:
        return org.get("Name")
    return party.get("Name")


def _prepare_party(company: Company, party: Entity, account: str) -> str:
    number = party.get("PartyNumber") or company.next_number("Party", "", 9)
    party.fields["PartyNumber"] = number
    # a person's name is the one of its PersonName record (AX keeps DirPerson.Name in step with
    # DirPersonName, also when an update changes only the PersonName child)
    person = _party_name(party) if party.child("PersonName") is not None else ""
    name = person or party.get("Name") or _party_name(party)
    if not name:
        raise _missing("Name")
    party.fields["Name"] = name
    for i, contact in enumerate(party.children.get("DirPartyContactInfoView", []), start=1):
        contact.fields["Party"] = number
        contact.fields.setdefault("Type", "None")
        contact.fields.setdefault("LocationId", f"{account}-C{i}")
    for i, addr in enumerate(party.children.get("DirPartyPostalAddressView", []), start=1):
        addr.fields["Party"] = number
        addr.fields.setdefault("Roles", "Business")
        lines = [addr.get("Street"), f"{addr.get('ZipCode')} {addr.get('City')}".strip(), addr.get("CountryRegionId")]
        addr.fields["Address"] = "\n".join(v for v in lines if v)
        addr.fields.setdefault("LocationName", f"{account} address {i}")
    return name


def create_customer(world: World, company: Company, top: Entity) -> Entity:
    group = top.get("CustGroup").strip()
    if group.lower() not in {g.lower() for g in company.cust_groups}:
        raise _not_found(group, "Customer group", "Customer groups")
    account = top.get("AccountNum").strip() or company.next_number("CustAccount", "C-")
    top.fields["AccountNum"] = account
    if company.store("CustomerService").get((account,)) is not None:
        raise _exists("Customers", "CustTable", "Customer account", account)
    party = top.child("DirParty")
    if party is None:
        raise _missing("Party")
    if party.type_name == "AxdEntity_DirParty_DirPartyTable":
        raise AxFault(["The party type must be given with xsi:type, for example AxdEntity_DirParty_DirPerson "
                       "or AxdEntity_DirParty_DirOrganization."])  # [I]
    name = _prepare_party(company, party, account)
    top.fields["Name"] = name
    top.fields["Party"] = party.get("PartyNumber")
    top.fields.setdefault("Currency", "EUR")
    top.fields.setdefault("InvoiceAccount", account)
    top.fields.setdefault("PaymTermId", company.cust_groups.get(group, "Net30"))
    return top


# ----- sales orders ------------------------------------------------------------------------


def _reserve(world: World, company: Company, line: Entity) -> None:
    """Reserve what is physically available; the rest stays on order (backorder)."""
    dim = line.child("InventDim")
    location = dim.get("InventLocationId") if dim else company.default_warehouse
    qty = line.dec("SalesQty") - line.dec("~reserved") - line.dec("~picked") - line.dec("~delivered")
    onhand = world.on_hand(company, line.get("ItemId"), location)
    reserve = max(Decimal(0), min(qty, onhand.dec("AvailPhysical")))
    backorder_before = line.dec("~backorder")
    backorder = qty - reserve
    world.adjust(company, line.get("ItemId"), location, ReservPhysical=reserve, OnOrder=backorder - backorder_before)
    line.fields["~reserved"] = fmt(line.dec("~reserved") + reserve)
    line.fields["~backorder"] = fmt(backorder)


def release_order(world: World, company: Company, order: Entity) -> None:
    """Give back every reservation, backorder and pick of an open sales order."""
    for line in order.children.get("SalesLine", []):
        dim = line.child("InventDim")
        location = dim.get("InventLocationId") if dim else company.default_warehouse
        world.adjust(company, line.get("ItemId"), location, ReservPhysical=-line.dec("~reserved"),
                     OnOrder=-line.dec("~backorder"), Picked=-line.dec("~picked"))
        for name in ("~reserved", "~backorder", "~picked"):
            line.fields[name] = "0"


def _prepare_lines(world: World, company: Company, order: Entity) -> None:
    lines = order.children.get("SalesLine", [])
    if not lines:
        raise AxFault(["The sales order must contain at least one sales line."])  # [I]
    items = company.store("ItemService")
    for n, line in enumerate(lines, start=1):
        item_id = line.get("ItemId").strip()
        if not item_id:
            raise _missing("Item number")
        item = items.get((item_id,))
        if item is None:
            raise _not_found(item_id, "Item number", "Released products")
        qty = line.dec("SalesQty")
        if qty <= 0:
            raise AxFault([f"The quantity on the line for item {item_id} must be greater than zero."])  # [I]
        sales = item.child("Sales")
        if not line.get("SalesPrice") and sales is not None:
            line.fields["SalesPrice"] = sales.get("Price") or "0"
        amount = qty * line.dec("SalesPrice") * (1 - line.dec("LinePercent") / 100) - qty * line.dec("LineDisc")
        canceled = cancel.is_canceled(line)  # deliver remainder 0: stays cancelled
        line.fields.update({
            "ItemId": item.get("ItemId"), "LineNum": line.get("LineNum") or str(n), "QtyOrdered": fmt(qty),
            "LineAmount": fmt(amount.quantize(Decimal("0.01"))), "CurrencyCode": order.get("CurrencyCode"),
            "CustAccount": order.get("CustAccount"), "RemainSalesPhysical": "0" if canceled else fmt(qty),
            "SalesStatus": "Canceled" if canceled else "Backorder",
        })
        line.fields.setdefault("PriceUnit", "1")
        if not line.get("Name"):
            line.fields["Name"] = item_name(world, item.get("Product")) or item_id
        if not line.get("InventTransId"):
            line.fields["InventTransId"] = company.next_number("InventTransId", "LOT-")
        dim = line.child("InventDim")
        if dim is None:
            dim = Entity("InventDim", "AxdEntity_InventDim")
            line.children["InventDim"] = [dim]
        location = dim.get("InventLocationId") or order.get("InventLocationId") or company.default_warehouse
        if location not in company.warehouses:
            raise _not_found(location, "Warehouse", "Warehouses")
        site = dim.get("InventSiteId") or company.warehouses[location]
        dim.fields.update({"InventLocationId": location, "InventSiteId": site,
                           "InventDimId": company.dim_id(site, location)})
        line.fields["InventDimId"] = dim.get("InventDimId")


def create_sales_order(world: World, company: Company, top: Entity) -> Entity:
    if top.get("SalesId"):
        # [I] wording; the rule itself is from the reference (whole document rejected)
        raise AxFault([f"Number sequence for Sales order does not allow manual entry of the number "
                       f"'{top.get('SalesId')}'."])
    account = top.get("CustAccount").strip()
    if not account:
        raise _missing("Customer account")
    customer = company.store("CustomerService").get((account,))
    if customer is None:
        raise AxFault([f"Customer account {account} does not exist."])
    if customer.get("Blocked") == "All":
        raise AxFault([f"Customer {account} is blocked for transactions of type All."])  # [I]
    duplicate_po = bool(top.get("PurchOrderFormNum").strip()) and company.po_index.get(_po_key(top), 0) > 0
    today = _today(world)
    top.fields.update({
        "CustAccount": customer.get("AccountNum"),
        "SalesId": company.next_number("SalesId", "SO-"),
        # Same customer + same customer PO number: AX creates the order as a Journal.
        "SalesType": "Journal" if duplicate_po else "Sales",
        "SalesStatus": "Backorder", "DocumentStatus": "None",
    })
    top.fields.setdefault("CurrencyCode", customer.get("Currency") or "EUR")
    top.fields.setdefault("InvoiceAccount", customer.get("InvoiceAccount") or account)
    top.fields.setdefault("DeliveryDate", top.get("ReceiptDateRequested") or today)
    top.fields.setdefault("DeliveryName", customer.get("Name"))
    top.fields.setdefault("SalesName", customer.get("Name"))
    top.fields.setdefault("CustGroup", customer.get("CustGroup"))
    top.fields.setdefault("Payment", customer.get("PaymTermId"))
    top.fields.setdefault("InventLocationId", company.default_warehouse)
    top.fields.setdefault("InventSiteId", company.warehouses.get(top.get("InventLocationId"), ""))
    _prepare_lines(world, company, top)
    if top.get("SalesType") == "Sales":  # journals neither reserve nor ship
        for line in top.children["SalesLine"]:
            _reserve(world, company, line)
    _index_po(company, top, +1)
    return top


def _po_key(order: Entity) -> tuple[str, str]:
    return order.get("CustAccount").strip().lower(), order.get("PurchOrderFormNum").strip().lower()


def _index_po(company: Company, order: Entity, delta: int) -> None:
    key = _po_key(order)
    if key[1]:
        company.po_index[key] = company.po_index.get(key, 0) + delta


CREATE_RULES = {
    "SalesOrderService": create_sales_order,
    "CustomerService": create_customer,
    "EcoResProductService": create_product,
    "ItemService": create_item,
}


def before_update(world: World, company: Company, service: str, current: Entity,
                  canceling: list[Entity] | None = None) -> None:
    """Refuse updates AX refuses; release what the update will recompute.

    ``canceling`` are the lines whose deliver remainder the update sets to 0 (see
    :mod:`.cancel`): allowed on an open order and on a picked one when every open line goes,
    refused with the "already delivered" fault once a packing slip is posted."""
    if service == "SalesOrderService":
        status = current.get("DocumentStatus") or "None"
        if canceling and status in ("PackingSlip", "Invoice"):
            cancel.refuse_delivered(company, current)
        open_lines = [line for line in current.children.get("SalesLine", []) if not cancel.is_canceled(line)]
        if canceling and status == "PickingList" and any(line not in canceling for line in open_lines):
            raise AxFault([f"Sales order {current.get('SalesId')} has been picked: cancel the deliver remainder of "
                           "all its lines, or reverse the picking list first."])  # [I]
        if status != "None" and not (canceling and status == "PickingList"):
            raise AxFault([f"Sales order {current.get('SalesId')} cannot be changed because it is already "
                           f"processed (document status {current.get('DocumentStatus')})."])  # [I]
        if current.get("SalesType") == "Sales":
            release_order(world, company, current)
        _index_po(company, current, -1)


def after_update(world: World, company: Company, service: str, updated: Entity,
                 canceling: list[Entity] | None = None) -> None:
    if service == "CustomerService":
        group = updated.get("CustGroup").strip()
        if group.lower() not in {g.lower() for g in company.cust_groups}:
            raise _not_found(group, "Customer group", "Customer groups")
        party = updated.child("DirParty")
        if party is not None:
            updated.fields["Name"] = _prepare_party(company, party, updated.get("AccountNum"))
    if service == "SalesOrderService":
        _prepare_lines(world, company, updated)
        for line in canceling or ():
            cancel.cancel_line(world, line)
        if updated.get("SalesType") == "Sales":
            for line in updated.children["SalesLine"]:
                if not cancel.is_canceled(line):
                    _reserve(world, company, line)
        updated.fields["SalesStatus"] = cancel.header_status(updated)
        _index_po(company, updated, +1)


def before_delete(world: World, company: Company, service: str, current: Entity) -> None:
    if service == "SalesOrderService":
        if current.get("DocumentStatus") in ("PackingSlip", "Invoice"):
            raise AxFault([f"Sales order {current.get('SalesId')} cannot be deleted because it has been "
                           "delivered."])  # [I]
        if current.get("SalesType") == "Sales":
            release_order(world, company, current)
        _index_po(company, current, -1)
    elif service == "CustomerService":
        account = current.get("AccountNum").lower()
        if any(o.get("CustAccount").lower() == account for o in company.store("SalesOrderService").docs.values()):
            raise AxFault([f"Customer {current.get('AccountNum')} cannot be deleted because sales orders "
                           "exist for it."])  # [I]
    elif service == "ItemService":
        item = norm_key((current.get("ItemId"),))[0]
        if any(line.get("ItemId").lower() == item for o in company.store("SalesOrderService").docs.values()
               for line in o.children.get("SalesLine", [])):
            raise AxFault([f"Item {current.get('ItemId')} cannot be deleted because it is used on sales orders."])
