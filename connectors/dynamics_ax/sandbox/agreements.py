"""Sales trade agreements and product variants of the sandbox company (``/_sandbox`` helpers).

* :func:`put_agreement` adds or changes a sales price agreement line (``PriceDiscTable``,
  ``Relation`` PriceSales, ``ItemCode`` Table), read through the port's PriceDiscTableService
  (a custom document service [I]: AX 2012 ships none that reads trade agreements);
  :func:`remove_agreement` deletes one. Both go through change tracking.
* :func:`add_variant` adds a released product variant (``EcoResDistinctProductVariant`` with
  ``ProductMaster``) of a product; the master becomes an ``EcoResProductMaster`` with
  predefined variants, as in AX 2012 R3.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .entity import Entity
from .model import Company, World, fmt

__all__ = ["AgreementError", "add_variant", "put_agreement", "remove_agreement"]

#: AX's empty date
NO_DATE = "1900-01-01"
_ACCOUNT_CODES = ("Table", "Group", "All")


class AgreementError(ValueError):
    """A request the sandbox refuses (the text says why)."""


def _dec(data: dict[str, Any], name: str, default: str) -> Decimal:
    try:
        return Decimal(str(data.get(name, default)))
    except ArithmeticError:
        raise AgreementError(f"Field {name!r} must be a number.") from None


def put_agreement(world: World, company: Company, data: dict[str, Any]) -> Entity:
    """Create a price agreement line, or change the one with ``rec_id``; returns it."""
    store = company.store("PriceDiscTableService")
    rec_id = data.get("rec_id")
    if rec_id is not None:
        line = store.get((str(rec_id),))
        if line is None:
            raise AgreementError(f"No trade agreement line has RecId {rec_id}.")
    else:
        item_id = str(data.get("item_id") or "")
        if company.store("ItemService").get((item_id,)) is None:
            raise AgreementError(f"Item {item_id!r} is not released to company {company.id}.")
        line = Entity("PriceDiscTable", "AxdEntity_PriceDiscTable", {
            "Relation": "PriceSales", "ItemCode": "Table", "ItemRelation": item_id, "UnitId": "ea"})
    code = str(data.get("account_code", line.get("AccountCode") or "All"))
    if code not in _ACCOUNT_CODES:
        raise AgreementError(f"Field 'account_code' must be one of {', '.join(_ACCOUNT_CODES)}.")
    line.fields["AccountCode"] = code
    line.fields["AccountRelation"] = str(data.get("account_relation", line.get("AccountRelation") or ""))
    line.fields["Currency"] = str(data.get("currency", line.get("Currency") or "EUR"))
    line.fields["Amount"] = fmt(_dec(data, "amount", line.get("Amount") or "0"))
    line.fields["PriceUnit"] = fmt(_dec(data, "price_unit", line.get("PriceUnit") or "1"))
    line.fields["QuantityAmountFrom"] = fmt(_dec(data, "quantity_from", line.get("QuantityAmountFrom") or "0"))
    line.fields["FromDate"] = str(data.get("from_date", line.get("FromDate") or NO_DATE))
    line.fields["ToDate"] = str(data.get("to_date", line.get("ToDate") or NO_DATE))
    if rec_id is not None:
        world.bump(line)
        world.touch(store, line)
    else:
        world.put(store, line)
    return line


def remove_agreement(world: World, company: Company, rec_id: Any) -> None:
    store = company.store("PriceDiscTableService")
    if store.get((str(rec_id),)) is None:
        raise AgreementError(f"No trade agreement line has RecId {rec_id}.")
    world.remove(store, (str(rec_id),))


def add_variant(world: World, company: Company, master: str, number: str) -> Entity:
    """A variant ``number`` of product ``master`` (which must be released to ``company``)."""
    base = world.products.get((master,))
    if base is None or company.store("ItemService").get((master,)) is None:
        raise AgreementError(f"Product {master!r} is not released to company {company.id}.")
    if world.products.get((number,)) is not None:
        raise AgreementError(f"Product number {number!r} already exists.")
    if base.type_name != "AxdEntity_Product_EcoResProductMaster":
        base.type_name = "AxdEntity_Product_EcoResProductMaster"
        base.fields["VariantConfigurationTechnology"] = "PredefinedVariants"
        world.bump(base)
        world.touch(world.products, base)
    variant = Entity("Product", "AxdEntity_Product_EcoResDistinctProductVariant",
                     {"DisplayProductNumber": number, "ProductType": "Item", "SearchName": number[:20],
                      "ProductMaster": master})
    variant.children["Identifier"] = [Entity("Identifier", "AxdEntity_Identifier", {"ProductNumber": number})]
    world.put(world.products, variant)
    return variant
