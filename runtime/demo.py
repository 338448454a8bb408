"""``presta-ax demo``: both sandboxes and the bridge on one machine, wired together.

Starts the emulated PrestaShop (seeded, its webhook emitter pointed at the bridge) and the
emulated AX as child processes, then runs ``serve`` in the foreground; Ctrl-C stops all three.
Everything is local: ``127.0.0.1`` only, data in ``<data_dir>/demo``.

**Every start is a fresh demo.** The sandboxes keep their state in memory and are rebuilt from
their seed on each start, so the journal must start anew with them: a journal that remembered
the last run's orders, AX documents, cross-references and poll cursors would meet a shop and an
AX that re-use the same ids and numbers, and mistake new documents for old ones. So the demo runs
on a store of its own, ``<data_dir>/demo/journal.db`` (:func:`demo_store_url`), wiped at each
start by :func:`fresh_demo_store` — never the user's journal (``<data_dir>/journal.db`` or a
configured ``store.url``), which the demo leaves alone.

So that the order flow runs for real, the demo also:

* points ``systems.prestashop`` and ``systems.ax`` at the two sandboxes (:func:`demo_systems`);
* writes a flow folder ``<data_dir>/demo/flows`` with the default order and customer flows whose
  mappings use the AX sandbox company's setup (warehouse ``11`` on site ``1``, customer group
  ``WEB``, unit ``ea``; the stock the shop sells is the on-hand of warehouses ``11`` and ``21``,
  the ``WEB`` group's trade agreements are shop group 3's prices), and puts it first in ``flow_dirs`` (:func:`write_sandbox_flows`) — the way a user adapts
  the shipped defaults to their company;
* runs the AX sandbox with automatic fulfilment (a stage every
  :data:`DEMO_FULFILMENT_INTERVAL_S` seconds) and polls AX every :data:`DEMO_POLL_INTERVAL_S`
  seconds, so a demo order gets its tracking number and invoice payment in the shop;
* adds shop products whose references are AX item numbers (``A0001``...), so an order placed in
  the shop for one of them has lines AX knows (:func:`link_catalog`).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

__all__ = ["DEMO_AX_PORT", "DEMO_PS_PORT", "DEMO_WEBHOOK_ENTITIES", "configure_demo", "demo_store_url",
           "demo_systems", "fresh_demo_store", "link_catalog", "start_sandboxes", "stop_children",
           "write_sandbox_flows"]

#: what the AX sandbox's company uses where the default mappings name a typical company's values
SANDBOX_MAPPING_PARAMS = {"default_warehouse": "11", "default_site": "1", "sales_unit": "ea"}
SANDBOX_CUSTOMER_GROUP = "WEB"
#: the AX sandbox company's warehouses (InventLocationId) whose on-hand the shop sells, and the
#: shop group (Customer) its web customer group's prices are for
SANDBOX_WAREHOUSES = ("11", "21")
SANDBOX_PS_GROUP = "3"
#: seconds between the demo AX's fulfilment stages, and at most between the bridge's AX polls
DEMO_FULFILMENT_INTERVAL_S = 15.0
DEMO_POLL_INTERVAL_S = 5.0
#: the shop resources whose changes the demo shop sends: those the default webhook flows handle
DEMO_WEBHOOK_ENTITIES = ["orders", "customers"]
#: where the demo's sandboxes listen (``demo-order`` and the README use them)
DEMO_PS_PORT = 8081
DEMO_AX_PORT = 8082
#: the demo's own journal, relative to the data folder, and the files SQLite keeps beside it
_DEMO_JOURNAL = Path("demo") / "journal.db"
_SQLITE_SIDE_FILES = ("", "-wal", "-shm", "-journal")


def demo_store_url(data_dir: Path) -> str:
    """The URL of the demo's own store (SQLite in ``<data_dir>/demo``)."""
    return f"sqlite:///{(Path(data_dir) / _DEMO_JOURNAL).as_posix()}"


