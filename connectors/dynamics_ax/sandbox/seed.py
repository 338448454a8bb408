"""Deterministic company data for ``--seed N``.

Contract: :func:`seed_company` fills one company with master data (customer groups, two
sites/warehouses), ``items`` released products with sales prices and stock in both
warehouses (with ``variants`` > 0, every tenth item is a product master with that many
released-product variants ``<item>-V<k>``, as :func:`.agreements.add_variant` makes them), ``customers`` persons with address, e-mail and phone, and ``open_orders`` open
sales orders created through the same rules as SOAP creates. The same seed and sizes give
the same data (same ids, names, prices, quantities), independent of wall time; only RecIds
differ between sandbox lives (see ``model``). Seeded orders carry the private marker
``~seeded`` (never rendered): the automatic fulfilment leaves them to stepwise fulfilment.
"""

from __future__ import annotations

import random
from decimal import Decimal

from .agreements import add_variant
from .entity import Entity
from .model import Company, World, fmt
from .rules import create_customer, create_item, create_product, create_sales_order

__all__ = ["seed_company"]

_ADJ = ["Classic", "Urban", "Nordic", "Compact", "Deluxe", "Eco", "Smart", "Vintage", "Sport", "Travel"]
_NOUN = ["Chair", "Lamp", "Backpack", "Kettle", "Desk", "Bottle", "Jacket", "Speaker", "Clock", "Mug"]
_FIRST = ["Anna", "Ben", "Clara", "David", "Eva", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Lena", "Max"]
_LAST = ["Meyer", "Schmidt", "Novak", "Dubois", "Rossi", "Jansen", "Berg", "Keller", "Lund", "Costa"]
_CITY = [("Berlin", "10115", "DEU"), ("Paris", "75001", "FRA"), ("Milano", "20121", "ITA"), ("Wien", "1010", "AUT")]


def _product(number: str, name: str) -> Entity:
    product = Entity("Product", "AxdEntity_Product_EcoResDistinctProduct",
                     {"DisplayProductNumber": number, "ProductType": "Item", "SearchName": name[:20]})
    product.children["Translation"] = [Entity("Translation", "AxdEntity_Translation",
                                              {"LanguageId": "en-us", "Name": name})]
    return product


def _item(number: str, price: Decimal) -> Entity:
    item = Entity("InventTable", "AxdEntity_InventTable", {"ItemId": number, "Product": number})
    item.children["Sales"] = [Entity("Sales", "AxdEntity_Sales", {"UnitId": "ea", "Price": fmt(price)})]
    item.children["Invent"] = [Entity("Invent", "AxdEntity_Invent", {"UnitId": "ea"})]
    item.children["Purch"] = [Entity("Purch", "AxdEntity_Purch", {"UnitId": "ea"})]
    return item


def _customer(rng: random.Random, n: int) -> Entity:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    city, zip_code, country = rng.choice(_CITY)
    party = Entity("DirParty", "AxdEntity_DirParty_DirPerson", {"Name": f"{first} {last}"})
    party.children["PersonName"] = [Entity("PersonName", "AxdEntity_PersonName",
                                           {"FirstName": first, "LastName": last})]
    party.children["DirPartyPostalAddressView"] = [Entity("DirPartyPostalAddressView",
                                                          "AxdEntity_DirPartyPostalAddressView", {
        "City": city, "ZipCode": zip_code, "CountryRegionId": country, "Street": f"{rng.randint(1, 99)} Main Street",
        "IsPrimary": "Yes", "Roles": "Delivery;Invoice"})]
    party.children["DirPartyContactInfoView"] = [
        Entity("DirPartyContactInfoView", "AxdEntity_DirPartyContactInfoView",
               {"Type": "Email", "Locator": f"{first}.{last}.{n}@example.com".lower(), "IsPrimary": "Yes"}),
        Entity("DirPartyContactInfoView", "AxdEntity_DirPartyContactInfoView",
               {"Type": "Phone", "Locator": f"+49 30 {rng.randint(1000000, 9999999)}", "IsPrimary": "Yes"}),
    ]
    cust = Entity("CustTable", "AxdEntity_CustTable", {"CustGroup": "WEB", "Currency": "EUR"})
    cust.children["DirParty"] = [party]
    return cust


def seed_company(world: World, company: Company, seed: int, items: int, customers: int, open_orders: int,
                 variants: int = 0) -> None:
    """Fill ``company`` deterministically (see module docstring)."""
    rng = random.Random(f"{seed}:{company.id}")
    company.cust_groups.update({"WEB": "Net30", "10": "Net30", "20": "Net14"})
    company.warehouses.update({"11": "1", "21": "2"})
    company.default_warehouse = "11"
    for n in range(1, items + 1):
        number = f"A{n:04d}"
        if world.products.get((number,)) is None:
            world.put(world.products, create_product(world, company, _product(
                number, f"{_ADJ[n % len(_ADJ)]} {_NOUN[(n // len(_ADJ)) % len(_NOUN)]} {n}")))
        price = Decimal(rng.randint(500, 20000)) / 100
        world.put(company.store("ItemService"), create_item(world, company, _item(number, price)))
        for location in company.warehouses:
            world.adjust(company, number, location, PostedQty=Decimal(rng.randint(0, 40)))
        if variants and n % 10 == 0:
            for k in range(1, variants + 1):
                if world.products.get((f"{number}-V{k}",)) is None:
                    add_variant(world, company, number, f"{number}-V{k}")
    accounts = []
    for n in range(1, customers + 1):
        cust = create_customer(world, company, _customer(rng, n))
        accounts.append(world.put(company.store("CustomerService"), cust)[0])
    for n in range(1, min(open_orders, len(accounts)) + 1 if items else 1):
        order = Entity("SalesTable", "AxdEntity_SalesTable", {
            "CustAccount": rng.choice(accounts), "PurchOrderFormNum": f"SEED-{n:04d}",
            "ReceiptDateRequested": "2026-01-15", "CustomerRef": f"Seed order {n}"})
        lines = []
        for _ in range(rng.randint(1, 3)):
            lines.append(Entity("SalesLine", "AxdEntity_SalesLine", {
                "ItemId": f"A{rng.randint(1, items):04d}", "SalesQty": str(rng.randint(1, 3)), "SalesUnit": "ea"}))
        order.children["SalesLine"] = lines
        created = create_sales_order(world, company, order)
        created.fields["~seeded"] = "1"
        world.put(company.store("SalesOrderService"), created)
