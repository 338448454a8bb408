"""Seed data: the base rows of a fresh PrestaShop 8.x install plus a generated catalog.

:func:`seed_shop` fills an empty store with two languages (en, fr), currencies with conversion
rates, zones, countries and states, taxes, carriers, the thirteen default order states with their
install ids (reference §8.3), customer groups, one shop and the root/home categories; then, for
``n_products`` > 0, a deterministic catalog (categories, manufacturers, products, a third of them
with size combinations, stock), a customer base (``n_products // 2`` customers with addresses)
and ``n_products // 5`` orders placed through the same code path as ``POST /api/orders``.
The same ``n_products`` and ``random_seed`` always give the same shop.
"""

from __future__ import annotations

import random
from typing import Any

from . import orders
from .model import ShopModel, hash_password, slugify
from .writes import normalize

__all__ = ["seed_shop"]

_BASE_TIME = "2025-01-06 09:00:00"
_FIRST = ["Anna", "Louis", "Emma", "Hugo", "Léa", "Jonas", "Mia", "Noah", "Clara", "Paul", "Sofia", "Tom",
          "Julie", "Lucas", "Nina", "Marc", "Eva", "Adam", "Lina", "Jules"]
_LAST = ["Martin", "Bernard", "Dubois", "Schmidt", "Müller", "García", "Rossi", "Smith", "Jones", "Moreau",
         "Laurent", "Weber", "Fischer", "López", "Bianchi", "Brown", "Taylor", "Lefèvre", "Wagner", "Roux"]
_CITIES = [("Paris", "75002", "8"), ("Lyon", "69001", "8"), ("Berlin", "10115", "1"), ("Madrid", "28001", "6"),
           ("Milano", "20121", "10"), ("London", "EC1A 1BB", "17"), ("Boston", "02108", "21")]
_ADJ = ["Classic", "Organic", "Vintage", "Slim", "Premium", "Eco", "Urban", "Soft", "Bold", "Light"]
_NOUN = [("T-shirt", "T-shirt", 19.9), ("Sweater", "Pull", 39.0), ("Mug", "Tasse", 11.9),
         ("Notebook", "Carnet", 12.9), ("Poster", "Affiche", 29.0), ("Cushion", "Coussin", 19.0),
         ("Backpack", "Sac à dos", 59.0), ("Cap", "Casquette", 15.5), ("Scarf", "Écharpe", 24.0)]
_STATES = [  # id, name en, name fr, template, flags, module, colour (reference §8.3)
    (1, "Awaiting check payment", "En attente du paiement par chèque", "cheque", "mail", "ps_checkpayment", "#34209E"),
    (2, "Payment accepted", "Paiement accepté", "payment", "inv mail log paid pdf_inv", "", "#3498D8"),
    (3, "Processing in progress", "En cours de préparation", "preparation", "inv mail log dlv paid", "", "#3498D8"),
    (4, "Shipped", "Expédié", "shipped", "inv mail log dlv shp paid", "", "#01B887"),
    (5, "Delivered", "Livré", "", "inv log dlv shp paid", "", "#01B887"),
    (6, "Canceled", "Annulé", "order_canceled", "mail", "", "#2C3E50"),
    (7, "Refunded", "Remboursé", "refund", "inv mail", "", "#01B887"),
    (8, "Payment error", "Erreur de paiement", "payment_error", "mail", "", "#E74C3C"),
    (9, "On backorder (paid)", "En attente de réapprovisionnement (payé)", "outofstock", "inv mail paid", "", "#3498D8"),
    (10, "Awaiting bank wire payment", "En attente de virement bancaire", "bankwire", "mail", "ps_wirepayment", "#34209E"),
    (11, "Remote payment accepted", "Paiement à distance accepté", "payment", "inv mail log paid", "", "#3498D8"),
    (12, "On backorder (not paid)", "En attente de réapprovisionnement (non payé)", "outofstock", "mail", "", "#34209E"),
    (13, "Awaiting Cash On Delivery validation", "En attente de validation (paiement à la livraison)",
     "cashondelivery", "", "ps_cashondelivery", "#34209E"),
]


