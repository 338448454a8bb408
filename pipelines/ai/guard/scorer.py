"""The anomaly scorer: one event in, a verdict out, learned per item and per customer.

Contract:

* :meth:`Scorer.score` reads only the per-key statistics it is given (``states``, a plain dict
  keyed by :meth:`Scorer.keys_for`) and never changes them; :meth:`Scorer.learn` folds an event
  into them. The caller decides where statistics live: a dict for a stream (``guard score``, the
  benchmark), the store's ``guard_stats`` table in a flow (the runtime loads the keys an event
  needs, then saves what :meth:`learn` changed). Pipelines never see the store.
* Each signal (:data:`SIGNALS`) gives a score in [0, 1] that is 0.5 exactly at its threshold
  (``x / (x + t)`` for a ratio ``x`` against threshold ``t``); the verdict holds when the best
  score reaches 0.5 and its reason is that signal's sentence, written for a merchant.
* Cold start: a signal that compares with history stays silent until the key has
  ``min_history`` observations (a price also counts the event's own ``old_price``), so a new
  item or customer is never held for lack of evidence. Negative stock, an order whose lines
  cannot add up to its total and a currency outside the configured ones are evidence in
  themselves.
* Only accepted events are learned (``held=False``); a held one updates just the arrival
  times that burst detection counts, so an anomaly never becomes the norm it is compared with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from pipelines.ai.guard.events import currency_code, number, order_rows, timestamp
from pipelines.ai.guard.window import count, maximum, median, new_window, push

__all__ = ["SIGNALS", "Scorer", "Thresholds", "Verdict"]

SIGNALS = ("price_zero", "price_shift", "price_drop", "price_rise", "stock_negative", "stock_jump",
           "order_currency", "order_line_sum", "order_total", "order_quantity", "order_burst")


@dataclass
class Thresholds:
    """What counts as suspicious; each can be set in a flow's ``anomaly.thresholds``."""

    window: int = 30              #: observations kept per key
    min_history: int = 3          #: observations before a history signal may speak
    shift_tolerance: float = 0.05  #: |log10(ratio) - n| below this is a decimal shift by 10^n
    price_drop_share: float = 0.7  #: a drop of more than this share below the median
    price_rise_factor: float = 6.0  #: a rise above this many times the median
    stock_jump_factor: float = 5.0  #: a level above this many times the item's highest
    line_sum_tolerance: float = 0.25  #: total may exceed its lines by this share (+ shipping)
    line_sum_allowance: float = 30.0  #: ... plus this amount when shipping is not given
    max_discount_share: float = 0.6  #: total may be this share below its lines (vouchers)
    total_factor: float = 8.0      #: an order above this many times the customer's largest
    quantity_factor: float = 10.0  #: a line above this many times the item's (and customer's) usual
    quantity_factor_new: float = 50.0  #: ... for a customer without history
    burst_orders: int = 3          #: this many orders from a new customer within burst_window_s
    burst_window_s: float = 900.0
    new_customer_s: float = 86400.0  #: a customer first seen less than this ago is new
    currency_min_orders: int = 30  #: orders seen before an unseen currency counts (no list given)
    currency_min_seen: int = 3     #: ... and held orders in it before it counts as the shop's

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> Thresholds:
        """Thresholds with ``values`` applied; ``ValueError`` names an unknown or non-positive one."""
        known = {f.name: f.type for f in fields(cls)}
        out = cls()
        for name, value in (values or {}).items():
            if name not in known:
                raise ValueError(f"unknown threshold '{name}'; known: {', '.join(known)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"threshold '{name}' must be a positive number")
            setattr(out, name, int(value) if known[name] == "int" else float(value))
        return out


@dataclass
class Verdict:
    """``hold`` when ``score`` >= 0.5; ``signal`` and ``reason`` of the strongest signal."""

    hold: bool
    score: float
    reason: str = ""
    signal: str | None = None
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self, event_id: Any = None) -> dict[str, Any]:
        return {"id": event_id, "hold": self.hold, "score": round(self.score, 4), "reason": self.reason}


