"""Webhook payload adapters: two formats in, one :class:`WebhookEvent` out.

1. **The bridge's signed format** (Standard Webhooks; sent by the sandbox's emitter and by the
   bridge's own shop module): headers ``webhook-id``, ``webhook-timestamp``,
   ``webhook-signature`` and a JSON body ``{"type": "order.created", "timestamp": ...,
   "data": {...}}``. Verified with :mod:`connectors.prestashop.signing` before anything is
   decoded. The event id is the ``webhook-id`` (the deduplication key).
2. **The open-source ``ps_webhooks`` module's format**: ``{"action": "add", "entity":
   "Customer", "data": {...}}``, unsigned. It is accepted only on a URL that carries a secret
   token (compared in constant time with the configured ones). This is the weaker option: the
   token travels in the URL (proxy logs may keep it) and nothing protects against replay, so
   the event id is a hash of the body and duplicates are dropped by content.

Both normalise the same way: ``type`` is ``<entity>.<created|updated|deleted>``, ``key`` the
record id, and rows that belong to an order (``order_history``, ``order_carrier``,
``order_invoice``) become an *update* of ``order``/``shipment``/``invoice`` keyed by the order id.

Both raise :class:`~connectors.prestashop.signing.SignatureError` when the sender cannot be
trusted (answer 401) and :class:`~connectors.errors.ValidationError` when the body is not a
webhook of that format (answer 400). Neither logs or echoes the body.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from connectors.errors import ValidationError

from .signing import DEFAULT_TOLERANCE_S, SignatureError, verify

__all__ = ["MAX_BODY_BYTES", "WebhookEvent", "parse_ps_webhooks", "parse_signed"]

MAX_BODY_BYTES = 1_048_576

#: records that belong to an order: reported as a change of the bridge entity named here, keyed
#: by the order id, whatever format they came in (the bridge's entities are order, customer,
#: address, product, combination, stock, price, shipment, invoice...)
SUB_ENTITIES: dict[str, tuple[str, str]] = {
    "order_history": ("order", "id_order"),
    "order_carrier": ("shipment", "id_order"),
    "order_invoice": ("invoice", "id_order"),
}

#: ps_webhooks ObjectModel class -> the entity name used in the bridge's own format
PS_CLASS_ENTITIES: dict[str, str] = {
    "Order": "order", "OrderHistory": "order_history", "OrderCarrier": "order_carrier",
    "OrderInvoice": "order_invoice", "Customer": "customer", "Address": "address", "Product": "product",
    "Combination": "combination", "StockAvailable": "stock", "SpecificPrice": "price", "Category": "category",
}

_ACTION_VERBS = {"add": "created", "update": "updated", "delete": "deleted"}
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$")


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One received event, whatever format it came in.

    ``type`` is ``<entity>.<verb>`` (``order.created``), ``key`` the record's id in the shop
    as text, ``event_id`` the deduplication key, ``timestamp`` the sender's Unix time if known.
    """

    type: str
    entity: str
    key: str
    data: dict[str, Any]
    event_id: str
    timestamp: int | None = None


class _SignedBody(msgspec.Struct):
    type: str
    data: dict[str, Any]
    timestamp: int | float | str | None = None


class _PsWebhooksBody(msgspec.Struct):
    action: str
    entity: str
    data: dict[str, Any]


_signed_decoder = msgspec.json.Decoder(_SignedBody)
_ps_decoder = msgspec.json.Decoder(_PsWebhooksBody)


def _check_size(body: bytes) -> None:
    if len(body) > MAX_BODY_BYTES:
        raise ValidationError(
            f"The webhook body is {len(body)} bytes; the limit is {MAX_BODY_BYTES} bytes.", system="prestashop"
        )


