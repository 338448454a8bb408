"""Masking of personal data in payloads shown by the admin API and the console.

Fields whose name is in the mask set (at any depth) are replaced by ``"***"`` keeping nothing of
the value; the default set covers the personal fields of PrestaShop and AX records.
"""

from __future__ import annotations

from typing import Any

from pipelines.masking import PERSONAL_FIELDS

__all__ = ["DEFAULT_MASKED_FIELDS", "mask"]

# one set for the API, the console and the journal of step payloads (pipelines.step_payloads)
DEFAULT_MASKED_FIELDS = PERSONAL_FIELDS


def mask(value: Any, fields: frozenset[str] = DEFAULT_MASKED_FIELDS) -> Any:
    """A copy of ``value`` with every masked field's value replaced by ``"***"``."""
    if isinstance(value, dict):
        return {k: ("***" if k in fields and v not in (None, "") else mask(v, fields)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, fields) for v in value]
    return value