def _ratio_score(x: float, t: float) -> float:
    return x / (x + t) if x > 0 else 0.0


def _money(x: float) -> str:
    return f"{x:.2f}"


def _qty(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:g}"


def _times(r: float) -> str:
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×"


class Scorer:
    """Scores events; see the module docstring. ``disabled`` switches signals off (ablation),
    ``currencies`` is the shop's set (None: learned from the orders seen)."""

    def __init__(self, thresholds: Thresholds | None = None, currencies: list[str] | None = None,
                 disabled: frozenset[str] | set[str] = frozenset()) -> None:
        self.t = thresholds or Thresholds()
        self.currencies = {c.upper() for c in currencies} if currencies else None
        self.on = {s for s in SIGNALS if s not in disabled}

    # ---------------------------------------------------------------- keys
    def keys_for(self, event: dict[str, Any]) -> list[str]:
        """The statistics keys :meth:`score` and :meth:`learn` read for ``event``."""
        data = event.get("data") or {}
        kind = event.get("type")
        if kind == "price.changed":
            return [f"p:{data.get('ItemId')}"]
        if kind == "stock.changed":
            return [f"s:{data.get('ItemId')}"]
        refs = {f"q:{r.get('product_reference')}" for r in order_rows(data)}
        return ["shop", f"c:{data.get('id_customer')}", *sorted(refs)]

    # ---------------------------------------------------------------- scoring
    def _primary(self, event: dict[str, Any]) -> str:
        data = event.get("data") or {}
        kind = event.get("type")
        prefix = "p" if kind == "price.changed" else "s" if kind == "stock.changed" else "c"
        return f"{prefix}:{data.get('ItemId') if prefix != 'c' else data.get('id_customer')}"

    def _seen(self, event: dict[str, Any], states: dict[str, Any]) -> bool:
        """The event was accepted before (a retry of the same message): it passes, unlearned again."""
        st = states.get(self._primary(event))
        return st is not None and event.get("id") is not None and event.get("id") in st.get("ids", ())

    def score(self, event: dict[str, Any], states: dict[str, Any]) -> Verdict:
        kind = event.get("type")
        data = event.get("data") or {}
        found: list[tuple[float, str, str]] = []
        if self._seen(event, states):
            return Verdict(False, 0.0)
        if kind == "price.changed":
            self._price(data, states.get(f"p:{data.get('ItemId')}"), found)
        elif kind == "stock.changed":
            self._stock(data, states.get(f"s:{data.get('ItemId')}"), found)
        elif kind == "order.created":
            self._order(event, data, states, found)
        if not found:
            return Verdict(False, 0.0)
        scores = {sig: s for s, sig, _ in found}
        best, signal, reason = max(found)
        return Verdict(best >= 0.5, best, reason if best >= 0.5 else "", signal, scores)

    def _add(self, found: list[tuple[float, str, str]], signal: str, score: float, reason: str) -> None:
        if signal in self.on and score > 0:
            found.append((min(score, 1.0), signal, reason))

    def _price(self, data: dict[str, Any], st: dict[str, Any] | None, found: list[Any]) -> None:
        new = number(data.get("new_price"))
        old = number(data.get("old_price"))
        if new is None:
            return
        n = count(st)
        last = st["last"] if st else (old if old and old > 0 else None)
        ref = median(st) if st is not None and n else last
        if ref is None or ref <= 0:
            return  # cold start: nothing to compare with
        seen = f"this item's last {n} prices (median {_money(ref)})" if n else f"the previous price {_money(ref)}"
        if new <= 0:
            self._add(found, "price_zero", 1.0, f"price {_money(new)} for an item priced at {_money(ref)} before")
            return
        for base, what in ((ref, seen), (last, f"the previous price {_money(last or 0)}")):
            if not base:
                continue
            k = math.log10(new / base)
            shift = round(k)
            if shift != 0 and abs(k - shift) < self.t.shift_tolerance:
                direction = "below" if shift < 0 else "above"
                self._add(found, "price_shift", 0.99,  # the most specific explanation wins
                          f"price {_money(new)} is {10 ** abs(shift)}× {direction} {what}: a shifted decimal?")
                break
        if new < ref * (1 - self.t.price_drop_share):
            share = 1 - new / ref
            self._add(found, "price_drop", _ratio_score(share, self.t.price_drop_share),
                      f"price {_money(new)} is {share:.0%} below {seen}")
        elif new > ref * self.t.price_rise_factor:
            r = new / ref
            self._add(found, "price_rise", _ratio_score(r, self.t.price_rise_factor),
                      f"price {_money(new)} is {_times(r)} above {seen}")

    def _stock(self, data: dict[str, Any], st: dict[str, Any] | None, found: list[Any]) -> None:
        new = number(data.get("new_quantity"))
        if new is None:
            return
        if new < 0:
            self._add(found, "stock_negative", 1.0, f"stock {_qty(new)} is negative")
            return
        n = count(st)
        if n < self.t.min_history:
            return
        assert st is not None
        ref = max(maximum(st), st.get("restock", 0.0), 1.0)
        if new > ref * self.t.stock_jump_factor:
            r = new / ref
            self._add(found, "stock_jump", _ratio_score(r, self.t.stock_jump_factor),
                      f"stock {_qty(new)} is {_times(r)} this item's highest level of the last {n} ({_qty(ref)})")

    def _order(self, event: dict[str, Any], data: dict[str, Any], states: dict[str, Any], found: list[Any]) -> None:
        t = self.t
        total = number(data.get("total_paid"))
        code = currency_code(data.get("currency"))
        shop = states.get("shop")
        if code is not None:
            if self.currencies is not None:
                if code not in self.currencies:
                    self._add(found, "order_currency", 1.0, f"currency {code} is not one of the shop's currencies "
                              f"({', '.join(sorted(self.currencies))})")
            elif shop and shop["n"] >= t.currency_min_orders and code not in shop["cur"]:
                self._add(found, "order_currency", 0.9,
                          f"currency {code} never appeared in the shop's last {shop['n']} orders")
        rows = order_rows(data)
        lines = 0.0
        for r in rows:
            q, u = number(r.get("product_quantity")), number(r.get("unit_price_tax_incl"))
            if q is not None and u is not None:
                lines += q * u
        if total is not None and rows and lines > 0:
            shipping = number(data.get("total_shipping_tax_incl", data.get("total_shipping")))
            discounts = number(data.get("total_discounts_tax_incl", data.get("total_discounts"))) or 0.0
            upper = (lines + shipping - discounts) * 1.02 + 0.05 if shipping is not None \
                else lines * (1 + t.line_sum_tolerance) + t.line_sum_allowance
            lower = lines * (1 - t.max_discount_share) - discounts - 0.05
            if total > upper or total < lower:
                x = total / upper if total > upper else lower / max(total, 0.01)
                self._add(found, "order_line_sum", max(_ratio_score(x, 1.0), 0.6),
                          f"order total {_money(total)} does not match its lines ({_money(lines)} incl. tax)")
        cust = states.get(f"c:{data.get('id_customer')}")
        n = count(cust)
        if total is not None and n >= t.min_history and cust is not None:
            ref = max(maximum(cust), 0.01)
            if total > ref * t.total_factor:
                ratio = total / ref
                self._add(found, "order_total", _ratio_score(ratio, t.total_factor),
                          f"order total {_money(total)} is {_times(ratio)} this customer's largest of {n} orders "
                          f"({_money(ref)})")
        cust_q = cust.get("qmax") if cust and n >= 2 else None
        for r in rows:
            q = number(r.get("product_quantity"))
            item = states.get(f"q:{r.get('product_reference')}")
            if q is None or count(item) < t.min_history + 2 or item is None:
                continue
            # an established customer is compared with the item's typical line and their own largest
            # (a B2B buyer's cases are normal for them); a new one only with the item's largest line
            usual = max(median(item) if cust_q is not None else maximum(item), 1.0)
            factor = t.quantity_factor if cust_q is not None else t.quantity_factor_new
            if q > usual * factor and (cust_q is None or q > max(cust_q, 1.0) * t.quantity_factor):
                self._add(found, "order_quantity", _ratio_score(q / usual, factor),
                          f"quantity {_qty(q)} of {r.get('product_reference')} is {_times(q / usual)} this "
                          f"item's usual ({_qty(usual)} per order)")
        now = timestamp(event.get("timestamp"))
        if now is not None and cust is not None and cust.get("first") is not None \
                and now - cust["first"] < t.new_customer_s:
            recent = [a for a in cust.get("at", []) if now - a <= t.burst_window_s]
            if len(recent) + 1 >= t.burst_orders:
                self._add(found, "order_burst", _ratio_score(len(recent) + 1.0, t.burst_orders - 0.5),
                          f"order {len(recent) + 1} within {t.burst_window_s / 60:.0f} minutes from a customer "
                          f"first seen {max(now - cust['first'], 0) / 60:.0f} minutes ago")

    # ---------------------------------------------------------------- learning
    def learn(self, event: dict[str, Any], states: dict[str, Any], held: bool = False) -> list[str]:
        """Fold ``event`` into ``states`` (creating keys); returns the keys changed."""
        kind = event.get("type")
        data = event.get("data") or {}
        size = self.t.window
        if self._seen(event, states):
            return []
        changed = self._learn(kind, data, event, states, held, size)
        if changed and not held and event.get("id") is not None:
            st = states[self._primary(event)]
            st["ids"] = [*st.get("ids", ())[-7:], event["id"]]
        return changed

    def _learn(self, kind: Any, data: dict[str, Any], event: dict[str, Any], states: dict[str, Any], held: bool,
               size: int) -> list[str]:
        if kind == "price.changed":
            new = number(data.get("new_price"))
            if held or new is None or new <= 0:
                return []
            key = f"p:{data.get('ItemId')}"
            st = states.setdefault(key, new_window())
            push(st, new, size)
            st["last"] = new
            return [key]
        if kind == "stock.changed":
            new = number(data.get("new_quantity"))
            old = number(data.get("old_quantity"))
            if held or new is None or new < 0:
                return []
            key = f"s:{data.get('ItemId')}"
            st = states.get(key)
            if st is None:
                st = states[key] = new_window()
                if old is not None and old >= 0:
                    push(st, old, size)
            if old is not None and new > old:
                st["restock"] = max(st.get("restock", 0.0), new - old)
            push(st, new, size)
            return [key]
        if kind != "order.created":
            return []
        ckey = f"c:{data.get('id_customer')}"
        cust = states.setdefault(ckey, new_window())
        now = timestamp(event.get("timestamp"))
        if now is not None:
            if cust.get("first") is None:
                cust["first"] = now
            cust["at"] = [a for a in cust.get("at", []) if now - a <= self.t.burst_window_s][-20:] + [now]
        changed = [ckey]
        if held:
            code = currency_code(data.get("currency"))
            shop = states.get("shop")
            if self.currencies is None and code and shop and code not in shop["cur"]:
                # no list configured: a currency that keeps coming is the shop's after all
                pending = shop.setdefault("new_cur", {})
                pending[code] = pending.get(code, 0) + 1
                if pending[code] >= self.t.currency_min_seen:
                    shop["cur"][code] = pending.pop(code)
                changed.append("shop")
            return changed
        total = number(data.get("total_paid"))
        if total is not None:
            push(cust, total, size)
        shop = states.setdefault("shop", {"n": 0, "cur": {}})
        shop["n"] += 1
        code = currency_code(data.get("currency"))
        if code:
            shop["cur"][code] = shop["cur"].get(code, 0) + 1
        changed.append("shop")
        for r in order_rows(data):
            q = number(r.get("product_quantity"))
            if q is None:
                continue
            key = f"q:{r.get('product_reference')}"
            push(states.setdefault(key, new_window()), q, size)
            cust["qmax"] = max(cust.get("qmax", 0.0), q)
            changed.append(key)
        return changed

    def run(self, event: dict[str, Any], states: dict[str, Any]) -> Verdict:
        """Score, then learn (as accepted unless held): one step of a stream."""
        verdict = self.score(event, states)
        self.learn(event, states, held=verdict.hold)
        return verdict
