"""Orders as PrestaShop 8.2 makes them over the webservice (reference §8).

* :func:`create_order` is ``Order::addWs`` -> ``PaymentModule::validateOrder``: the posted order
  only names a cart, a payment module and the amount paid; everything else is recomputed from the
  cart (lines, totals, carrier, addresses). The initial state is 11 "Remote payment accepted", or
  8 "Payment error" when ``total_paid`` differs from the cart total. Stock is decremented, an
  order carrier row, an invoice and a payment are created.
* :func:`checkout` is the front office's checkout: the payment module validates the cart with
  its own initial state (``ps_wirepayment``: 10 "Awaiting bank wire payment", ``ps_checkpayment``:
  1 "Awaiting check payment"), which creates neither an invoice nor a payment.
* :func:`change_state` is ``OrderHistory::changeIdOrderState``: it moves ``current_state`` and
  ``valid``, creates the invoice/payment a paid or invoiced state implies, and gives stock back
  when an order leaves a logable state for Canceled or Payment error. Besides ``orders updated``
  it reports ``orders status_changed`` with the previous state (the webhook ``order.status_changed``).
"""

from __future__ import annotations

import string
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .model import ShopModel
from .store import Row
from .wserrors import PlainAnswer, WsError

__all__ = ["FRONT_OFFICE_STATES", "checkout", "create_order", "change_state", "cart_totals", "product_unit_price"]

PS_OS_WS_PAYMENT = "11"
PS_OS_ERROR = "8"
PS_OS_CANCELED = "6"
#: the state a payment module's front-office validation gives a new order (reference §8.3)
FRONT_OFFICE_STATES = {"ps_wirepayment": "10", "ps_checkpayment": "1", "ps_cashondelivery": "13"}


def _d(value: Any) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except Exception:
        return Decimal(0)


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


def tax_rate(m: ShopModel, tax_rules_group: str, country: str) -> Decimal:
    """Rate in percent of a tax rules group for a country (0 when no rule applies)."""
    for rule in m.store.find("tax_rules", id_tax_rules_group=tax_rules_group or "0"):
        if rule.get("id_country") in (country, "0"):
            tax = m.store.get("taxes", int(rule.get("id_tax") or 0))
            if tax and tax.get("active") == "1":
                return _d(tax.get("rate"))
    return Decimal(0)


def product_unit_price(m: ShopModel, product: Row, combination_id: str, quantity: int,
                       customer_id: str, currency_id: str, now: str) -> Decimal:
    """Unit price tax excluded after combination impact and the best matching specific price."""
    base = _d(product.get("price"))
    if combination_id not in ("0", ""):
        combo = m.store.get("combinations", int(combination_id))
        if combo:
            base += _d(combo.get("price"))
    price = base
    for sp in m.store.find("specific_prices", id_product=product["id"]):
        if sp.get("id_product_attribute") not in ("0", None, combination_id):
            continue
        if sp.get("id_customer") not in ("0", None, customer_id) or sp.get("id_currency") not in ("0", None, currency_id):
            continue
        if int(sp.get("from_quantity") or 1) > quantity:
            continue
        start, end = sp.get("from") or "", sp.get("to") or ""
        if (start and not start.startswith("0000") and start > now) or (end and not end.startswith("0000") and end < now):
            continue
        candidate = base if _d(sp.get("price")) < 0 else _d(sp.get("price"))
        if sp.get("reduction_type") == "percentage":
            candidate = candidate * (1 - _d(sp.get("reduction")))
        else:
            candidate = candidate - _d(sp.get("reduction"))
        price = min(price, max(candidate, Decimal(0)))
    return price


