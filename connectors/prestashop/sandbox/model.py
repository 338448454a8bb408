"""The small shop behind the webservice: computed fields, associations, save and delete rules.

:class:`ShopModel` is what the request handlers call after a body was parsed and validated. It
reproduces the side effects the reference documents for PrestaShop's entity classes: customers'
password hashing, secure keys and unique e-mails; products' and combinations' stock rows (the
product row holds the sum of its combinations); category depth and trees; address soft-deletion;
``date_add``/``date_upd`` maintenance with one-second resolution. Orders live in
:mod:`.orders`. Every change is reported to ``on_change`` (the webhook emitter's hook).
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from .schema import Association, Field, Resource, load_resources
from .store import Row, Store
from .wserrors import WsError

__all__ = ["ShopModel", "ChangeHook", "slugify", "hash_password"]

ChangeHook = Callable[[str, str, Row], None]  # (resource, action "created"|"updated"|"deleted", row)

# Associations PrestaShop computes from other tables rather than storing (getWs* readers).
_DERIVED = {
    ("products", "combinations"), ("products", "stock_availables"), ("products", "product_option_values"),
    ("categories", "categories"), ("categories", "products"), ("orders", "order_rows"),
    ("product_options", "product_option_values"),
}


def slugify(text: str) -> str:
    """``Tools::str2url``: lower-case ASCII words joined by dashes."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")


def hash_password(plain: str, salt: str) -> str:
    """A 60-character bcrypt-shaped hash (``$2y$10$`` + 53 chars).

    Not real bcrypt (no bcrypt library is a dependency, and bcrypt's deliberate slowness would make
    the sandbox the bottleneck of write benchmarks); it has the length and prefix a real shop
    stores, which is what clients and ``isHashedPassword`` see.
    """
    digest = hashlib.sha256(salt.encode() + b"$" + plain.encode()).digest() + hashlib.sha1(plain.encode()).digest()
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    n = int.from_bytes(digest, "big")
    chars = []
    for _ in range(53):
        n, r = divmod(n, 64)
        chars.append(alphabet[r])
    return "$2y$10$" + "".join(chars)


