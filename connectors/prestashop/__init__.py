"""PrestaShop 8.x webservice connector: client, codec, typed views, errors, poller, webhooks.

Usable from a plain script::

    from connectors.prestashop import Client, ClientConfig

    async with Client(ClientConfig(base_url="https://shop.example", api_key=KEY)) as shop:
        order = await shop.get("orders", 5)
        await shop.update("products", 12, {"price": "19.90"})   # GET + merge + PUT: nothing wiped

The sandbox (``connectors.prestashop.sandbox``) is a separate package and is not imported here.
"""

from .client import Client
from .codec import Record
from .config import ClientConfig
from .errors import CODE_TABLE, STATUS_TABLE, error_from_response
from .models import VIEW_RESOURCES, record_of, view, view_type
from .operations import (
    CANCELED_STATE,
    PAYMENT_ACCEPTED_STATE,
    change_order_state,
    find_order_by_reference,
    find_order_state,
    invoice_marker,
    paid_total,
    record_invoice,
    record_payment,
    set_stock,
    set_tracking_number,
)
from .poller import Change, CursorStore, FileCursorStore, MemoryCursorStore, Poller, PollState
from .query import F
from .schemas import ResourceSchema, all_schemas, schema
from .settlement import record_settlement, shop_paid
from .signing import SignatureError
from .webhooks import WebhookEvent, parse_ps_webhooks, parse_signed

__all__ = [
    "CANCELED_STATE",
    "PAYMENT_ACCEPTED_STATE",
    "CODE_TABLE",
    "STATUS_TABLE",
    "VIEW_RESOURCES",
    "Change",
    "Client",
    "ClientConfig",
    "CursorStore",
    "F",
    "FileCursorStore",
    "MemoryCursorStore",
    "PollState",
    "Poller",
    "Record",
    "ResourceSchema",
    "SignatureError",
    "WebhookEvent",
    "all_schemas",
    "change_order_state",
    "error_from_response",
    "find_order_by_reference",
    "find_order_state",
    "invoice_marker",
    "paid_total",
    "parse_ps_webhooks",
    "parse_signed",
    "record_of",
    "record_invoice",
    "record_payment",
    "record_settlement",
    "shop_paid",
    "schema",
    "set_stock",
    "set_tracking_number",
    "view",
    "view_type",
]
