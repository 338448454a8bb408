"""Masking of sensitive values for logs, errors and the console.

A mapping marks fields with ``mask: email|phone|name|partial|full``; fields whose names are
known to carry secrets or personal data are masked even when a mapping forgets to say so.
Masking never raises: any value becomes a short, safe text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MASK_KINDS", "PERSONAL_FIELDS", "default_mask_for", "mask_record", "mask_value"]

MASK_KINDS = ("email", "phone", "name", "partial", "full")

#: Field names (exact case) whose values the admin API, the console and the journal of step
#: payloads replace by ``"***"`` at any depth: the personal fields of PrestaShop and AX records.
PERSONAL_FIELDS = frozenset({
    "email", "firstname", "lastname", "phone", "phone_mobile", "address1", "address2", "postcode",
    "birthday", "company", "vat_number", "dni", "passwd", "password", "secure_key", "ip_registration_newsletter",
    "Email", "Phone", "Name", "FirstName", "LastName", "Street", "ZipCode", "Locator", "api_key", "token",
})

# Lower-cased field names that always carry personal data or secrets, whatever the mapping says.
_SENSITIVE: dict[str, str] = {
    "email": "email",
    "primarycontactemail": "email",
    "phone": "phone",
    "phone_mobile": "phone",
    "primarycontactphone": "phone",
    "passwd": "full",
    "password": "full",
    "secure_key": "full",
    "birthday": "full",
    "lastname": "name",
    "firstname": "name",
    "lastname_": "name",
    "vat_number": "partial",
    "vatnum": "partial",
    "dni": "partial",
    "iban": "partial",
    "bankaccount": "partial",
}


def default_mask_for(field: str) -> str | None:
    """The mask kind a field gets by name alone (``None`` when its name is not sensitive)."""
    return _SENSITIVE.get(field.rsplit(".", 1)[-1].lower())


def mask_value(value: Any, kind: str | None) -> str:
    """A safe text for ``value``: e-mails keep the first letters and the top-level domain,
    phones the last two digits, names the initial; ``None`` kind shows the value (shortened)."""
    if value is None:
        return "<missing>"
    text = str(value)
    if kind is None:
        return repr(text if len(text) <= 60 else text[:57] + "...")
    if kind == "email" and "@" in text:
        local, _, domain = text.partition("@")
        host, dot, tld = domain.rpartition(".")
        return f"'{local[:1]}***@{(host or tld)[:1]}***{dot}{tld if host else ''}'"
    if kind == "phone":
        digits = [c for c in text if c.isdigit()]
        return "'***" + "".join(digits[-2:]) + "'"
    if kind == "name":
        return f"'{text[:1]}***'"
    if kind == "partial":
        return f"'{text[:2]}***'" if len(text) > 4 else "'***'"
    return "'***'"


def mask_record(record: Any, masks: Mapping[str, str], prefix: str = "") -> Any:
    """A copy of a mapped record with sensitive fields masked, for logs and the console.

    ``masks`` maps dotted target paths (list items share their list's path) to mask kinds;
    fields not listed are still masked when their name is sensitive.
    """
    if isinstance(record, Mapping):
        out: dict[str, Any] = {}
        for key, value in record.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            kind = masks.get(path) or default_mask_for(str(key))
            if kind is not None and not isinstance(value, (Mapping, list)):
                out[key] = mask_value(value, kind).strip("'")
            else:
                out[key] = mask_record(value, masks, path)
        return out
    if isinstance(record, list):
        return [mask_record(v, masks, prefix + "[]") for v in record]
    return record
