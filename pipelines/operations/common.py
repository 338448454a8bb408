"""Helpers every module of the operation table shares (no imports of the table itself, so the
role modules — orders, fulfilment, catalog, stock — import them at the top without a cycle)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import ValidationError

__all__ = ["ax_document", "idempotency_key", "int_id"]


def idempotency_key(context: Mapping[str, Any], step: str) -> str:
    """``<message id>:<step>``: the same for every attempt of one message's step."""
    message = context.get("message") or {}
    mid = message.get("id") or message.get("idempotency_key")
    if not mid:
        raise ValidationError(f"An AX write for step {step} needs the message id in the flow context.")
    return f"{mid}:{step}"


#: AX child entities that occur at most once (the reads return every child as a list)
_SINGLE_CHILDREN = frozenset({"DirParty", "PersonName", "OrganizationName", "InventDim", "TableDlvAddr"})


def ax_document(value: Any) -> Any:
    """An AX read as the mappings see it: single children as objects, lists for repeated ones,
    without the ``class`` marker of the wire format."""
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if k == "class":
                continue
            if k in _SINGLE_CHILDREN and isinstance(v, list):
                v = v[0] if v else None
            out[k] = ax_document(v)
        return out
    if isinstance(value, list):
        return [ax_document(v) for v in value]
    return value


def int_id(value: Any, what: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise ValidationError(f"{what} must be a numeric PrestaShop id, got {str(value)[:40]!r}.") from None
