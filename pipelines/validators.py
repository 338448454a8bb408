"""AX value checks, and the PrestaShop field validators under the names the mapping code uses.

The PrestaShop ``Validate::*`` rules live once, in :mod:`connectors.prestashop.validators`;
``PRESTASHOP_VALIDATORS``, ``prestashop_validator`` and ``php_empty`` are that module's
``VALIDATORS``, ``validator`` and ``php_empty``. As in PrestaShop, a validator only runs on
non-empty values (PHP ``empty()``: ``""``, ``"0"``, ``0`` always pass).
``ax_type_problem`` answers what is wrong with a value for an AX field type, or ``None``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.prestashop.validators import VALIDATORS as PRESTASHOP_VALIDATORS
from connectors.prestashop.validators import php_empty
from connectors.prestashop.validators import validator as prestashop_validator

__all__ = ["PRESTASHOP_VALIDATORS", "ax_type_problem", "php_empty", "prestashop_validator"]


def _iso_date(text: str) -> bool:
    """``YYYY-MM-DD`` naming a real calendar day (AX date fields take nothing else)."""
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) is None:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def ax_type_problem(type_name: str, value: Any, enum_values: tuple[str, ...] | None) -> str | None:
    """What is wrong with ``value`` for an AX field of ``type_name``, or ``None`` when it fits."""
    if type_name.startswith("enum:"):
        if enum_values is not None and str(value) not in enum_values:
            shown = ", ".join(enum_values[:8]) + (", ..." if len(enum_values) > 8 else "")
            return f"is not a value of {type_name[5:]} ({shown})"
        return None
    if type_name == "decimal":
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return None
        try:
            Decimal(str(value))
        except InvalidOperation:
            return "is not a decimal number"
        return None
    if type_name in ("int", "int64"):
        return None if re.fullmatch(r"-?[0-9]+", str(value)) else "is not an integer"
    if type_name == "date":
        text = value.isoformat() if isinstance(value, date) else str(value)
        return None if _iso_date(text) else "is not a date (YYYY-MM-DD)"
    if type_name == "datetime":
        try:
            datetime.fromisoformat(str(value))
        except ValueError:
            return "is not an ISO 8601 date-time"
        return None
    return None
