"""Guard events: the three shapes the scorer understands, read tolerantly from plain dicts.

An event is ``{"id", "type", "timestamp", "data"}`` with ``type`` one of :data:`EVENT_TYPES`:

* ``order.created`` -- ``data`` as PrestaShop names an order: ``id_customer``, ``currency`` (ISO
  code, or the order's nested ``currency`` record with ``iso_code``), ``total_paid``,
  ``order_rows`` (``product_reference``, ``product_quantity``, ``unit_price_tax_incl``), and
  optionally ``total_shipping``/``total_discounts`` (tax included);
* ``price.changed`` -- ``ItemId``, ``old_price`` (optional), ``new_price``;
* ``stock.changed`` -- ``ItemId``, ``old_quantity`` (optional), ``new_quantity``.

Numbers may be strings (``"250.000000"``, as the webservice sends them) and extra fields are
ignored. :func:`number` and :func:`timestamp` never raise: an unreadable value is ``None`` and
the signal that needs it stays silent. :func:`check_event` is the boundary check the
``guard score`` command runs: it raises ``ValueError`` with a sentence naming the problem.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

__all__ = ["EVENT_TYPES", "check_event", "currency_code", "number", "order_rows", "timestamp"]

EVENT_TYPES = ("order.created", "price.changed", "stock.changed")
_UTC = UTC
_REQUIRED = {"order.created": ("id_customer", "total_paid"), "price.changed": ("ItemId", "new_price"),
             "stock.changed": ("ItemId", "new_quantity")}


def number(value: Any) -> float | None:
    """A finite float from a number or numeric text, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
    else:
        try:
            f = float(str(value).strip().replace(",", "."))
        except ValueError:
            return None
    return f if math.isfinite(f) else None


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch from a number or an ISO 8601 / ``YYYY-MM-DD HH:MM:SS`` text (UTC
    when it names no zone), else None."""
    f = number(value)
    if f is not None:
        return f
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=_UTC).timestamp()
    return dt.timestamp()


def currency_code(value: Any) -> str | None:
    """The ISO code of an order's currency: a code, or a record with ``iso_code``."""
    if isinstance(value, dict):
        value = value.get("iso_code")
    return str(value).strip().upper() if isinstance(value, str) and value.strip() else None


def order_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The order's rows, at the top level or under ``associations`` (as the webservice nests them)."""
    rows = data.get("order_rows")
    if rows is None and isinstance(data.get("associations"), dict):
        rows = data["associations"].get("order_rows")
    if isinstance(rows, dict):  # one row decoded from XML without a list around it
        rows = [rows]
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def check_event(event: Any, line: int) -> dict[str, Any]:
    """The event if it has the shape the scorer needs; ``ValueError`` saying what is wrong."""
    where = f"line {line}"
    if not isinstance(event, dict):
        raise ValueError(f"{where}: an event must be a JSON object.")
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise ValueError(f"{where}: unknown event type {str(kind)[:40]!r}; use one of {', '.join(EVENT_TYPES)}.")
    data = event.get("data")
    if not isinstance(data, dict):
        raise ValueError(f"{where}: 'data' must be a JSON object.")
    missing = [f for f in _REQUIRED[kind] if data.get(f) in (None, "")]
    if missing:
        raise ValueError(f"{where}: a {kind} event needs data.{', data.'.join(missing)}.")
    return event

