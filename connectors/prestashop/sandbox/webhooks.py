"""A webhook emitter that behaves like a shop module listening to PrestaShop's hooks.

PrestaShop's core sends no webhooks (reference §11.1). This emitter plays the module a merchant
would install: on ``actionObject<Class>AddAfter/UpdateAfter/DeleteAfter`` of the configured
resources (and, for orders, only once ``validateOrder`` has finished, like
``actionValidateOrderAfter``) it POSTs a Standard Webhooks request signed with
:mod:`connectors.prestashop.signing` to the configured URL::

    {"type": "order.created", "timestamp": "2026-01-01T10:00:00Z",
     "data": {"resource": "orders", "id": 5, ...fields...}}

An order whose state changes (``OrderHistory::changeIdOrderState``, after ``validateOrder``) also
sends ``order.status_changed``, as a module hooked on ``actionOrderStatusPostUpdate`` does, with
what that hook passes: ``{"resource": "orders", "id", "reference", "current_state" (the new
state), "previous_state"}`` (no ``date_upd``: the hook carries the states, not the order).

With ``webhook_format="ps_webhooks"`` it sends instead the unsigned body of the open-source
``ps_webhooks`` module, ``{"action": "add", "entity": "Customer", "data": {...}}``.

Delivery is in order, one request at a time, from an in-memory queue drained by a background task
on the server's event loop. A failed delivery (network error, timeout, non-2xx answer) is retried
with exponential backoff and full jitter up to ``webhook_max_attempts``, then dropped and counted.
Password hashes, secure keys and reset tokens are never sent.

``PUT /_sandbox/webhooks {"paused": true}`` switches the emitter off, as a merchant disabling the
module would: changes made meanwhile are never sent (counted in ``not_sent``), which is what a
``date_upd`` poller is for; ``{"paused": false}`` switches it on again.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import logging
import random
from collections import deque
from typing import Any

import httpx
import msgspec
from ulid import ULID

from ..signing import signature_headers
from .config import SandboxConfig
from .model import ShopModel
from .store import Row

__all__ = ["WebhookEmitter", "EVENT_ENTITIES"]

log = logging.getLogger(__name__)

EVENT_ENTITIES = {
    "orders": "order", "customers": "customer", "addresses": "address", "products": "product",
    "stock_availables": "stock", "combinations": "combination", "order_carriers": "order_carrier",
    "order_histories": "order_history", "categories": "category", "specific_prices": "price",
}
_SECRET_FIELDS = frozenset({"passwd", "secure_key", "reset_password_token", "last_passwd_gen"})
_encoder = msgspec.json.Encoder()


class WebhookEmitter:
    """Queue + background sender. ``notify`` is synchronous and cheap (called inside handlers)."""

    def __init__(self, config: SandboxConfig, model: ShopModel) -> None:
        self.config = config
        self.model = model
        self.url = config.webhook_url
        self.secret = config.webhook_secret.get_secret_value() if config.webhook_secret else None
        self.entities = frozenset(config.webhook_entities)
        self.queue: deque[tuple[str, bytes]] = deque()
        self.stats = {"queued": 0, "delivered": 0, "failed": 0, "attempts": 0, "retries": 0, "not_sent": 0}
        #: switched off (the module disabled): changes are not sent at all, only counted in ``not_sent``
        self.paused = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._rng = random.Random(0)

    @property
    def enabled(self) -> bool:
        if self.config.webhook_format == "ps_webhooks":
            return bool(self.url)  # that module signs nothing
        return bool(self.url and self.secret)

    def ps_webhooks_payload(self, resource: str, action: str, row: Row) -> dict[str, Any]:
        """The ``ps_webhooks`` module's body: ``{"action","entity","data"}`` (reference §11.2)."""
        res = self.model.resources[resource]
        data: dict[str, Any] = {"id": int(row.get("id") or 0)}
        for fld in res.visible_fields:
            if fld.name == "id" or fld.name in _SECRET_FIELDS:
                continue
            value = self.model.value(res, row, fld)
            data[fld.name] = {str(k): v for k, v in value.items()} if isinstance(value, dict) else value
        verb = {"created": "add", "updated": "update", "deleted": "delete"}[action]
        return {"action": verb, "entity": res.class_name, "data": data}

    def payload(self, resource: str, action: str, row: Row) -> dict[str, Any]:
        res = self.model.resources[resource]
        data: dict[str, Any] = {"resource": resource, "id": int(row.get("id") or 0)}
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if action == "status_changed":
            # actionOrderStatusPostUpdate passes id_order and the new and old OrderState, not the
            # Order object: the module sends the states (and the reference), no date_upd [I: names]
            data.update(reference=row.get("reference"), current_state=str(row.get("current_state") or "0"),
                        previous_state=str(row.get("_previous_state") or "0"))
            return {"type": f"{EVENT_ENTITIES.get(resource, resource)}.{action}", "timestamp": stamp, "data": data}
        for fld in res.visible_fields:
            if fld.name == "id" or fld.name in _SECRET_FIELDS:
                continue
            value = self.model.value(res, row, fld)
            data[fld.name] = {str(k): v for k, v in value.items()} if isinstance(value, dict) else value
        if action != "deleted" and res.associations:
            data["associations"] = {
                a.name: self.model.assoc_items(res, row, a) for a in res.associations
            }
        return {"type": f"{EVENT_ENTITIES.get(resource, resource)}.{action}", "timestamp": stamp, "data": data}

    def notify(self, resource: str, action: str, row: Row) -> None:
        """Queue an event for ``resource`` if it is one the module listens to."""
        if not self.enabled or resource not in self.entities:
            return
        if self.paused:  # a disabled module's hooks do not run: the change is never sent
            self.stats["not_sent"] += 1
            return
        if self.config.webhook_format == "ps_webhooks":
            if action not in ("created", "updated", "deleted"):
                return  # that module listens to actionObject*After only (reference §11.2)
            body = _encoder.encode(self.ps_webhooks_payload(resource, action, row))
        else:
            body = _encoder.encode(self.payload(resource, action, row))
        self.queue.append(("msg_" + str(ULID()), body))
        self.stats["queued"] += 1
        self._wake.set()

    async def start(self) -> None:
        if self.enabled and self._task is None:
            self._client = httpx.AsyncClient(timeout=self.config.webhook_timeout_s)
            self._task = asyncio.create_task(self._run(), name="sandbox-webhook-emitter")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            if not self.queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            msg_id, body = self.queue[0]
            try:
                await self._deliver(msg_id, body)
            except Exception:  # a bug must not silently stop every later delivery
                self.stats["failed"] += 1
                log.exception("webhook %s could not be delivered", msg_id)
            self.queue.popleft()

    async def _deliver(self, msg_id: str, body: bytes) -> None:
        assert self._client is not None and self.url
        cfg = self.config
        for attempt in range(1, cfg.webhook_max_attempts + 1):
            self.stats["attempts"] += 1
            headers = {"content-type": "application/json", "accept": "application/json"}
            if self.secret and cfg.webhook_format == "standard":
                headers.update(signature_headers(self.secret, msg_id, body))
            try:
                response = await self._client.post(self.url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    self.stats["delivered"] += 1
                    return
                reason = f"status {response.status_code}"
            except httpx.HTTPError as exc:
                reason = type(exc).__name__
            if attempt == cfg.webhook_max_attempts:
                break
            self.stats["retries"] += 1
            cap = min(cfg.webhook_backoff_max_s, cfg.webhook_backoff_s * 2 ** (attempt - 1))
            delay = cap / 2 + self._rng.uniform(0, cap / 2)
            log.info("webhook %s attempt %d failed (%s); retrying in %.2fs", msg_id, attempt, reason, delay)
            await asyncio.sleep(delay)
        self.stats["failed"] += 1
        log.warning("webhook %s dropped after %d attempts", msg_id, cfg.webhook_max_attempts)

    def status(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "paused": self.paused, "pending": len(self.queue), **self.stats}
