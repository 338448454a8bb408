"""Masking of personal data in payloads shown by the admin API and the console.

Fields whose name is in the mask set (at any depth) are replaced by ``"***"`` keeping nothing of
the value; the default set covers the personal fields of PrestaShop and AX records.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_MASKED_FIELDS", "mask"]

DEFAULT_MASKED_FIELDS = frozenset({
    "email", "firstname", "lastname", "phone", "phone_mobile", "address1", "address2", "postcode",
    "birthday", "company", "vat_number", "dni", "passwd", "password", "secure_key", "ip_registration_newsletter",
    "Email", "Phone", "Name", "FirstName", "LastName", "Street", "ZipCode", "Locator", "api_key", "token",
})


def mask(value: Any, fields: frozenset[str] = DEFAULT_MASKED_FIELDS) -> Any:
    """A copy of ``value`` with every masked field's value replaced by ``"***"``."""
    if isinstance(value, dict):
        return {k: ("***" if k in fields and v not in (None, "") else mask(v, fields)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, fields) for v in value]
    return value