def fresh_demo_store(data_dir: Path) -> str:
    """Delete the demo's store (the journal and SQLite's WAL files) and return its URL; the bridge
    creates it empty on start. Only ever ``<data_dir>/demo/journal.db*``: nothing else is touched.
    The caller makes sure no demo bridge is using it (ports and the dispatcher lease)."""
    path = Path(data_dir) / _DEMO_JOURNAL
    for suffix in _SQLITE_SIDE_FILES:
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return demo_store_url(data_dir)


def _wait_http(url: str, timeout_s: float = 30.0) -> bool:
    end = time.time() + timeout_s
    while time.time() < end:
        try:
            httpx.get(url, timeout=1.0)
            return True
        except httpx.HTTPError:
            time.sleep(0.3)
    return False


def start_sandboxes(data_dir: Path, bridge_port: int, webhook_secret: str, *, ps_port: int = DEMO_PS_PORT,
                    ax_port: int = DEMO_AX_PORT, seed: int = 50) -> tuple[list[subprocess.Popen[bytes]], dict[str, str]]:
    """Start both sandboxes; return the processes and what to print (URLs; the demo key)."""
    demo_dir = data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    key_file = demo_dir / "prestashop-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(16).upper())
        key_file.chmod(0o600)
    key = key_file.read_text().strip()
    exe = [sys.executable, "-m", "runtime.cli", "sandbox"]
    env = dict(os.environ, PRESTA_AX_SANDBOX_PS_KEY=key, PRESTA_AX_SANDBOX_WEBHOOK_SECRET=webhook_secret)
    # the shop runs through serve_demo_shop (not the plain sandbox command) so that it only sends
    # the events the default flows handle: an address or stock event the bridge refuses would be
    # retried for a minute by the in-order emitter and hold back the orders behind it
    ps = subprocess.Popen([sys.executable, "-c", "from runtime.demo import serve_demo_shop; serve_demo_shop()",
                           str(ps_port), str(seed), f"http://127.0.0.1:{bridge_port}/webhooks/prestashop"],
                          env=env, stdout=open(demo_dir / "prestashop.log", "ab"), stderr=subprocess.STDOUT)
    # AX advances its open orders (pick, pack, invoice) by itself, so a demo order's tracking
    # number and invoice reach the shop through the AX poller without anyone stepping AX
    ax = subprocess.Popen([*exe, "ax", "--port", str(ax_port), "--seed", str(seed),
                           "--fulfilment-interval", str(DEMO_FULFILMENT_INTERVAL_S)],
                          stdout=open(demo_dir / "ax.log", "ab"), stderr=subprocess.STDOUT)
    ok_ps = _wait_http(f"http://127.0.0.1:{ps_port}/api/")
    ok_ax = _wait_http(f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc?wsdl")
    info = {
        "PrestaShop sandbox": f"http://127.0.0.1:{ps_port}/api/" + ("" if ok_ps else "  (did not start: see demo/prestashop.log)"),
        "PrestaShop key file": str(key_file),
        "AX sandbox": f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc"
                      + ("" if ok_ax else "  (did not start: see demo/ax.log)"),
    }
    return [ps, ax], info


def stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for p in children:
        p.terminate()
    for p in children:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def write_sandbox_flows(root: Path) -> Path:
    """Write ``root/flows`` (see the module docstring) and return it; rewritten on every call."""
    from ruamel.yaml import YAML

    from pipelines.registry import DEFAULT_FLOWS_DIR

    flows = root / "flows"
    (flows / "mappings").mkdir(parents=True, exist_ok=True)
    y = YAML(typ="safe")
    y.default_flow_style = False
    for name in ("ps_order_to_ax", "customer_sync", "ax_stock_to_ps", "ax_price_to_ps"):
        (flows / f"{name}.yaml").write_text((DEFAULT_FLOWS_DIR / f"{name}.yaml").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    mappings = DEFAULT_FLOWS_DIR / "mappings"
    order = y.load((mappings / "ps_order_to_ax_sales_order.yaml").read_text(encoding="utf-8"))
    order["params"].update(SANDBOX_MAPPING_PARAMS)
    customer = y.load((mappings / "ps_customer_to_ax_customer.yaml").read_text(encoding="utf-8"))
    groups = customer["lookups"]["customer_group"]
    groups["values"] = {k: SANDBOX_CUSTOMER_GROUP for k in groups["values"]}
    groups["default"] = SANDBOX_CUSTOMER_GROUP
    # the stock the shop sells is what the sandbox company holds in its own warehouses; its
    # customer group prices (trade agreements) are for its web customer group
    stock = y.load((mappings / "ax_onhand_to_ps_stock.yaml").read_text(encoding="utf-8"))
    stock["params"]["warehouses"] = list(SANDBOX_WAREHOUSES)
    price = y.load((mappings / "ax_price_to_ps_price.yaml").read_text(encoding="utf-8"))
    price["lookups"]["customer_group"]["values"][SANDBOX_CUSTOMER_GROUP] = SANDBOX_PS_GROUP
    for name, data in (("ps_order_to_ax_sales_order", order), ("ps_customer_to_ax_customer", customer),
                       ("ax_onhand_to_ps_stock", stock), ("ax_price_to_ps_price", price)):
        with (flows / "mappings" / f"{name}.yaml").open("w", encoding="utf-8") as f:
            y.dump(data, f)
    return flows


def demo_systems(ps_port: int, ax_port: int, key: str) -> dict[str, Any]:
    """``systems`` for the two sandboxes started by :func:`start_sandboxes`."""
    return {
        "prestashop": {"base_url": f"http://127.0.0.1:{ps_port}", "api_key": key},
        "ax": {"base_url": f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60", "port_name": "WebShop",
               "company": "DAT"},
    }


async def link_catalog(ps_config: Any, items: list[str], price: Decimal = Decimal("10.00")) -> list[str]:
    """Make sure the shop has a product for each AX item number (its ``reference``); returns the
    items that were added. The shop sandbox's own catalog uses ``SKU-`` references AX lacks."""
    from connectors.prestashop import Client, F

    added = []
    async with Client(ps_config) as shop:
        for item in items:
            if await shop.list("products", display=["id"], filters={"reference": F.eq(item)}):
                continue
            await shop.create("products", {
                "reference": item, "price": str(price), "id_tax_rules_group": 1, "active": 1,
                "id_category_default": 2, "available_for_order": 1, "show_price": 1, "state": 1,
                "name": {1: f"AX item {item}", 2: f"Article AX {item}"},
                "link_rewrite": {1: f"ax-item-{item.lower()}", 2: f"article-ax-{item.lower()}"},
            })
            added.append(item)
    return added


def configure_demo(settings: Any, ps_port: int = DEMO_PS_PORT, ax_port: int = DEMO_AX_PORT, items: int = 5) -> list[str]:
    """Point ``settings`` at the sandboxes started by :func:`start_sandboxes` (same ports), put
    the sandbox flow folder first in ``flow_dirs`` and link ``items`` AX items into the shop's
    catalog; returns lines to print. Call it after the sandboxes answer."""
    import asyncio

    from runtime.config import Systems

    demo_dir = Path(settings.data_dir) / "demo"
    key = (demo_dir / "prestashop-key").read_text().strip()
    settings.systems = Systems.model_validate(demo_systems(ps_port, ax_port, key))
    flows = write_sandbox_flows(demo_dir)
    settings.flow_dirs = [flows, *[d for d in settings.flow_dirs if Path(d) != flows]]
    settings.limits.poll_interval_s = min(settings.limits.poll_interval_s or DEMO_POLL_INTERVAL_S, DEMO_POLL_INTERVAL_S)
    wanted = [f"A{n:04d}" for n in range(1, items + 1)]
    assert settings.systems.prestashop is not None
    asyncio.run(link_catalog(settings.systems.prestashop, wanted))
    return [f"Flows: {flows} (the default order and customer flows set up for the AX sandbox)",
            f"Order flow: shop products with references {wanted[0]}..{wanted[-1]} are AX items; an order "
            "placed for them (cart -> order, paid) becomes an AX sales order."]


def serve_demo_shop() -> None:
    """The demo's shop process: ``argv = [port, seed, webhook_url]``, the key and the webhook
    secret from ``PRESTA_AX_SANDBOX_PS_KEY`` / ``PRESTA_AX_SANDBOX_WEBHOOK_SECRET``; blocks."""
    import uvicorn
    from pydantic import SecretStr

    from connectors.prestashop.sandbox.app import create_app
    from connectors.prestashop.sandbox.config import SandboxConfig

    port, seed, webhook_url = sys.argv[1], sys.argv[2], sys.argv[3]
    config = SandboxConfig.simple(
        os.environ["PRESTA_AX_SANDBOX_PS_KEY"], seed=int(seed), webhook_url=webhook_url,
        webhook_secret=SecretStr(os.environ["PRESTA_AX_SANDBOX_WEBHOOK_SECRET"]),
        webhook_entities=DEMO_WEBHOOK_ENTITIES,
    )
    uvicorn.run(create_app(config), host="127.0.0.1", port=int(port), access_log=False, log_level="warning")


#: the price (tax excluded) of the shop products linked to AX items; French VAT 20 % applies
DEMO_PRICE = Decimal("10.00")


async def demo_product(shop: Any, reference: str) -> dict[str, Any]:
    """The shop product with this reference, created once (an AX item the shop sells)."""
    found = await shop.list("products", display=["id", "reference"], filters={"reference": f"[{reference}]"})
    if found:
        return dict(found[0])
    return dict(await shop.create("products", {
        "reference": reference, "price": str(DEMO_PRICE), "id_tax_rules_group": 1, "active": 1,
        "id_category_default": 2, "name": {1: "AX test item", 2: "Article de test AX"},
        "link_rewrite": {1: "ax-test-item", 2: "article-test-ax"}, "available_for_order": 1,
        "show_price": 1, "state": 1,
    }))


async def sample_cart(shop: Any, email: str, quantity: int = 2, reference: str = "A0001", *,
                      lastname: str = "Buyer", firstname: str = "Bea",
                      street: str = "1 rue de Rivoli") -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A shopper's first steps: a new customer, its address in Paris, and a cart of ``quantity``
    of the shop product ``reference`` with the free carrier 1; returns (customer, address, cart)."""
    product = await demo_product(shop, reference)
    customer = await shop.create("customers", {"lastname": lastname, "firstname": firstname, "email": email,
                                               "passwd": "buyer-pass-1", "id_default_group": 3, "active": 1})
    address = await shop.create("addresses", {"id_customer": customer["id"], "id_country": 8, "alias": "Home",
                                              "lastname": lastname, "firstname": firstname, "address1": street,
                                              "postcode": "75001", "city": "Paris"})
    cart = await shop.create("carts", {
        "id_currency": 1, "id_lang": 1, "id_customer": customer["id"], "id_address_delivery": address["id"],
        "id_address_invoice": address["id"], "id_carrier": 1, "secure_key": customer["secure_key"],
        "associations": {"cart_rows": [{"id_product": product["id"], "id_product_attribute": 0,
                                        "id_address_delivery": address["id"], "quantity": quantity}]},
    })
    return dict(customer), dict(address), dict(cart)


async def place_sample_order(shop: Any, email: str, quantity: int = 2, reference: str = "A0001") -> dict[str, Any]:
    """Place an order the way a shop does: customer -> address -> cart -> order, with
    ``total_paid`` equal to the cart total (free carrier 1, France) so it starts paid (state 11)."""
    customer, address, cart = await sample_cart(shop, email, quantity, reference)
    total = (DEMO_PRICE * Decimal("1.2") * quantity).quantize(Decimal("0.01"))
    return dict(await shop.create("orders", {
        "id_cart": cart["id"], "module": "ps_wirepayment", "payment": "Bank wire", "id_currency": 1, "id_lang": 1,
        "id_customer": customer["id"], "id_carrier": 1, "id_address_delivery": address["id"],
        "id_address_invoice": address["id"], "total_paid": str(total), "total_paid_real": "0",
        "total_products": str(DEMO_PRICE * quantity), "total_products_wt": str(total), "conversion_rate": 1,
    }))
