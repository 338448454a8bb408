"""The demo's traffic generator and its summary line (``presta-ax demo``).

:class:`TrafficGenerator` makes the demo look like a running business, gently (``rate_per_s``
events a second, at most :data:`MAX_RATE_PER_S`), each event picked at random by weight:

* ``order`` - a shopper places a paid order in the shop (:func:`runtime.demo.place_sample_order`:
  customer, address, cart, order), for one of ``order_items`` (AX items the demo shop sells);
* ``shop_customer`` - the shop edits a customer the bridge knows on both sides (a ``PUT`` of the
  customer with another last name from a fixed list; the shop sends ``customer.updated``);
* ``ax_customer`` - AX edits such a customer through ``CustomerService.update`` (credit limit
  and customer group, the fields AX owns); every third AX edit is followed by a shop edit of the
  same customer, so both sides changed since the last sync and the conflict log gets its entries;
* ``stock`` - an AX inventory adjustment (the AX sandbox's ``POST /_sandbox/stock``);
* ``price`` - an AX sales price change (``POST /_sandbox/prices``) or a trade agreement line for
  the web customer group (``POST /_sandbox/price_agreements``), of one of ``price_items``. Keep
  those apart from ``order_items``: a paid order's ``total_paid`` must equal the cart total the
  shop computes, and the demo orders pay the shop's initial price (an order for a repriced item
  would land in "Payment error" and, rightly, never reach AX).

Every event is a real call to a sandbox, never a shortcut into the bridge. A failing event (a
sandbox restarting, a customer not synced yet) is counted in :attr:`TrafficGenerator.failed` and
the generator goes on. The data is synthetic (``demo.<hex>@example.com``, fixed names).

:func:`read_summary` counts what the bridge did from its store (one short read transaction);
:meth:`Summary.line` is the one line the demo prints every few seconds (README, "Watch an order
go from the shop to AX", explains each figure). :class:`DemoTraffic` runs both on an asyncio
loop in a thread of its own, so the CLI's main thread stays free for Ctrl-C; :meth:`DemoTraffic.stop`
cancels whatever is in flight and returns within its timeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import msgspec

__all__ = ["MAX_RATE_PER_S", "DemoTraffic", "Summary", "TrafficGenerator", "read_summary"]

log = logging.getLogger("presta_ax.demo_traffic")

#: the most events a second the generator makes, whatever it is asked
MAX_RATE_PER_S = 5.0
#: how often each kind of event is picked, relative to the others
WEIGHTS = {"order": 3, "shop_customer": 1, "ax_customer": 1, "stock": 2, "price": 1}
#: last names the shop edits give a customer (synthetic, not anyone's data)
_LAST_NAMES = ("Martin", "Bernard", "Dubois", "Lefebvre", "Moreau", "Laurent")
_AX_GROUPS = ("WEB", "10")
_dejson = msgspec.json.Decoder()


@dataclass(frozen=True)
class Summary:
    """What the bridge did so far, as the demo's summary line shows it (see :func:`read_summary`)."""

    orders_received: int = 0
    orders_in_ax: int = 0
    orders_shipped: int = 0
    orders_invoiced: int = 0
    customers_synced: int = 0
    stock_synced: int = 0
    prices_synced: int = 0
    pending: int = 0
    retrying: int = 0
    dead: int = 0
    echoes_skipped: int = 0
    conflicts: int = 0

    def line(self, at: float | None = None) -> str:
        """One line: ``summary HH:MM:SS orders R received, A in AX, S shipped, I invoiced | ...``."""
        stamp = time.strftime("%H:%M:%S", time.localtime(time.time() if at is None else at))
        return (f"summary {stamp} orders {self.orders_received} received, {self.orders_in_ax} in AX, "
                f"{self.orders_shipped} shipped, {self.orders_invoiced} invoiced | synced: "
                f"{self.customers_synced} customers, {self.stock_synced} stock, {self.prices_synced} prices | "
                f"messages: {self.pending} pending, {self.retrying} retrying, {self.dead} dead | "
                f"{self.echoes_skipped} echoes skipped | {self.conflicts} conflicts")


def _scalar(cur: Any, sql: str, params: tuple[Any, ...] = ()) -> int:
    cur.execute(sql, params)
    row = cur.fetchone()
    return int(row[0] or 0) if row else 0


def _sales_ids(cur: Any, event: str) -> set[str]:
    cur.execute("SELECT payload FROM messages WHERE entity = 'shipment' AND event = ? AND status = 'done'", (event,))
    out = set()
    for (payload,) in cur.fetchall():
        sales_id = _dejson.decode(payload).get("SalesId") if payload else None
        if sales_id:
            out.add(str(sales_id))
    return out