def _key_of(entity: str, data: Mapping[str, Any], field: str = "id") -> str:
    value = data.get(field)
    if value in (None, "") and entity == "stock" and "id_product" in data:
        return f"{data['id_product']}-{data.get('id_product_attribute', 0)}"
    if value in (None, ""):
        raise ValidationError(
            f"The {entity} webhook's data has no '{field}', so the record it is about is unknown.",
            system="prestashop",
        )
    return str(value)


def _event(entity: str, verb: str, data: dict[str, Any], event_id: str, timestamp: int | None) -> WebhookEvent:
    """Build the event; rows that belong to an order become an update of that order's entity."""
    key_field = "id"
    if entity in SUB_ENTITIES:
        entity, key_field = SUB_ENTITIES[entity]
        verb = "updated"
    return WebhookEvent(type=f"{entity}.{verb}", entity=entity, key=_key_of(entity, data, key_field), data=data,
                        event_id=event_id, timestamp=timestamp)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _unix_time(value: int | float | str | None) -> int | None:
    """Unix seconds from a number or an ISO 8601 text (``2026-01-01T10:00:00Z``); ``None`` if neither."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return int(float(value))
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return int(parsed.timestamp())


def parse_signed(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> WebhookEvent:
    """Verify and decode a Standard Webhooks request of the bridge's format.

    ``headers`` must be case-insensitive or lower-case. The signature is checked over the raw
    bytes before decoding. Raises :class:`SignatureError` (missing/stale/mismatch) or
    :class:`ValidationError` (body too large or not ``{"type", "data"}`` JSON).
    """
    secret_list = list(secrets)
    if not secret_list:
        raise SignatureError("mismatch", "No webhook secret is configured, so no signed webhook can be accepted.")
    _check_size(body)
    event_id = verify(secret_list, headers, body, tolerance=tolerance, now=now)
    try:
        msg = _signed_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise ValidationError(f"The signed webhook body is not the bridge's event JSON: {exc}.",
                              system="prestashop") from None
    if not _TYPE_RE.match(msg.type):
        raise ValidationError(
            "The signed webhook's 'type' must look like 'entity.verb' (for example 'order.created').",
            system="prestashop",
        )
    entity, verb = msg.type.split(".", 1)
    return _event(entity, verb, msg.data, event_id, _unix_time(msg.timestamp))


def parse_ps_webhooks(body: bytes, token: str | None, accepted_tokens: Iterable[str]) -> WebhookEvent:
    """Decode a ``ps_webhooks`` module request received on a URL carrying ``token``.

    ``accepted_tokens`` are the configured URL secrets; with none configured every request is
    refused (the weaker format must be switched on deliberately). Raises
    :class:`SignatureError` for a missing or wrong token, :class:`ValidationError` for a body
    that is not ``{"action", "entity", "data"}`` JSON or an unknown action.
    """
    tokens = [t for t in accepted_tokens if t]
    if not tokens:
        raise SignatureError("mismatch", "Unsigned ps_webhooks requests are not enabled on this bridge.")
    if not token:
        raise SignatureError("missing", "The webhook URL carries no token; ps_webhooks requests need one.")
    offered = token.encode()
    if not any(hmac.compare_digest(offered, t.encode()) for t in tokens):
        raise SignatureError("mismatch", "The webhook URL token does not match any configured token.")
    _check_size(body)
    try:
        msg = _ps_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise ValidationError(f"The ps_webhooks body is not the module's JSON: {exc}.", system="prestashop") from None
    verb = _ACTION_VERBS.get(msg.action)
    if verb is None:
        raise ValidationError(
            f"The ps_webhooks action must be add, update or delete, not '{msg.action[:20]}'.", system="prestashop"
        )
    if not re.match(r"^[A-Za-z][A-Za-z0-9_]*$", msg.entity):
        raise ValidationError("The ps_webhooks entity is not a PrestaShop class name.", system="prestashop")
    entity = PS_CLASS_ENTITIES.get(msg.entity, _snake(msg.entity))
    event_id = "sha256:" + hashlib.sha256(body).hexdigest()
    return _event(entity, verb, msg.data, event_id, None)
