"""Computed ``price[NAME][PARAM]=value`` fields of products and combinations (reference §3.8).

Each NAME becomes an extra element after the regular fields, valued like
``Product::priceCalculation``: base price plus the combination's impact, the best matching
specific price (unless ``use_reduction=0``), tax of the country's rules (``use_tax``, default on),
converted to ``currency`` and rounded to ``decimals`` places (which defaults, as in PrestaShop, to
the value of ``PS_PRICE_ROUND_MODE``, 2), printed with six decimals (``%f``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from .model import ShopModel
from .orders import product_unit_price, tax_rate
from .render import Extras
from .store import Row
from .wserrors import WsError

__all__ = ["parse_price_params", "price_extras"]

_PARAM = re.compile(r"price\[([^\]]*)\](?:\[([^\]]*)\])?")
_CONFIG_NAME = re.compile(r"[a-zA-Z_0-9-]+")
PS_PRICE_ROUND_MODE = 2


def parse_price_params(items: Iterable[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """``{NAME: {param: value}}`` from the query; error 128 for an invalid NAME."""
    out: dict[str, dict[str, str]] = {}
    for key, value in items:
        m = _PARAM.fullmatch(key)
        if not m:
            continue
        name, param = m.group(1), m.group(2)
        if not _CONFIG_NAME.fullmatch(name):
            raise WsError(400, 128, f'The price name "{name}" is not valid (use letters, digits, "_" and "-").')
        spec = out.setdefault(name, {})
        if param:
            spec[param] = value
    return out


def _dec(value: str | None, default: str) -> Decimal:
    try:
        return Decimal(value if value not in (None, "") else default)  # type: ignore[arg-type]
    except Exception:
        return Decimal(default)


def _one(m: ShopModel, product: Row, combination: str, spec: dict[str, str]) -> str:
    now = m.now()
    quantity = int(_dec(spec.get("quantity"), "1"))
    currency_id = spec.get("currency") or str(m.store.settings.get("PS_CURRENCY_DEFAULT", 1))
    combination = spec.get("product_attribute") or combination
    base = product_unit_price(m, product, combination, max(quantity, 1), "0", currency_id, now)
    if spec.get("use_reduction") == "0" or spec.get("only_reduction") == "1":
        # an id no specific price points at gives the price before any reduction
        full = product_unit_price(m, {**product, "id": "-1"}, combination, 1, "0", currency_id, now)
        base = full - base if spec.get("only_reduction") == "1" else full
    if spec.get("use_tax", "1") != "0":
        country = spec.get("country") or str(m.store.settings.get("PS_COUNTRY_DEFAULT", "8"))
        base = base * (1 + tax_rate(m, product.get("id_tax_rules_group") or "0", country) / 100)
    currency = m.store.get("currencies", int(currency_id)) if currency_id.isdigit() else None
    if currency is not None:
        base = base * _dec(currency.get("conversion_rate"), "1")
    decimals = int(_dec(spec.get("decimals"), str(PS_PRICE_ROUND_MODE)))
    rounded = base.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{rounded:.6f}"


def price_extras(m: ShopModel, resource: str, specs: dict[str, dict[str, str]]) -> Extras | None:
    """The extras callable for the renderer, or None when there is nothing to add."""
    if not specs or resource not in ("products", "combinations"):
        return None

    def extras(row: Row) -> list[tuple[str, str]]:
        if resource == "products":
            product, combination = row, "0"
        else:
            product = m.store.get("products", int(row.get("id_product") or 0)) or {"id": "0", "price": "0"}
            combination = row["id"]
        return [(name, _one(m, product, combination, spec)) for name, spec in specs.items()]

    return extras