def read_summary(store: Any) -> Summary:
    """Count from ``store`` (a :class:`runtime.store.Store`), in one read transaction:

    * orders *received*: shop orders with an ``order.created`` message (webhook or poller, one
      per order); *in AX*: order cross-references (an AX sales order made for a shop order);
      *shipped* / *invoiced*: those AX orders whose packing slip / invoice message the
      fulfilment flow finished (the tracking number / the AX invoice is on the shop order);
    * customers, stock, prices *synced*: messages of those entities a flow finished with an
      effect (an ``attempt_succeeded`` event; echoes and stale versions are not counted);
    * messages *pending* (``new`` or ``processing``), *retrying* (``retry``), *dead* (the
      dead-letter queue), over every entity;
    * *echoes skipped*: ``skipped_echo`` events (the bridge's own write come back, not sent
      back); *conflicts*: rows of the conflict log (one per field that changed on both sides).

    The queries are the store's own tables (the SQL is portable between both backends)."""
    with store.backend.tx() as cur:
        received = _scalar(cur, "SELECT COUNT(DISTINCT key) FROM messages WHERE entity = 'order' "
                                "AND event = 'order.created'")
        cur.execute("SELECT ax_id FROM xrefs WHERE entity = 'order'")
        in_ax = {str(r[0]) for r in cur.fetchall()}
        shipped = _sales_ids(cur, "packing_slip.posted") & in_ax
        invoiced = _sales_ids(cur, "invoice.posted") & in_ax
        cur.execute("SELECT m.entity, COUNT(*) FROM message_events e JOIN messages m ON m.id = e.message_id "
                    "WHERE e.kind = 'attempt_succeeded' AND m.entity IN ('customer', 'stock', 'price') "
                    "GROUP BY m.entity")
        synced = {str(entity): int(n) for entity, n in cur.fetchall()}
        cur.execute("SELECT status, COUNT(*) FROM messages GROUP BY status")
        statuses = {str(status): int(n) for status, n in cur.fetchall()}
        echoes = _scalar(cur, "SELECT COUNT(*) FROM message_events WHERE kind = 'skipped_echo'")
        conflicts = _scalar(cur, "SELECT COUNT(*) FROM conflicts")
    return Summary(
        orders_received=received, orders_in_ax=len(in_ax), orders_shipped=len(shipped),
        orders_invoiced=len(invoiced), customers_synced=synced.get("customer", 0),
        stock_synced=synced.get("stock", 0), prices_synced=synced.get("price", 0),
        pending=statuses.get("new", 0) + statuses.get("processing", 0), retrying=statuses.get("retry", 0),
        dead=statuses.get("dead", 0), echoes_skipped=echoes, conflicts=conflicts,
    )


Accounts = Callable[[], list[tuple[str, str]]]


