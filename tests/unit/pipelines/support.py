"""Helpers shared by the mapping-engine unit tests."""

from __future__ import annotations

from typing import Any

from pipelines.compiler import compile_mapping
from pipelines.specs import parse_mapping


def mapping(fields: dict[str, Any], **extra: Any) -> Any:
    """Compile an order -> SalesTable mapping made of ``fields`` (plus top-level ``extra`` keys)."""
    data = {
        "mapping": "t",
        "source": {"system": "prestashop", "resource": "orders"},
        "target": {"system": "ax", "service": "SalesOrderService", "entity": "SalesTable"},
        "key": "reference",
        "fields": fields,
        **extra,
    }
    return compile_mapping(parse_mapping(data))