class _Seeder:
    def __init__(self, model: ShopModel, rng: random.Random) -> None:
        self.m, self.rng = model, rng
        self.langs = [1, 2]

    def make(self, resource: str, row_id: int | None = None, **values: Any) -> dict[str, Any]:
        """A complete row: every declared field defaulted as MySQL would, then ``values``."""
        res = self.m.resources[resource]
        row: dict[str, Any] = {}
        for fld in res.fields:
            if fld.name == "id" or (fld.virtual and fld.name not in values):
                continue
            value = values.get(fld.name)
            if fld.lang:
                if isinstance(value, tuple):
                    row[fld.name] = dict(zip(self.langs, value, strict=False))
                else:
                    row[fld.name] = {lg: value or "" for lg in self.langs}
            else:
                row[fld.name] = normalize(fld, None if value is None else str(value))
        for key in ("date_add", "date_upd"):
            if key in row and row[key].startswith("0000"):
                row[key] = _BASE_TIME
        if "_assoc" in values:
            row["_assoc"] = values["_assoc"]
        if row_id is None:
            self.m.store.insert(resource, row)
        else:
            self.m.store.put(resource, row_id, row)
        return row

    def base(self, shop_name: str) -> None:
        s = self.m.store
        for key, value in {"PS_LANG_DEFAULT": 1, "PS_COUNTRY_DEFAULT": "8", "PS_CURRENCY_DEFAULT": 1,
                           "PS_SHOP_NAME": shop_name, "shipping_costs": {"2": "7.000000"},
                           "payment_modules": {"ps_checkpayment": {"active": True}, "ps_wirepayment": {"active": True},
                                               "ps_cashondelivery": {"active": False}}}.items():
            s.set_setting(key, value)
        self.make("languages", 1, name="English (English)", iso_code="en", locale="en-US", language_code="en-us",
                  active=1, date_format_lite="m/d/Y", date_format_full="m/d/Y H:i:s")
        self.make("languages", 2, name="Français (French)", iso_code="fr", locale="fr-FR", language_code="fr",
                  active=1, date_format_lite="d/m/Y", date_format_full="d/m/Y H:i:s")
        for cid, iso, num, rate, sym, name in [(1, "EUR", "978", "1.000000", "€", "Euro"),
                                               (2, "USD", "840", "1.080000", "$", "US Dollar"),
                                               (3, "GBP", "826", "0.860000", "£", "British Pound")]:
            self.make("currencies", cid, name=name, names=(name, name), symbol=(sym, sym), iso_code=iso,
                      numeric_iso_code=num, precision=2, conversion_rate=rate, active=1,
                      pattern=("¤#,##0.00", "#,##0.00 ¤"))
        for zid, name in [(1, "Europe"), (2, "North America")]:
            self.make("zones", zid, name=name, active=1)
        countries = [(1, "DE", 49, "Germany", "Allemagne", 1, "NNNNN"), (6, "ES", 34, "Spain", "Espagne", 1, "NNNNN"),
                     (8, "FR", 33, "France", "France", 1, "NNNNN"), (10, "IT", 39, "Italy", "Italie", 1, "NNNNN"),
                     (17, "GB", 44, "United Kingdom", "Royaume-Uni", 1, ""),
                     (21, "US", 1, "United States", "États-Unis", 2, "NNNNN")]
        for cid, iso, prefix, en, fr, zone, zipf in countries:
            self.make("countries", cid, id_zone=zone, id_currency=0, call_prefix=prefix, iso_code=iso, active=1,
                      contains_states=1 if iso == "US" else 0, need_identification_number=0,
                      need_zip_code=1, zip_code_format=zipf, display_tax_label=1, name=(en, fr))
        for sid, (iso, name) in enumerate([("AL", "Alabama"), ("CA", "California"), ("MA", "Massachusetts"),
                                           ("NY", "New York"), ("TX", "Texas")], start=1):
            self.make("states", sid, id_zone=2, id_country=21, iso_code=iso, name=name, active=1)
        for tid, rate, name in [(1, "20.000", "TVA FR 20%"), (2, "5.500", "TVA FR 5.5%")]:
            self.make("taxes", tid, rate=rate, active=1, deleted=0, name=(name, name))
        for gid, name, tax in [(1, "FR Taux standard (20%)", 1), (2, "FR Taux réduit (5.5%)", 2)]:
            self.make("tax_rule_groups", gid, name=name, active=1, deleted=0)
            for country in (8, 1, 6, 10):
                self.make("tax_rules", None, id_tax_rules_group=gid, id_country=country, id_state=0, id_tax=tax,
                          behavior=0, zipcode_from="0", zipcode_to="0", description="")
        self.make("carriers", 1, name="0", active=1, is_free=1, deleted=0, shipping_handling=0, range_behavior=0,
                  is_module=0, id_reference=1, grade=0, url="", delay=("Pick up in-store", "Retrait en magasin"),
                  id_tax_rules_group=1)
        self.make("carriers", 2, name="My carrier", active=1, is_free=0, deleted=0, shipping_handling=1,
                  is_module=0, id_reference=2, grade=0, url="https://track.example.com/?parcel=@",
                  delay=("Delivery next day!", "Livraison le lendemain !"), id_tax_rules_group=1)
        for sid, en, fr, template, flags, module, colour in _STATES:
            f = set(flags.split())
            self.make("order_states", sid, unremovable=1, delivery=int("dlv" in f), hidden=0,
                      send_email=int("mail" in f), module_name=module, invoice=int("inv" in f), color=colour,
                      logable=int("log" in f), shipped=int("shp" in f), paid=int("paid" in f),
                      pdf_delivery=0, pdf_invoice=int("pdf_inv" in f), deleted=0, name=(en, fr),
                      template=(template, template))
        for gid, en, fr in [(1, "Visitor", "Visiteur"), (2, "Guest", "Invité"), (3, "Customer", "Client")]:
            self.make("groups", gid, reduction="0.00", price_display_method=0, show_prices=1, name=(en, fr))
        self.make("shops", 1, id_shop_group=1, id_category=2, active=1, deleted=0, name=self.m.store.settings["PS_SHOP_NAME"],
                  color="", theme_name="classic")
        self.make("categories", 1, id_parent=0, level_depth=0, active=1, id_shop_default=1, is_root_category=0,
                  position=0, name=("Root", "Racine"), link_rewrite=("root", "racine"))
        self.make("categories", 2, id_parent=1, level_depth=1, active=1, id_shop_default=1, is_root_category=1,
                  position=0, name=("Home", "Accueil"), link_rewrite=("home", "accueil"))

    def catalog(self, n_products: int) -> None:
        rng, s = self.rng, self.m.store
        cats = []
        for pos, (en, fr) in enumerate([("Clothes", "Vêtements"), ("Accessories", "Accessoires"),
                                        ("Home", "Maison"), ("Stationery", "Papeterie")]):
            cats.append(self.make("categories", None, id_parent=2, level_depth=2, active=1, id_shop_default=1,
                                  position=pos, name=(en, fr), link_rewrite=(slugify(en), slugify(fr)))["id"])
        for name in ("Studio Design", "Graphic Corner", "Nordic Goods"):
            self.make("manufacturers", None, name=name, active=1)
        size_group = self.make("product_options", None, is_color_group=0, group_type="select", position=0,
                               name=("Size", "Taille"), public_name=("Size", "Taille"))["id"]
        sizes = [self.make("product_option_values", None, id_attribute_group=size_group, color="", position=i,
                           name=(sz, sz))["id"] for i, sz in enumerate(["S", "M", "L"])]
        for i in range(1, n_products + 1):
            adj, (noun_en, noun_fr, price) = rng.choice(_ADJ), rng.choice(_NOUN)
            name_en, name_fr = f"{adj} {noun_en} {i}", f"{noun_fr} {adj.lower()} {i}"
            cat = rng.choice(cats)
            product = self.make(
                "products", None, id_manufacturer=rng.randint(1, 3), id_supplier=0, id_category_default=cat,
                id_tax_rules_group=1, id_shop_default=1, reference=f"SKU-{i:05d}", ean13=f"{3760000000000 + i}",
                weight=f"{rng.uniform(0.1, 2):.2f}", price=f"{price + rng.randint(0, 20):.6f}",
                wholesale_price=f"{price / 2:.6f}", active=1, available_for_order=1, show_price=1, indexed=1,
                condition="new", visibility="both", minimal_quantity=1, state=1, product_type="standard",
                redirect_type="default", name=(name_en, name_fr), link_rewrite=(slugify(name_en), slugify(name_fr)),
                description=(f"<p>{name_en}, made to last.</p>", f"<p>{name_fr}, fait pour durer.</p>"),
                description_short=(f"<p>{name_en}</p>", f"<p>{name_fr}</p>"),
                _assoc={"categories": [{"id": "2"}, {"id": cat}]},
            )
            self.m._new_stock_row(product["id"], "0")
            stocks = s.find("stock_availables", id_product=product["id"])
            if i % 3 == 0:
                product["product_type"] = "combinations"
                for j, value_id in enumerate(sizes):
                    combo = self.make("combinations", None, id_product=product["id"], reference=f"SKU-{i:05d}-{j}",
                                      price=f"{j * 2:.6f}", minimal_quantity=1, default_on=1 if j == 0 else None,
                                      _assoc={"product_option_values": [{"id": value_id}]})
                    self.m._new_stock_row(product["id"], combo["id"])
                for stock in s.find("stock_availables", id_product=product["id"]):
                    if stock["id_product_attribute"] != "0":
                        stock["quantity"] = str(rng.randint(0, 60))
                        s.save("stock_availables", stock)
                self.m.recompute_product_stock(product["id"])
            else:
                stocks[0]["quantity"] = str(rng.randint(0, 150))
                s.save("stock_availables", stocks[0])
            s.save("products", product)

    def customers(self, count: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        rng, out = self.rng, []
        for i in range(1, count + 1):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            email = f"{slugify(first)}.{slugify(last)}.{i}@example.com"
            customer = self.make("customers", None, id_default_group=3, id_lang=rng.choice([1, 2]),
                                 secure_key=f"{rng.getrandbits(128):032x}", deleted=0,
                                 passwd=hash_password("sandbox-password", str(i)), lastname=last, firstname=first,
                                 email=email, id_gender=rng.choice([1, 2]), newsletter=rng.randint(0, 1), optin=0,
                                 active=1, is_guest=0, id_shop=1, id_shop_group=1, _assoc={"groups": [{"id": "3"}]})
            city, postcode, country = rng.choice(_CITIES)
            address = self.make("addresses", None, id_customer=customer["id"], id_country=country,
                                id_state=3 if country == "21" else 0, alias="Home", lastname=last, firstname=first,
                                address1=f"{rng.randint(1, 120)} Main Street", postcode=postcode, city=city,
                                phone=f"+33 1 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} 00",
                                deleted=0)
            out.append((customer, address))
        return out

    def orders(self, count: int, people: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        rng, products = self.rng, list(self.m.store.rows("products"))
        if not people or not products:
            return
        for _ in range(count):
            customer, address = rng.choice(people)
            rows = []
            for product in rng.sample(products, k=min(len(products), rng.randint(1, 3))):
                combos = self.m.store.find("combinations", id_product=product["id"])
                rows.append({"id_product": product["id"], "id_product_attribute": combos[0]["id"] if combos else "0",
                             "id_address_delivery": address["id"], "id_customization": "0",
                             "quantity": str(rng.randint(1, 3))})
            cart = self.make("carts", None, id_address_delivery=address["id"], id_address_invoice=address["id"],
                             id_currency=1, id_customer=customer["id"], id_lang=customer["id_lang"], id_shop_group=1,
                             id_shop=1, id_carrier=2, secure_key=customer["secure_key"], _assoc={"cart_rows": rows})
            total = orders.cart_totals(self.m, cart)["total_ti"]
            order = orders.create_order(self.m, {"id_cart": cart["id"], "module": "ps_checkpayment",
                                                 "payment": "Payment by check", "total_paid": str(total)})
            for state in rng.choice([[], ["3"], ["3", "4"], ["3", "4", "5"], ["6"]]):
                orders.change_state(self.m, order, state)


def seed_shop(model: ShopModel, n_products: int, shop_name: str, rng: random.Random) -> None:
    """Fill an empty store (does nothing when the store already holds data, e.g. from SQLite)."""
    if not model.store.is_empty():
        return
    seeder = _Seeder(model, rng)
    frozen = model.store.clock.frozen
    model.store.clock.set(frozen=_BASE_TIME)  # seed rows carry fixed dates: same seed, same shop
    try:
        seeder.base(shop_name)
        if n_products > 0:
            seeder.catalog(n_products)
            people = seeder.customers(max(n_products // 2, 1))
            seeder.orders(n_products // 5, people)
    finally:
        model.store.clock.frozen = frozen
    model.store.commit()