class ShopModel:
    """Business rules over a :class:`Store`. ``rng`` makes generated keys deterministic."""

    def __init__(self, store: Store, rng: random.Random, on_change: ChangeHook | None = None) -> None:
        self.store = store
        self.rng = rng
        self.resources = load_resources()
        self.on_change: ChangeHook = on_change or (lambda resource, action, row: None)
        self._category_positions: dict[str, list[str]] | None = None

    # -- settings -------------------------------------------------------------------------------
    @property
    def default_lang(self) -> int:
        return int(self.store.settings.get("PS_LANG_DEFAULT", 1))

    def languages(self, active_only: bool = True) -> list[int]:
        return [int(r["id"]) for r in self.store.rows("languages") if not active_only or r.get("active") == "1"]

    def now(self) -> str:
        return self.store.clock.now()

    # -- reading: computed fields ---------------------------------------------------------------
    def value(self, resource: Resource, row: Row, fld: Field) -> Any:
        """The value printed for ``fld``: the stored column or the getter's result."""
        if not (fld.virtual or fld.getter):
            return row.get(fld.name)
        getter = _GETTERS.get((resource.name, fld.name))
        return getter(self, row) if getter else row.get(fld.name)

    def assoc_items(self, resource: Resource, row: Row, assoc: Association) -> list[dict[str, str]]:
        """Items of an association, as string maps of the association's declared fields."""
        rid = row.get("id", "")
        key = (resource.name, assoc.name)
        if key == ("products", "combinations"):
            return [{"id": c["id"]} for c in self.store.find("combinations", id_product=rid)]
        if key == ("products", "stock_availables"):
            return [{"id": s["id"], "id_product_attribute": s["id_product_attribute"]}
                    for s in self.store.find("stock_availables", id_product=rid)]
        if key == ("products", "product_option_values"):
            ids: dict[str, None] = {}
            for combo in self.store.find("combinations", id_product=rid):
                for item in combo.get("_assoc", {}).get("product_option_values", []):
                    ids[item.get("id", "")] = None
            return [{"id": i} for i in ids]
        if key == ("categories", "categories"):
            return [{"id": c["id"]} for c in self.store.find("categories", id_parent=rid)]
        if key == ("categories", "products"):
            return [{"id": pid} for pid in self._category_index().get(rid, [])]
        if key == ("orders", "order_rows"):
            return [_order_row(d) for d in self.store.find("order_details", id_order=rid)]
        if key == ("product_options", "product_option_values"):
            return [{"id": v["id"]} for v in self.store.find("product_option_values", id_attribute_group=rid)]
        items = row.get("_assoc", {}).get(assoc.name, [])
        return [dict(item) for item in items]

    def _category_index(self) -> dict[str, list[str]]:
        if self._category_positions is None:
            index: dict[str, list[str]] = {}
            for product in self.store.rows("products"):
                for item in product.get("_assoc", {}).get("categories", []):
                    index.setdefault(item.get("id", ""), []).append(product["id"])
            self._category_positions = index
        return self._category_positions

    # -- writing --------------------------------------------------------------------------------
    def set_association(self, resource: Resource, row: Row, assoc: Association, items: list[dict[str, str]]) -> None:
        """A ``setWs*`` setter: replace the whole set (associations without a setter are ignored)."""
        if not assoc.writable or (resource.name, assoc.name) in _DERIVED and assoc.name != "combinations":
            return
        if (resource.name, assoc.name) == ("products", "combinations"):
            # setWsCombinations deletes the product's combinations that are not listed.
            keep = {i.get("id", "").strip() for i in items}
            for combo in self.store.find("combinations", id_product=row["id"]):
                if combo["id"] not in keep:
                    self.delete("combinations", combo)
            return
        clean = [{k: v.strip() for k, v in item.items()} for item in items]
        row.setdefault("_assoc", {})[assoc.name] = clean
        if (resource.name, assoc.name) == ("products", "categories"):
            self._category_positions = None
        self.store.save(resource.name, row)

    def apply_setter(self, resource: Resource, row: Row, fld: Field, value: str, method: str) -> None:
        """Write a field that has a ``setter`` (or is virtual); plain fields are set directly."""
        setter = _SETTERS.get((resource.name, fld.name))
        if setter is not None:
            setter(self, row, value, method)
        elif not fld.virtual:
            row[fld.name] = value

    def before_save(self, resource: Resource, row: Row, method: str, old: Row | None) -> None:
        """``addWs``/``updateWs`` checks that may refuse the save (codes 133, 140, 141)."""
        if resource.name == "customers":
            for other in self.store.find_casefold("customers", "email", row.get("email") or ""):
                if other["id"] != row.get("id") and other.get("is_guest") != "1" and row.get("is_guest") != "1":
                    if method == "POST":
                        raise WsError(500, 140, "The email is already used, please choose another one")
                    raise WsError(500, 141, "The email is already used, please choose another one")
        if resource.name == "stock_availables" and row.get("depends_on_stock") == "1":
            raise WsError(500, 133, "You cannot change the quantity of a product that depends on the stock "
                          "of the warehouses (advanced stock management)")

    def save(self, resource: Resource, row: Row, method: str, old: Row | None) -> None:
        """Persist ``row`` created (``old`` None) or updated, with dates and side effects."""
        name = resource.name
        now = self.now()
        names = {f.name for f in resource.fields}
        if "date_upd" in names:
            row["date_upd"] = now
        if "date_add" in names and (old is None or not row.get("date_add") or row["date_add"].startswith("0000")):
            row["date_add"] = now
        if name == "categories":
            parent = self.store.get("categories", int(row.get("id_parent") or 0))
            row["level_depth"] = str(int(parent.get("level_depth") or 0) + 1) if parent else "0"
        if name == "customers" and old is None:
            row["secure_key"] = f"{self.rng.getrandbits(128):032x}"
        if name == "products" and old is not None and row.get("price") in (None, ""):
            row["price"] = old.get("price") or "0.000000"  # updateWs recomputes a missing price
        if old is None:
            self.store.insert(name, row)
        else:
            self.store.save(name, row)
        if old is None and name == "customers" and not row.get("_assoc", {}).get("groups"):
            row.setdefault("_assoc", {})["groups"] = [{"id": row.get("id_default_group") or "3"}]
            self.store.save(name, row)
        if old is None and name == "products":
            self._new_stock_row(row["id"], "0")
        if old is None and name == "combinations":
            self._new_stock_row(row["id_product"], row["id"])
            self.recompute_product_stock(row["id_product"])
        if name == "stock_availables" and row.get("id_product_attribute") not in ("0", None):
            self.recompute_product_stock(row["id_product"])
        if name == "products":
            self._category_positions = None
        self.on_change(name, "created" if old is None else "updated", row)

    def _new_stock_row(self, product_id: str, combination_id: str) -> None:
        stock = {"id_product": product_id, "id_product_attribute": combination_id, "id_shop": "1",
                 "id_shop_group": "0", "quantity": "0", "depends_on_stock": "0", "out_of_stock": "2",
                 "location": ""}
        self.store.insert("stock_availables", stock)

    def recompute_product_stock(self, product_id: str) -> None:
        """The product-level row holds the sum of its combination rows (StockAvailable::postSave)."""
        rows = self.store.find("stock_availables", id_product=product_id)
        combos = [r for r in rows if r.get("id_product_attribute") != "0"]
        parent = next((r for r in rows if r.get("id_product_attribute") == "0"), None)
        if parent is None or not combos:
            return
        total = str(sum(int(r.get("quantity") or 0) for r in combos))
        if parent.get("quantity") != total:
            parent["quantity"] = total
            self.store.save("stock_availables", parent)
            self.on_change("stock_availables", "updated", parent)

    def set_stock(self, row: Row, quantity: int) -> None:
        """Change a stock row by business logic (orders), keeping the product sum right."""
        row["quantity"] = str(quantity)
        self.store.save("stock_availables", row)
        self.on_change("stock_availables", "updated", row)
        if row.get("id_product_attribute") not in ("0", None):
            self.recompute_product_stock(row["id_product"])

    def delete(self, name: str, row: Row) -> None:
        """``ObjectModel::delete`` with the cascades of the reference (§6.4)."""
        rid = row["id"]
        if name == "addresses" and (self.store.find("orders", id_address_delivery=rid)
                                     or self.store.find("orders", id_address_invoice=rid)):
            row["deleted"] = "1"
            self.store.save(name, row)
            self.on_change(name, "updated", row)
            return
        if name == "customers":
            for res in ("carts", "specific_prices"):
                for child in self.store.find(res, id_customer=rid):
                    if not (res == "carts" and self.store.find("orders", id_cart=child["id"])):
                        self.store.delete(res, int(child["id"]))
            if not self.store.find("orders", id_customer=rid):
                for addr in self.store.find("addresses", id_customer=rid):
                    self.store.delete("addresses", int(addr["id"]))
        if name == "products":
            for res in ("combinations", "stock_availables", "specific_prices"):
                for child in self.store.find(res, id_product=rid):
                    self.store.delete(res, int(child["id"]))
            self._category_positions = None
        if name == "combinations":
            for stock in self.store.find("stock_availables", id_product_attribute=rid):
                self.store.delete("stock_availables", int(stock["id"]))
        if name == "categories":
            for child in self.store.find("categories", id_parent=rid):
                self.delete("categories", child)
        self.store.delete(name, int(rid))
        if name == "combinations":
            self.recompute_product_stock(row.get("id_product") or "0")
        self.on_change(name, "deleted", row)