@dataclass
class TrafficGenerator:
    """Makes demo events against both sandboxes (module docstring).

    ``ps_config`` / ``ax_config``: the connectors' configs of the demo's shop and AX;
    ``ax_control_url``: the AX sandbox's base URL (its ``/_sandbox`` control API);
    ``order_items`` / ``price_items``: the AX items ordered / repriced (stock moves on both,
    see the module docstring); ``accounts()``: ``(shop customer id, AX account)`` pairs the
    bridge has linked (the customers edited on both sides), read from the demo's store."""

    ps_config: Any
    ax_config: Any
    ax_control_url: str
    order_items: list[str]
    price_items: list[str]
    accounts: Accounts = field(default=lambda: [])
    rate_per_s: float = 1.0
    warehouse: str = "11"
    web_group: str = "WEB"
    rng: random.Random = field(default_factory=random.Random)
    #: events made, per kind; events that failed
    made: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    _ax_edits: int = 0

    @property
    def interval_s(self) -> float:
        return 1.0 / min(max(self.rate_per_s, 0.01), MAX_RATE_PER_S)

    async def run(self, stop: asyncio.Event) -> None:
        """Make one event every :attr:`interval_s` until ``stop`` is set (or the task is cancelled)."""
        from connectors.dynamics_ax import Client as AxClient
        from connectors.prestashop import Client as PsClient

        async with PsClient(self.ps_config) as shop, AxClient(self.ax_config) as ax, \
                httpx.AsyncClient(base_url=self.ax_control_url, timeout=10.0) as control:
            while not stop.is_set():
                kind = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
                await self.event(kind, shop, ax, control)
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.interval_s)
                except TimeoutError:
                    pass

    async def event(self, kind: str, shop: Any, ax: Any, control: httpx.AsyncClient) -> bool:
        """Make one event of ``kind``; True when it happened. Never raises (but cancellation)."""
        try:
            done = await getattr(self, f"_{kind}")(shop, ax, control)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the demo goes on; the type is enough to debug
            self.failed += 1
            log.debug("demo %s event failed: %s", kind, type(exc).__name__)
            return False
        if done:
            self.made[kind] = self.made.get(kind, 0) + 1
        return bool(done)

    async def _order(self, shop: Any, ax: Any, control: httpx.AsyncClient) -> bool:
        from runtime.demo import place_sample_order

        await place_sample_order(shop, f"demo.{secrets.token_hex(4)}@example.com", self.rng.randint(1, 3),
                                 self.rng.choice(self.order_items))
        return True

    async def _linked(self) -> tuple[str, str] | None:
        pairs = await asyncio.to_thread(self.accounts)
        return self.rng.choice(pairs) if pairs else None

    async def _shop_customer(self, shop: Any, ax: Any, control: httpx.AsyncClient,
                             pair: tuple[str, str] | None = None) -> bool:
        pair = pair or await self._linked()
        if pair is None:
            return False  # no customer synced yet: the next order makes one
        await shop.update("customers", int(pair[0]), {"lastname": self.rng.choice(_LAST_NAMES)})
        return True

    async def _ax_customer(self, shop: Any, ax: Any, control: httpx.AsyncClient) -> bool:
        from connectors.dynamics_ax import EntityKey

        pair = await self._linked()
        if pair is None:
            return False
        self._ax_edits += 1
        changes = {"CreditMax": str(self.rng.randrange(1000, 20000, 500)), "CustGroup": self.rng.choice(_AX_GROUPS)}
        await ax.service("customer").update(EntityKey.of(AccountNum=pair[1]), changes,
                                            idempotency_key=f"demo-traffic:{secrets.token_hex(8)}")
        if self._ax_edits % 3 == 0:  # both sides changed since the last sync: a conflict to resolve
            await self._shop_customer(shop, ax, control, pair)
            self.made["shop_customer"] = self.made.get("shop_customer", 0) + 1
        return True

    async def _stock(self, shop: Any, ax: Any, control: httpx.AsyncClient) -> bool:
        # mostly goods in, sometimes a correction out: the demo never runs dry
        qty = self.rng.choice((-2, -1, 3, 5, 8, 12))
        r = await control.post("/_sandbox/stock", json={"item_id": self.rng.choice(self.order_items + self.price_items),
                                                       "warehouse": self.warehouse, "qty": qty})
        r.raise_for_status()
        return True

    async def _price(self, shop: Any, ax: Any, control: httpx.AsyncClient) -> bool:
        if not self.price_items:
            return False
        item = self.rng.choice(self.price_items)
        amount = str((Decimal(self.rng.randint(800, 1400)) / 100).quantize(Decimal("0.01")))
        if self.rng.random() < 0.5:
            r = await control.post("/_sandbox/prices", json={"item_id": item, "price": amount})
        else:
            r = await control.post("/_sandbox/price_agreements", json={
                "item_id": item, "account_code": "Group", "account_relation": self.web_group, "amount": amount})
        r.raise_for_status()
        return True


class DemoTraffic:
    """Runs ``generator`` (None: no traffic) and prints :func:`read_summary` of the store at
    ``store_url`` through ``emit`` every ``every_s`` seconds (0: never), on a loop in its own
    daemon thread. :meth:`start` returns at once; :meth:`stop` cancels both and joins."""

    def __init__(self, store_url: str, emit: Callable[[str], None], *, generator: TrafficGenerator | None = None,
                 every_s: float = 5.0) -> None:
        self.store_url = store_url
        self.emit = emit
        self.generator = generator
        self.every_s = every_s
        self.lines = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)

    def start(self) -> DemoTraffic:
        self._thread.start()
        self._ready.wait(timeout=5.0)
        return self

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop the generator and the summary (in-flight calls are cancelled); wait at most ``timeout_s``."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        self._thread.join(timeout=timeout_s)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        tasks = []
        if self.generator is not None:
            tasks.append(asyncio.create_task(self.generator.run(self._stop)))
        if self.every_s > 0:
            tasks.append(asyncio.create_task(self._summaries(self._stop)))
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception):
                log.warning("demo traffic stopped: %s", type(result).__name__)

    async def _summaries(self, stop: asyncio.Event) -> None:
        from runtime.store import Store

        store = await asyncio.to_thread(Store, self.store_url)
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), timeout=self.every_s)
                    return
                except TimeoutError:
                    pass
                try:
                    summary = await asyncio.to_thread(read_summary, store)
                except Exception as exc:  # noqa: BLE001 - a busy store: the next line will tell
                    log.debug("demo summary failed: %s", type(exc).__name__)
                    continue
                self.emit(summary.line())
                self.lines += 1
        finally:
            store.close()
