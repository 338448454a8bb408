"""A generator of labelled event streams for the anomaly guard (tests and ``benchmarks/guard.py``).

``generate(seed, n_events, profile)`` returns ``[(event, anomaly_kind or None), ...]`` in time
order: a simulated shop with items (prices, stock), retail and B2B customers, new customers
arriving all the time, weekend and holiday peaks, promotions and a sales season, stock-outs and
restocks, new items with no history, extra fields the guard must tolerate. Anomalies (about 2%
of events) are injected only where the bridge has evidence to judge them -- an item or customer
with at least three earlier events, or an order that cannot add up -- and are labelled with
their kind:

``price_shift`` (x10, /10, x100), ``price_zero``, ``price_drop`` (80-88% below), ``stock_jump``
(x20-x1000 or 50,000), ``stock_negative``, ``order_total`` (a quantity typo making an order ~100x
the customer's usual), ``order_line_sum`` (the total does not add up to the lines),
``order_quantity`` (one line far beyond the item's usual), ``order_currency`` (a currency the
shop does not sell), ``order_burst`` (a new customer's 3rd and later order within 15 minutes).

Profiles: ``tuned`` (the stream the guard's thresholds were set on) and ``heldout`` (other
seeds, another currency set, more B2B, a longer holiday, other price scales: never tuned on).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

__all__ = ["PROFILES", "generate", "shop_currencies"]

DAY = 86400.0


@dataclass
class Profile:
    currencies: tuple[tuple[str, float], ...]
    foreign: tuple[str, ...]
    items: int
    price_mu: float
    b2b_share: float
    holiday: tuple[float, float]  # (start day, length in days)
    sale: tuple[float, float]
    anomaly_rate: float


PROFILES = {
    "tuned": Profile((("EUR", 0.75), ("USD", 0.15), ("GBP", 0.07), ("CHF", 0.03)), ("JPY", "BRL", "XXX"),
                     items=150, price_mu=3.3, b2b_share=0.08, holiday=(20, 4), sale=(10, 3), anomaly_rate=0.02),
    "heldout": Profile((("EUR", 0.55), ("CHF", 0.25), ("SEK", 0.2)), ("USD", "NOK", "PLN"),
                       items=260, price_mu=2.6, b2b_share=0.2, holiday=(12, 8), sale=(4, 5), anomaly_rate=0.025),
}


def shop_currencies(profile: str) -> list[str]:
    return [c for c, _ in PROFILES[profile].currencies]


class _World:
    def __init__(self, rng: random.Random, p: Profile) -> None:
        self.rng, self.p = rng, p
        self.items: list[dict[str, Any]] = []
        self.customers: list[dict[str, Any]] = []
        self.bursts: list[tuple[dict[str, Any], int]] = []  # (customer, orders left)
        self.seq = 0
        for _ in range(p.items):
            self.new_item()

    def new_item(self) -> dict[str, Any]:
        rng = self.rng
        price = round(rng.lognormvariate(self.p.price_mu, 0.9), 2) + 0.99
        level = max(3, int(rng.lognormvariate(3.5, 0.9)))
        item = {"id": f"IT{len(self.items):05d}", "base": price, "price": price, "sale_left": 0, "level": level,
                "stock": level, "qty": rng.choice([1, 1, 1, 2, 2, 3, 5]), "events": 0, "orders": 0}
        self.items.append(item)
        return item

    def new_customer(self, now: float) -> dict[str, Any]:
        b2b = self.rng.random() < self.p.b2b_share
        c = {"id": str(1000 + len(self.customers)), "b2b": b2b, "orders": 0, "first": now, "last": None,
             "cur": self.rng.choices([c for c, _ in self.p.currencies], [w for _, w in self.p.currencies])[0]}
        self.customers.append(c)
        return c


def _event(world: _World, kind: str, now: float, data: dict[str, Any]) -> dict[str, Any]:
    world.seq += 1
    if world.rng.random() < 0.1:
        data["_note"] = world.rng.choice(["gift", "", {"src": "import"}, [1, 2]])  # extra fields are tolerated
    return {"id": f"e{world.seq}", "type": kind, "timestamp": round(now, 3), "data": data}


def _in(day: float, window: tuple[float, float]) -> bool:
    return window[0] <= day % 30 < window[0] + window[1]


def _rate(p: Profile, now: float) -> float:
    """Events per hour: weekends 1.6x, the holiday 3x."""
    day = now / DAY
    r = 120.0 * (1.6 if int(day) % 7 in (5, 6) else 1.0)
    return r * (3.0 if _in(day, p.holiday) else 1.0)


def _price_event(w: _World, now: float, out: list[Any]) -> None:
    rng, p = w.rng, w.p
    it = rng.choice(w.items[-40:]) if rng.random() < 0.1 else rng.choice(w.items)
    old = it["price"]
    label = None
    if it["events"] >= 3 and rng.random() < p.anomaly_rate * 4:
        label = rng.choice(["price_shift", "price_shift", "price_zero", "price_drop"])
        new = {"price_shift": round(old * rng.choice([10, 0.1, 100]), 2), "price_zero": 0.0,
               "price_drop": round(it["base"] * rng.uniform(0.12, 0.2), 2)}[label]
        out.append((_event(w, "price.changed", now, {"ItemId": it["id"], "old_price": old, "new_price": new}), label))
        return  # the glitch is not applied: the next change starts from the real price again
    if it["sale_left"] > 0:
        it["sale_left"] -= 1
        new = old if it["sale_left"] else it["base"]
    elif _in(now / DAY, p.sale) and rng.random() < 0.5:
        new, it["sale_left"] = round(it["base"] * rng.uniform(0.4, 0.7), 2), rng.randint(1, 4)
    elif rng.random() < 0.15:
        new, it["sale_left"] = round(it["base"] * rng.uniform(0.5, 0.9), 2), rng.randint(1, 3)
    else:
        it["base"] = round(it["base"] * rng.uniform(0.97, 1.05), 2)
        new = it["base"]
    it["price"] = new
    it["events"] += 1
    out.append((_event(w, "price.changed", now, {"ItemId": it["id"], "old_price": old, "new_price": new}), None))


def _stock_event(w: _World, now: float, out: list[Any]) -> None:
    rng, p = w.rng, w.p
    it = rng.choice(w.items)
    old = it["stock"]
    if it["events"] >= 3 and rng.random() < p.anomaly_rate * 3:
        label = rng.choice(["stock_jump", "stock_jump", "stock_negative"])
        new = (rng.choice([int(max(old, it["level"]) * rng.uniform(20, 1000)), 50000]) if label == "stock_jump"
               else -rng.randint(1, 50))
        out.append((_event(w, "stock.changed", now, {"ItemId": it["id"], "old_quantity": old, "new_quantity": new}),
                    label))
        return
    if old <= it["level"] * 0.2 or (old == 0):
        boost = 2.0 if _in(now / DAY, p.holiday) else 1.0
        new = int(it["level"] * rng.uniform(0.8, 1.5) * boost)  # a restock, also after a stock-out
    else:
        new = max(0, old - rng.randint(1, max(1, it["level"] // 5)))
    it["stock"] = new
    it["events"] += 1
    out.append((_event(w, "stock.changed", now, {"ItemId": it["id"], "old_quantity": old, "new_quantity": new}),
                None))


def _regular(w: _World, now: float) -> dict[str, Any] | None:
    """A returning customer who did not order in the last half hour (a normal pace), if any."""
    for _ in range(5):
        c = w.rng.choice(w.customers) if w.customers else None
        if c is not None and (c["last"] is None or now - c["last"] > 1800):
            return c
    return None


def _order_event(w: _World, now: float, out: list[Any]) -> None:
    rng, p = w.rng, w.p
    label = None
    if w.bursts and rng.random() < 0.7:
        cust, left = w.bursts.pop()
        if left > 1:
            w.bursts.append((cust, left - 1))
        label = "order_burst" if cust["orders"] >= 2 else None
    elif rng.random() < 0.25 or not (cust := _regular(w, now)):
        cust = w.new_customer(now)
        if rng.random() < p.anomaly_rate:
            w.bursts.append((cust, rng.randint(5, 9)))
        elif rng.random() < 0.1:
            w.bursts.append((cust, 1))  # a normal second order soon after the first
    items = rng.sample(w.items, rng.randint(1, 4))
    rows = []
    for it in items:
        q = it["qty"] * (rng.randint(8, 30) if cust["b2b"] else rng.randint(1, 2))
        rows.append({"product_reference": it["id"], "product_quantity": str(q),
                     "unit_price_tax_incl": f"{it['price'] * 1.2:.6f}", "product_name": "x"})
    currency = cust["cur"]
    established = cust["orders"] >= 3
    kinds = ["order_line_sum", "order_currency"] + (["order_total", "order_quantity"] if established else [])
    if label is None and rng.random() < p.anomaly_rate * 1.5:
        label = rng.choice(kinds)
        if label == "order_total":  # a unit typo on every line: ~100x anything this customer bought
            for r in rows:
                r["product_quantity"] = str(int(r["product_quantity"]) * 100)
        elif label == "order_quantity":
            it = next(i for i in items if i["id"] == rows[0]["product_reference"])
            if it["orders"] < 5:
                label = None
            else:
                rows[0]["product_quantity"] = str(int(rows[0]["product_quantity"]) * rng.randint(60, 300))
        elif label == "order_currency":
            currency = rng.choice(p.foreign)
    lines = sum(float(r["product_quantity"]) * float(r["unit_price_tax_incl"]) for r in rows)
    shipping = rng.choice([0.0, 4.9, 9.9]) if lines < 500 else 0.0
    discount = round(lines * 0.1, 2) if rng.random() < 0.1 else 0.0
    total = round(lines + shipping - discount, 2)
    if label == "order_line_sum":
        total = round(total * rng.choice([100, 10, 0.01]), 2)
    data: dict[str, Any] = {"id_customer": cust["id"], "currency": currency, "total_paid": f"{total:.6f}",
                            "order_rows": rows, "reference": f"R{w.seq:08d}"}
    if rng.random() < 0.5:
        data["total_shipping"] = f"{shipping:.6f}"
        data["total_discounts"] = f"{discount:.6f}"
    cust["orders"] += 1
    cust["last"] = now
    if label is None:
        for it in items:
            it["orders"] += 1
    out.append((_event(w, "order.created", now, data), label))


def generate(seed: int, n_events: int, profile: str = "tuned") -> list[tuple[dict[str, Any], str | None]]:
    """A labelled stream of ``n_events`` events (see the module docstring)."""
    p = PROFILES[profile]
    rng = random.Random(seed)
    w = _World(rng, p)
    out: list[tuple[dict[str, Any], str | None]] = []
    now = 1_700_000_000.0
    while len(out) < n_events:
        now += rng.expovariate(_rate(p, now) / 3600.0)
        if rng.random() < 0.002:
            w.new_item()  # a new item: its first events have no history
        r = rng.random()
        if r < 0.5 or w.bursts:
            _order_event(w, now, out)
        elif r < 0.7:
            _price_event(w, now, out)
        else:
            _stock_event(w, now, out)
    return out[:n_events]