def _order_row(detail: Row) -> dict[str, str]:
    return {
        "id": detail["id"], "product_id": detail.get("product_id") or "0",
        "product_attribute_id": detail.get("product_attribute_id") or "0",
        "product_quantity": detail.get("product_quantity") or "0",
        "product_name": detail.get("product_name") or "", "product_reference": detail.get("product_reference") or "",
        "product_ean13": detail.get("product_ean13") or "", "product_isbn": detail.get("product_isbn") or "",
        "product_upc": detail.get("product_upc") or "", "product_price": detail.get("product_price") or "",
        "id_customization": detail.get("id_customization") or "0",
        "unit_price_tax_incl": detail.get("unit_price_tax_incl") or "",
        "unit_price_tax_excl": detail.get("unit_price_tax_excl") or "",
    }


# -- virtual getters ------------------------------------------------------------------------------
def _product_quantity(m: ShopModel, row: Row) -> int:
    for stock in m.store.find("stock_availables", id_product=row["id"], id_product_attribute="0"):
        return int(stock.get("quantity") or 0)
    return 0


def _product_default_combination(m: ShopModel, row: Row) -> str:
    for combo in m.store.find("combinations", id_product=row["id"]):
        if combo.get("default_on") == "1":
            return combo["id"]
    return "0"


def _product_position(m: ShopModel, row: Row) -> str:
    members = m._category_index().get(row.get("id_category_default") or "", [])
    return str(members.index(row["id"]) + 1) if row["id"] in members else "0"