def cart_totals(m: ShopModel, cart: Row) -> dict[str, Any]:
    """Lines and totals of a cart, as validateOrder computes them (tax from the delivery country)."""
    now = m.now()
    address = m.store.get("addresses", int(cart.get("id_address_delivery") or 0))
    country = (address or {}).get("id_country") or str(m.store.settings.get("PS_COUNTRY_DEFAULT", "8"))
    lines, products_te, products_ti = [], Decimal(0), Decimal(0)
    for item in cart.get("_assoc", {}).get("cart_rows", []):
        product = m.store.get("products", int(item.get("id_product") or 0))
        qty = int(item.get("quantity") or 0)
        if product is None or qty <= 0:
            continue
        combo_id = item.get("id_product_attribute") or "0"
        unit_te = product_unit_price(m, product, combo_id, qty, cart.get("id_customer") or "0",
                                     cart.get("id_currency") or "0", now)
        rate = tax_rate(m, product.get("id_tax_rules_group") or "0", country)
        unit_ti = (unit_te * (1 + rate / 100)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        lines.append({"product": product, "combination": combo_id, "quantity": qty, "unit_te": unit_te,
                      "unit_ti": unit_ti, "rate": rate})
        products_te += unit_te * qty
        products_ti += unit_ti * qty
    carrier = m.store.get("carriers", int(cart.get("id_carrier") or 0))
    ship_te = Decimal(0)
    if carrier and carrier.get("is_free") != "1":
        ship_te = _d(m.store.settings.get("shipping_costs", {}).get(carrier["id"], "0"))
    ship_rate = tax_rate(m, (carrier or {}).get("id_tax_rules_group") or "0", country)
    ship_ti = ship_te * (1 + ship_rate / 100)
    return {"lines": lines, "products_te": products_te, "products_ti": products_ti, "ship_te": ship_te,
            "ship_ti": ship_ti, "ship_rate": ship_rate, "total_te": products_te + ship_te,
            "total_ti": products_ti + ship_ti}


def _reference(m: ShopModel) -> str:
    return "".join(m.rng.choice(string.ascii_uppercase) for _ in range(9))


def checkout(m: ShopModel, cart_id: int, module: str) -> Row:
    """The customer confirms cart ``cart_id`` in the front office and pays with ``module``;
    returns the stored order, in the module's initial state (:data:`FRONT_OFFICE_STATES`).
    Raises what :func:`create_order` raises, and :class:`WsError` 400 for another module."""
    state = FRONT_OFFICE_STATES.get(module)
    if state is None:
        raise WsError(400, 0, f"The front office has no offline payment module {module!r}; "
                      f"known: {', '.join(sorted(FRONT_OFFICE_STATES))}.")
    cart = m.store.get("carts", cart_id) or {}
    totals = cart_totals(m, cart) if cart else {"total_ti": Decimal(0)}
    return create_order(m, {"id_cart": str(cart_id), "module": module, "payment": module,
                            "total_paid": str(totals["total_ti"])}, initial_state=state)


def create_order(m: ShopModel, posted: Row, initial_state: str | None = None) -> Row:
    """``Order::addWs``: validate the cart and module, build the order; returns the stored order.

    Raises :class:`PlainAnswer` for the ``die()`` paths (unknown cart, cart already ordered,
    secure key mismatch, inactive module) and a PHP fatal for an unknown module.
    """
    module = posted.get("module") or ""
    modules = m.store.settings.get("payment_modules", {})
    if module not in modules:
        raise PlainAnswer(500, f"<br />\n<b>Fatal error</b>:  Uncaught Error: Class '{module}' not found in "
                          "classes/order/Order.php:2260\n", "text/html; charset=utf-8")
    if not modules[module].get("active"):
        raise PlainAnswer(200, "Module is not active")
    cart = m.store.get("carts", int(posted.get("id_cart") or 0))
    if cart is None or m.store.find("orders", id_cart=cart["id"]):
        raise PlainAnswer(200, "Cart cannot be loaded or an order has already been placed using this cart")
    customer = m.store.get("customers", int(cart.get("id_customer") or 0))
    if customer is None or cart.get("secure_key") != customer.get("secure_key"):
        raise PlainAnswer(200, "Error processing order. Secure key does not match.")
    totals = cart_totals(m, cart)
    currency = m.store.get("currencies", int(cart.get("id_currency") or 0)) or {}
    precision = int(currency.get("precision") or 2)
    quant = Decimal(1).scaleb(-precision)
    paid = _d(posted.get("total_paid"))
    state = PS_OS_WS_PAYMENT if paid.quantize(quant) == totals["total_ti"].quantize(quant) else PS_OS_ERROR
    if initial_state is not None and state != PS_OS_ERROR:
        state = initial_state  # the front office: the module's own state
    now = m.now()
    order: Row = {
        "id_address_delivery": cart.get("id_address_delivery") or "0",
        "id_address_invoice": cart.get("id_address_invoice") or "0", "id_cart": cart["id"],
        "id_currency": cart.get("id_currency") or "0", "id_lang": cart.get("id_lang") or "1",
        "id_customer": customer["id"], "id_carrier": cart.get("id_carrier") or "0", "current_state": "0",
        "module": module, "invoice_number": "0", "invoice_date": "0000-00-00 00:00:00", "delivery_number": "0",
        "delivery_date": "0000-00-00 00:00:00", "valid": "0", "note": "", "id_shop_group": "1", "id_shop": "1",
        "secure_key": customer.get("secure_key"), "payment": posted.get("payment") or module,
        "recyclable": cart.get("recyclable") or "0", "gift": cart.get("gift") or "0",
        "gift_message": cart.get("gift_message") or "", "mobile_theme": "0",
        "total_discounts": "0.000000", "total_discounts_tax_incl": "0.000000", "total_discounts_tax_excl": "0.000000",
        "total_paid": _money(totals["total_ti"]), "total_paid_tax_incl": _money(totals["total_ti"]),
        "total_paid_tax_excl": _money(totals["total_te"]), "total_paid_real": "0.000000",
        "total_products": _money(totals["products_te"]), "total_products_wt": _money(totals["products_ti"]),
        "total_shipping": _money(totals["ship_ti"]), "total_shipping_tax_incl": _money(totals["ship_ti"]),
        "total_shipping_tax_excl": _money(totals["ship_te"]), "carrier_tax_rate": _money(totals["ship_rate"]),
        "total_wrapping": "0.000000", "total_wrapping_tax_incl": "0.000000", "total_wrapping_tax_excl": "0.000000",
        "round_mode": "2", "round_type": "2", "conversion_rate": currency.get("conversion_rate") or "1.000000",
        "reference": _reference(m), "date_add": now, "date_upd": now,
    }
    m.store.insert("orders", order)
    for line in totals["lines"]:
        product = line["product"]
        qty = line["quantity"]
        m.store.insert("order_details", {
            "id_order": order["id"], "product_id": product["id"], "product_attribute_id": line["combination"],
            "product_quantity_reinjected": "0", "group_reduction": "0.00", "discount_quantity_applied": "0",
            "download_hash": "", "download_deadline": "0000-00-00 00:00:00", "id_order_invoice": "0",
            "id_warehouse": "0", "id_shop": "1", "id_customization": "0",
            "product_name": (product.get("name") or {}).get(int(order["id_lang"]), "") or "",
            "product_quantity": str(qty), "product_quantity_in_stock": str(qty), "product_quantity_return": "0",
            "product_quantity_refunded": "0", "product_price": _money(line["unit_te"]), "reduction_percent": "0.00",
            "reduction_amount": "0.000000", "reduction_amount_tax_incl": "0.000000",
            "reduction_amount_tax_excl": "0.000000", "product_quantity_discount": "0.000000",
            "product_ean13": product.get("ean13") or "", "product_isbn": product.get("isbn") or "",
            "product_upc": product.get("upc") or "", "product_mpn": product.get("mpn") or "",
            "product_reference": product.get("reference") or "",
            "product_supplier_reference": product.get("supplier_reference") or "",
            "product_weight": product.get("weight") or "0.000000", "tax_name": "", "tax_rate": _money(line["rate"]),
            "tax_computation_method": "0", "id_tax_rules_group": product.get("id_tax_rules_group") or "0",
            "ecotax": "0.000000", "ecotax_tax_rate": "0.000", "download_nb": "0",
            "unit_price_tax_incl": _money(line["unit_ti"]), "unit_price_tax_excl": _money(line["unit_te"]),
            "total_price_tax_incl": _money(line["unit_ti"] * qty), "total_price_tax_excl": _money(line["unit_te"] * qty),
            "total_shipping_price_tax_excl": "0.000000", "total_shipping_price_tax_incl": "0.000000",
            "purchase_supplier_price": product.get("wholesale_price") or "0.000000",
            "original_product_price": product.get("price") or "0.000000",
            "original_wholesale_price": product.get("wholesale_price") or "0.000000",
            "total_refunded_tax_excl": "0.000000", "total_refunded_tax_incl": "0.000000",
        })
        _move_stock(m, product["id"], line["combination"], -qty)
    m.store.insert("order_carriers", {
        "id_order": order["id"], "id_carrier": order["id_carrier"], "id_order_invoice": "0",
        "weight": "0.000000", "shipping_cost_tax_excl": _money(totals["ship_te"]),
        "shipping_cost_tax_incl": _money(totals["ship_ti"]), "tracking_number": "", "date_add": now,
    })
    change_state(m, order, state, employee="0", creating=True)
    m.on_change("orders", "created", order)
    return order


def _move_stock(m: ShopModel, product_id: str, combination_id: str, delta: int) -> None:
    for stock in m.store.find("stock_availables", id_product=product_id, id_product_attribute=combination_id or "0"):
        m.set_stock(stock, int(stock.get("quantity") or 0) + delta)


def change_state(m: ShopModel, order: Row, state_id: str, employee: str = "0", creating: bool = False) -> Row:
    """Move an order to ``state_id`` and record the history row; returns the history row."""
    new_state = m.store.get("order_states", int(state_id or 0))
    if new_state is None:
        raise WsError(500, 46, "Unable to save resource")
    old_state = m.store.get("order_states", int(order.get("current_state") or 0))
    now = m.now()
    was_logable = old_state is not None and old_state.get("logable") == "1"
    if state_id in (PS_OS_CANCELED, PS_OS_ERROR) and was_logable:
        for detail in m.store.find("order_details", id_order=order["id"]):
            _move_stock(m, detail.get("product_id") or "0", detail.get("product_attribute_id") or "0",
                        int(detail.get("product_quantity") or 0))
    elif old_state and old_state.get("id") in (PS_OS_CANCELED, PS_OS_ERROR) and new_state.get("logable") == "1":
        for detail in m.store.find("order_details", id_order=order["id"]):
            _move_stock(m, detail.get("product_id") or "0", detail.get("product_attribute_id") or "0",
                        -int(detail.get("product_quantity") or 0))
    order["current_state"] = state_id
    order["valid"] = new_state.get("logable") or "0"
    order["date_upd"] = now
    # Order::setInvoice() makes an invoice only when the order has none (hasInvoice()): one a
    # client POSTed to order_invoices counts (and the delivery-slip branch is not taken either)
    if new_state.get("invoice") == "1" and order.get("invoice_number") in ("0", "", None):
        if not m.store.find("order_invoices", id_order=str(order["id"])):
            _make_invoice(m, order, now)
    elif new_state.get("delivery") == "1" and order.get("delivery_number") in ("0", "", None):
        number = int(m.store.settings.get("next_delivery_number", 1))
        m.store.set_setting("next_delivery_number", number + 1)
        order["delivery_number"] = str(number)
        order["delivery_date"] = now
    if new_state.get("paid") == "1":
        due = _d(order.get("total_paid_tax_incl")) - _d(order.get("total_paid_real"))
        if due > 0:
            m.store.insert("order_payments", {
                "order_reference": order.get("reference"), "id_currency": order.get("id_currency"),
                "amount": _money(due), "payment_method": order.get("payment") or "",
                "conversion_rate": order.get("conversion_rate") or "1.000000", "transaction_id": "",
                "card_number": "", "card_brand": "", "card_expiration": "", "card_holder": "", "date_add": now,
                "id_employee": None,
            })
            order["total_paid_real"] = _money(_d(order.get("total_paid_real")) + due)
    m.store.save("orders", order)
    history: Row = {"id_employee": employee or "0", "id_order_state": state_id, "id_order": order["id"],
                    "date_add": now}
    m.store.insert("order_histories", history)
    if not creating:
        m.on_change("orders", "updated", order)
        # what a module hooked on actionOrderStatusPostUpdate sends (newOrderStatus, oldOrderStatus)
        m.on_change("orders", "status_changed", {**order, "_previous_state": old_state.get("id") if old_state else "0"})
    return history


def _make_invoice(m: ShopModel, order: Row, now: str) -> None:
    """Order::setInvoice(): the next invoice number, and the order_invoice with the order's totals."""
    number = int(m.store.settings.get("next_invoice_number", 1))
    m.store.set_setting("next_invoice_number", number + 1)
    order["invoice_number"] = str(number)
    order["invoice_date"] = now
    m.store.insert("order_invoices", {
        "id_order": order["id"], "number": str(number), "delivery_number": "0",
        "delivery_date": "0000-00-00 00:00:00", "total_discount_tax_excl": order.get("total_discounts_tax_excl"),
        "total_discount_tax_incl": order.get("total_discounts_tax_incl"),
        "total_paid_tax_excl": order.get("total_paid_tax_excl"), "total_paid_tax_incl": order.get("total_paid_tax_incl"),
        "total_products": order.get("total_products"), "total_products_wt": order.get("total_products_wt"),
        "total_shipping_tax_excl": order.get("total_shipping_tax_excl"),
        "total_shipping_tax_incl": order.get("total_shipping_tax_incl"), "shipping_tax_computation_method": "0",
        "total_wrapping_tax_excl": "0.000000", "total_wrapping_tax_incl": "0.000000",
        "shop_address": m.store.settings.get("PS_SHOP_NAME", ""), "note": "", "date_add": now,
    })
