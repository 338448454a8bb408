"""Order-to-cash latency the bridge adds, against a baseline measured in the same run.

Both sandboxes run as processes of their own (no injected latency); the bridge runs on a local
Ray (2 CPUs) with the demo's flows (the fulfilment flow's AX polls every second, the stock poll
at its default 5 s). Three phases, one run:

1. **Baseline** (bridge not started, the shop's webhook module paused): orders placed at the
   same steady rate, and for each the calls the order flow makes, made directly with the
   connectors: the shop reads of its extract (order, customer, addresses, delivery and invoice
   address, currency, carrier, country), the AX customer create, the sales order lookup by
   reference and create (-> *create calls*); then, once AX packed them, the fulfilment flow's
   calls: AX packing slip and sales order reads, the shop's order, payments and carrier reads,
   the tracking number and the Shipped state written (-> *tracking calls*).
2. **Bridge**: after three warm-up orders (not measured: the first nudge of an entity actor
   creates it and loads its flows) and once the journal is idle (the shop poller's first poll
   also finds the baseline's orders), a steady ``--rate`` orders/s for ``--seconds`` (``--quick``: 20 s) placed in the
   shop, whose webhooks go to the bridge; AX is stepped (pick, pack, invoice) every second
   through its control endpoint. Per order, from the journal: *webhook receipt -> AX sales order
   exists* (the message's ``received_at`` -> its order cross-reference, written right after the
   AX create), and *AX packing slip posted -> tracking number in the shop* (the step that packed
   it -> the end of the fulfilment attempt that wrote the tracking number), split into the
   *polling delay* (posted -> journaled by the AX poller) and the processing after it.
3. **Stock**: meanwhile, every few seconds an AX inventory adjustment of an item no order buys,
   timed until the shop's ``stock_availables`` shows the new figure (read every 0.2 s).

*Added* = bridge time - the baseline's median of the same calls; ``o2c_added`` per order is the
create path's added time plus the tracking path's, polling delay excluded (reported apart).
Prints p50/p99 of each, then ``o2c_added_p50_ms``, ``o2c_added_p99_ms``, ``stock_lag_p99_s``.
Asserts nothing.

Usage: ``python benchmarks/order_latency.py [--quick] [--seconds 60] [--rate 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a loopback-only Ray (runtime/local_ray.py)

from benchmarks._cpu import cpu_by_role, cpu_delta, cpu_of_kind  # noqa: E402
from benchmarks._stack import stop_bridge_and_ray, stop_processes  # noqa: E402

SECRET = "whsec_YmVuY2htYXJrLXNlY3JldC1iZW5jaG1hcms="
ORDER_ITEM, STOCK_ITEM = "A0001", "A0002"
WAREHOUSES = ("11", "21")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def show(name: str, values: list[float], unit: str = "ms", scale: float = 1000.0) -> None:
    v = [x * scale for x in values]
    print(f"{name:<44} n={len(v):<5} p50={pct(v, 50):8.1f} {unit}  p99={pct(v, 99):8.1f} {unit}", flush=True)


def start_sandboxes(tmp: Path, ps_port: int, ax_port: int, bridge_port: int, key: str) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, PRESTA_AX_SANDBOX_PS_KEY=key, PRESTA_AX_SANDBOX_WEBHOOK_SECRET=SECRET,
               PYTHONPATH=str(ROOT))
    log = open(tmp / "sandboxes.log", "ab")  # noqa: SIM115 - kept open for the children's lifetime
    shop = subprocess.Popen([sys.executable, "-c", "from runtime.demo import serve_demo_shop; serve_demo_shop()",
                             str(ps_port), "50", f"http://127.0.0.1:{bridge_port}/webhooks/prestashop"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    ax = subprocess.Popen([sys.executable, "-m", "runtime.cli", "sandbox", "ax", "--port", str(ax_port), "--seed", "50"],
                          cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return [shop, ax]


async def wait_http(url: str, timeout_s: float = 60.0) -> None:
    import httpx

    end = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0) as c:
        while True:
            try:
                await c.get(url)
                return
            except httpx.HTTPError:
                if time.monotonic() > end:
                    raise
                await asyncio.sleep(0.3)


async def steady(rate: float, seconds: float, make: Any) -> list[Any]:
    """Start ``make(n)`` every 1/rate s for ``seconds`` (not waiting for one to end); return the results."""
    tasks, n, start = [], 0, time.monotonic()
    while (due := start + n / rate) < start + seconds:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(make(n)))
        n += 1
    return [r for r in await asyncio.gather(*tasks, return_exceptions=True) if not isinstance(r, BaseException)]


async def baseline(shop: Any, ax: Any, control: Any, rate: float,
                   seconds: float) -> tuple[list[float], list[float], set[str]]:
    """Phase 1 (module docstring): the create calls and the tracking calls, timed per order."""
    from connectors.dynamics_ax import EntityKey
    from connectors.dynamics_ax.payloads import NewCustomer, NewSalesLine, NewSalesOrder
    from connectors.prestashop import F, change_order_state, paid_total, set_tracking_number
    from runtime.demo import place_sample_order

    async def create(n: int) -> tuple[float, dict[str, Any], str]:
        order = await place_sample_order(shop, f"base.{secrets.token_hex(4)}@example.com", 1, ORDER_ITEM)
        t0 = time.perf_counter()
        full = await shop.get("orders", int(order["id"]))
        customer = await shop.get("customers", int(full["id_customer"]))
        await shop.list("addresses", display="full", filters={"id_customer": F.eq(int(customer["id"]))})
        delivery = await shop.get("addresses", int(full["id_address_delivery"]))
        await shop.get("addresses", int(full["id_address_invoice"]))
        await shop.get("currencies", int(full["id_currency"]))
        await shop.get("carriers", int(full["id_carrier"]))
        await shop.get("countries", int(delivery["id_country"]))
        account = (await ax.create_customer(NewCustomer(cust_group="WEB", currency="EUR", first_name="Bea",
                                                        last_name="Buyer"), idempotency_key=f"base-c-{n}")).key
        await ax.find_sales_order_by_reference(full["reference"])
        sales_id = (await ax.create_sales_order(NewSalesOrder(
            cust_account=account, shop_reference=full["reference"], currency="EUR",
            lines=[NewSalesLine(item_id=ORDER_ITEM, qty=Decimal(1), unit="ea", site="1", warehouse="11")]),
            idempotency_key=f"base-o-{n}")).key
        return time.perf_counter() - t0, full, sales_id

    created = await steady(rate, seconds, create)
    for _ in ("pick", "pack"):
        (await control.post("/_sandbox/fulfilment/step", json={})).raise_for_status()

    async def tracking(item: tuple[float, dict[str, Any], str]) -> float:
        _, order, sales_id = item
        t0 = time.perf_counter()
        (slip,) = await ax.read_packing_slips(sales_id)
        await ax.service("sales_order").read([EntityKey.of(SalesId=sales_id)])
        full = await shop.get("orders", int(order["id"]), display=["id", "reference", "total_paid"])
        await paid_total(shop, str(full["reference"]))
        await shop.list("order_carriers", display=["id"], sort=["id_DESC"], limit=1,
                        filters={"id_order": F.eq(int(order["id"]))})
        await set_tracking_number(shop, int(order["id"]), str(slip.tracking_number))
        await change_order_state(shop, int(order["id"]), 4)
        return time.perf_counter() - t0

    sem = asyncio.Semaphore(8)

    async def bounded(item: tuple[float, dict[str, Any], str]) -> float:
        async with sem:
            return await tracking(item)
    tracked = await asyncio.gather(*(bounded(c) for c in created), return_exceptions=True)
    return [c[0] for c in created], [t for t in tracked if isinstance(t, float)], {str(c[1]["id"]) for c in created}


async def stepper(control: Any, stop: asyncio.Event, packed_at: dict[str, float]) -> None:
    """Advance every open AX order one stage a second; note when each was packed."""
    while not stop.is_set():
        try:
            r = await control.post("/_sandbox/fulfilment/step", json={})
            now = time.time()
            for a in r.json().get("advanced", []):
                if a["stage"] == "pack":
                    packed_at.setdefault(a["sales_id"], now)
        except Exception:  # noqa: BLE001 - a slow step: the next one catches up
            pass
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass


async def stock_changes(shop: Any, ax: Any, control: Any, product_id: int, stop: asyncio.Event) -> list[float]:
    """Phase 3: AX adjusts STOCK_ITEM, then the shop is read until it shows the new figure."""
    from connectors.prestashop import F

    lags = []
    while not stop.is_set():
        (await control.post("/_sandbox/stock", json={"item_id": STOCK_ITEM, "warehouse": "11", "qty": 1})
         ).raise_for_status()
        changed = time.time()
        want = int(sum(r.avail_physical for r in await ax.read_on_hand(STOCK_ITEM) if r.warehouse in WAREHOUSES))
        while time.time() - changed < 30:
            rows = await shop.list("stock_availables", display="full",
                                   filters={"id_product": F.eq(product_id), "id_product_attribute": F.eq(0)})
            if rows and int(rows[0]["quantity"]) == want:
                lags.append(time.time() - changed)
                break
            await asyncio.sleep(0.2)
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass
    return lags


def fulfilment_flow(flows: Path) -> None:
    """The fulfilment flow with its AX polls every second (the defaults poll every 2-5 minutes)."""
    from pipelines.registry import DEFAULT_FLOWS_DIR

    text = (DEFAULT_FLOWS_DIR / "ax_fulfilment_to_ps.yaml").read_text(encoding="utf-8")
    (flows / "ax_fulfilment_to_ps.yaml").write_text(text.replace("every: 2m", "every: 1s")
                                                    .replace("every: 5m", "every: 1s"), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="20 s of load instead of 60")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--rate", type=float, default=20.0, help="orders per second")
    ap.add_argument("--trace", metavar="FILE", help="write the bridge's spans to FILE (JSON lines) to see "
                    "where an order's time goes; costs some speed")
    args = ap.parse_args()
    seconds = args.seconds or (20.0 if args.quick else 60.0)
    base_seconds = min(10.0, seconds / 2)

    import httpx
    import ray

    from connectors.dynamics_ax import AxConfig
    from connectors.dynamics_ax import Client as AxClient
    from connectors.prestashop import Client, ClientConfig, F
    from runtime.config import Settings
    from runtime.demo import demo_systems, link_catalog, place_sample_order, write_sandbox_flows
    from runtime.fast_mode import apply_ingress_env, choose_ingress
    from runtime.server import start_bridge
    from runtime.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="presta-ax-bench-"))
    key = secrets.token_hex(16).upper()
    bridge_port, ps_port, ax_port = free_port(), free_port(), free_port()
    children = start_sandboxes(tmp, ps_port, ax_port, bridge_port, key)
    systems = demo_systems(ps_port, ax_port, key)
    ps_config, ax_config = ClientConfig(**systems["prestashop"]), AxConfig(**systems["ax"])
    ax_url = f"http://127.0.0.1:{ax_port}"
    running = None
    settings: Any = None
    try:
        async def prepare() -> tuple[list[float], list[float], set[str], int]:
            await wait_http(f"http://127.0.0.1:{ps_port}/api/")
            await wait_http(f"{ax_url}/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc?wsdl")
            await link_catalog(ps_config, [ORDER_ITEM, STOCK_ITEM])
            async with Client(ps_config) as shop, AxClient(ax_config) as ax, \
                    httpx.AsyncClient(base_url=ax_url, timeout=30) as control, \
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{ps_port}", auth=(key, ""), timeout=10) as ps:
                (await control.post("/_sandbox/stock", json={"item_id": ORDER_ITEM, "warehouse": "11",
                                                             "qty": 100_000})).raise_for_status()
                (await ps.put("/_sandbox/webhooks", json={"paused": True})).raise_for_status()
                created, tracked, ids = await baseline(shop, ax, control, args.rate, base_seconds)
                (await ps.put("/_sandbox/webhooks", json={"paused": False})).raise_for_status()
                (row,) = await shop.list("products", display=["id"], filters={"reference": F.eq(STOCK_ITEM)})
                return created, tracked, ids, int(row["id"])
        base_create, base_tracking, base_ids, stock_product = asyncio.run(prepare())

        flows = write_sandbox_flows(tmp)
        fulfilment_flow(flows)
        settings = Settings.model_validate({
            "data_dir": str(tmp / "data"), "namespace": "bench-o2c",
            "server": {"port": bridge_port, "webhook_secrets": [SECRET], "admin_token": "bench-token"},
            "systems": systems, "flow_dirs": [str(flows)],
            "limits": {"dispatch_interval_s": 0.5, "unhandled_events": "skip"},
            **({"tracing": {"exporter": "jsonl", "endpoint": str(Path(args.trace).resolve())}} if args.trace else {}),
        })
        ingress = choose_ingress()  # the mode users get: HAProxy's fast ingress when usable
        apply_ingress_env(ingress)
        print(f"Serve ingress: {ingress.describe()}", flush=True)
        ray.init("local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="bench-o2c")
        running = start_bridge(settings)

        warm_keys: set[str] = set()

        async def warm_up(count: int = 3) -> None:
            """A few orders before the measured load, which are not measured: the first nudge of an
            entity actor creates it, loads the deployed flows and opens its clients (a start-up
            cost, not the steady per-order cost this benchmark is about)."""
            async with Client(ps_config) as shop:
                warm = [await place_sample_order(shop, f"warm.{secrets.token_hex(4)}@example.com", 1, ORDER_ITEM)
                        for _ in range(count)]
            keys, store = {str(o["id"]) for o in warm}, Store(settings.store_url())
            warm_keys.update(keys)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                done = {m.key for m in store.list_messages(entity="order", status="done", limit=1000)}
                # the shop poller's first poll also finds the baseline's orders: let them drain too
                busy = any(store.counts().get(e, {}).get(s) for e in ("order", "customer")
                           for s in ("new", "processing", "retry"))
                if keys <= done and not busy:
                    break
                await asyncio.sleep(0.5)
            store.close()
        asyncio.run(warm_up())
        started = time.time()
        roles = {"driver": os.getpid(), "shop sandbox": children[0].pid, "AX sandbox": children[1].pid}
        cpu_before = cpu_by_role(roles)

        async def load() -> tuple[list[float], dict[str, float]]:
            packed_at: dict[str, float] = {}
            stop = asyncio.Event()
            async with Client(ps_config) as shop, AxClient(ax_config) as ax, \
                    httpx.AsyncClient(base_url=ax_url, timeout=30) as control:
                step = asyncio.create_task(stepper(control, stop, packed_at))
                stock = asyncio.create_task(stock_changes(shop, ax, control, stock_product, stop))
                placed = await steady(args.rate, seconds, lambda n: place_sample_order(
                    shop, f"bench.{secrets.token_hex(4)}@example.com", 1, ORDER_ITEM))
                print(f"placed {len(placed)} orders in {seconds:.0f} s (asked: {args.rate:g}/s)", flush=True)
                ids = {str(o["id"]) for o in placed}
                store = Store(settings.store_url())
                drain = time.monotonic() + 120  # until every order's tracking attempt finished
                while time.monotonic() < drain:
                    done = {m.key for m in store.list_messages(entity="order", status="done", limit=100_000)
                            if m.event == "order.created"}
                    xrefs = {x["ps_id"]: x["ax_id"] for x in store.list_xrefs("order", limit=100_000)}
                    tracked = {m.payload.get("SalesId") for m in store.list_messages(
                        entity="shipment", status="done", limit=100_000) if m.event == "packing_slip.posted"}
                    if ids <= done and {xrefs.get(i) for i in ids} <= tracked:
                        break
                    await asyncio.sleep(1.0)
                store.close()
                stop.set()
                await step
                return await stock, packed_at
        stock_lags, packed_at = asyncio.run(load())
        cpu_after = cpu_by_role(roles)
        cpu = cpu_delta(cpu_before, cpu_after, roles)
        bridge_kinds = cpu_of_kind(cpu_before, cpu_after, "bridge")
        print(f"load and drain took {time.time() - started:.0f} s", flush=True)
    except BaseException:
        print(f"the benchmark failed; sandbox logs in {tmp}", file=sys.stderr)
        raise
    finally:
        stop_bridge_and_ray(running)
        stop_processes(children)

    store = Store(settings.store_url())
    xrefs = {x["ps_id"]: x for x in store.list_xrefs("order", limit=100_000)}
    create, polling, processing, o2c_added, received = [], [], [], [], []
    queued, running_last, attempts, by_poll = [], [], [], 0  # where the create path's time goes
    base_create_p50, base_tracking_p50 = statistics.median(base_create), statistics.median(base_tracking)
    by_sales: dict[str, tuple[float, float]] = {}
    for m in store.list_messages(entity="shipment", status="done", limit=100_000):
        if m.event == "packing_slip.posted" and m.payload.get("SalesId") in packed_at:
            end = max(e["at"] for e in store.timeline(m.id) if e["kind"] == "attempt_succeeded")
            by_sales[str(m.payload["SalesId"])] = (m.received_at, end)
    for m in store.list_messages(entity="order", status="done", limit=100_000):
        xref = xrefs.get(m.key)
        if m.event != "order.created" or xref is None or m.key in base_ids or m.key in warm_keys:
            continue  # a baseline order (the shop poller finds them once the bridge runs)
        create.append(xref["updated_at"] - m.received_at)
        received.append(m.received_at)
        starts = [e["at"] for e in store.timeline(m.id) if e["kind"] == "attempt_started"]
        if starts:
            queued.append(starts[0] - m.received_at)
            running_last.append(xref["updated_at"] - starts[-1])
            attempts.append(len(starts))
            by_poll += m.payload.get("found_by") == "poll"
        if xref["ax_id"] in by_sales:
            journaled, end = by_sales[xref["ax_id"]]
            polling.append(journaled - packed_at[xref["ax_id"]])
            processing.append(end - journaled)
            o2c_added.append((create[-1] - base_create_p50) + (processing[-1] - base_tracking_p50))
    store.close()
    done_at = sorted(r + c for r, c in zip(received, create, strict=True))
    if len(done_at) > 1 and done_at[-1] > done_at[0]:
        print(f"bridge throughput: {len(done_at) / (done_at[-1] - min(received)):.1f} orders/s into AX "
              f"({len(create)} orders measured, {len(polling)} with their tracking number)", flush=True)

    print("baseline (the same calls, directly with the connectors):")
    show("  create calls (shop reads, AX creates)", base_create)
    show("  tracking calls (AX reads, shop writes)", base_tracking)
    print("bridge:")
    show("  webhook receipt -> AX sales order exists", create)
    show("  added (minus baseline create calls p50)", [c - base_create_p50 for c in create])
    show("    of which: receipt -> first attempt", queued)
    show("    of which: last attempt -> AX order", running_last)
    print(f"    attempts per order: max {max(attempts, default=0)}, "
          f"{sum(a > 1 for a in attempts)} orders retried; {by_poll} found by the shop poller", flush=True)
    show("  packing slip posted -> journaled (polling)", polling)
    show("  journaled -> tracking number in the shop", processing)
    show("  added (minus baseline tracking calls p50)", [p - base_tracking_p50 for p in processing])
    show("  packing slip posted -> tracking (total)", [a + b for a, b in zip(polling, processing, strict=True)])
    show("AX stock change -> shop stock_availables", stock_lags, "s", 1.0)
    if create:
        # what one order cost each role over the load and its drain (benchmarks/_cpu.py), and the
        # orders/s the machine's cores would carry at that cost with the sandboxes beside the
        # bridge (the driver placing orders and stepping AX left out)
        per = {role: seconds * 1000 / len(create) for role, seconds in cpu.items()}
        print("CPU per order over the load and drain: " + ", ".join(f"{r} {v:.1f} ms" for r, v in per.items()))
        served = per["bridge"] + per["shop sandbox"] + per["AX sandbox"]
        print(f"  bridge + sandboxes {served:.1f} ms per order: {os.cpu_count() or 1} cores carry at most "
              f"{(os.cpu_count() or 1) * 1000 / served:.1f} orders/s; the bridge's share {per['bridge'] / served:.2f}")
        print("  the bridge's by process: " + ", ".join(f"{k} {v * 1000 / len(create):.1f} ms"
                                                      for k, v in list(bridge_kinds.items())[:8]))
        print(f"bridge_cpu_ms_per_order: {per['bridge']:.1f}")
    print(f"o2c_added_p50_ms: {pct(o2c_added, 50) * 1000:.1f}")
    print(f"o2c_added_p99_ms: {pct(o2c_added, 99) * 1000:.1f}")
    print(f"stock_lag_p99_s: {pct(stock_lags, 99):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