def _manufacturer_name(m: ShopModel, row: Row) -> str:
    manufacturer = m.store.get("manufacturers", int(row.get("id_manufacturer") or 0))
    return manufacturer.get("name", "") if manufacturer else ""


def _product_type(m: ShopModel, row: Row) -> str:
    if row.get("cache_is_pack") == "1":
        return "pack"
    return "virtual" if row.get("is_virtual") == "1" else "simple"


def _nb_products_recursive(m: ShopModel, row: Row) -> str:
    index, todo, seen, total = m._category_index(), [row["id"]], set(), set()
    while todo:
        cid = todo.pop()
        if cid in seen:
            continue
        seen.add(cid)
        total.update(index.get(cid, []))
        todo.extend(c["id"] for c in m.store.find("categories", id_parent=cid))
    return str(len(total))


def _shipping_number(m: ShopModel, row: Row) -> str:
    for carrier in m.store.find("order_carriers", id_order=row["id"]):
        return carrier.get("tracking_number") or ""
    return ""


def _currency_name(m: ShopModel, row: Row) -> str:
    names = row.get("names") or {}
    return names.get(m.default_lang, "") or row.get("name") or ""


_GETTERS: dict[tuple[str, str], Callable[[ShopModel, Row], Any]] = {
    ("products", "quantity"): _product_quantity,
    ("products", "id_default_combination"): _product_default_combination,
    ("products", "position_in_category"): _product_position,
    ("products", "manufacturer_name"): _manufacturer_name,
    ("products", "type"): _product_type,
    ("products", "new"): lambda m, row: "0",
    ("products", "id_default_image"): lambda m, row: row.get("id_default_image") or "",
    ("categories", "nb_products_recursive"): _nb_products_recursive,
    ("orders", "shipping_number"): _shipping_number,
    ("carriers", "id_tax_rules_group"): lambda m, row: row.get("id_tax_rules_group") or "0",
    ("currencies", "name"): _currency_name,
    ("currencies", "names"): lambda m, row: row.get("names") or {},
    ("currencies", "symbol"): lambda m, row: row.get("symbol") or {},
    ("manufacturers", "link_rewrite"): lambda m, row: slugify(row.get("name") or ""),
}


# -- setters --------------------------------------------------------------------------------------
def _set_passwd(m: ShopModel, row: Row, value: str, method: str) -> None:
    # setWsPasswd hashes when the object is new or the value differs from the stored hash.
    if method == "POST" or value != row.get("passwd"):
        row["passwd"] = hash_password(value, f"{m.rng.getrandbits(64):016x}") if value else value
    else:
        row["passwd"] = value


def _set_type(m: ShopModel, row: Row, value: str, method: str) -> None:
    row["cache_is_pack"] = "1" if value == "pack" else "0"
    row["is_virtual"] = "1" if value == "virtual" else "0"
    row["product_type"] = {"pack": "pack", "virtual": "virtual"}.get(value, row.get("product_type") or "standard")


def _set_position(m: ShopModel, row: Row, value: str, method: str) -> None:
    if not value.strip():
        return
    count = len(m._category_index().get(row.get("id_category_default") or "", []))
    pos = int(value) if value.strip().lstrip("-").isdigit() else 0
    if pos <= 0:
        raise WsError(500, 134, "You cannot set a negative position, the minimum for a position is 1.")
    if pos > max(count, 1):
        raise WsError(500, 135, f"You cannot set a position greater than the total number of products in the "
                      f"category, starting at 1 (max {count}).")


def _set_shipping_number(m: ShopModel, row: Row, value: str, method: str) -> None:
    row["_pending_shipping_number"] = value


def _set_current_state(m: ShopModel, row: Row, value: str, method: str) -> None:
    row["_pending_state"] = value


_SETTERS: dict[tuple[str, str], Callable[[ShopModel, Row, str, str], None]] = {
    ("customers", "passwd"): _set_passwd,
    ("products", "type"): _set_type,
    ("products", "position_in_category"): _set_position,
    ("products", "id_default_combination"): lambda m, row, v, meth: None,
    ("products", "id_default_image"): lambda m, row, v, meth: row.__setitem__("id_default_image", v),
    ("orders", "shipping_number"): _set_shipping_number,
    ("orders", "current_state"): _set_current_state,
    ("carriers", "id_tax_rules_group"): lambda m, row, v, meth: row.__setitem__("id_tax_rules_group", v),
    ("currencies", "names"): lambda m, row, v, meth: None,
}


def resources() -> dict[str, Resource]:
    return load_resources()
