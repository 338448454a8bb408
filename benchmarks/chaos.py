"""The chaos campaign: orders through the whole order-to-cash cycle while everything fails.

Both sandboxes run as processes of their own; the bridge runs on a two-node Ray cluster
(``benchmarks/_chaos_ray.py``: the entity actors start on the worker node) on a PostgreSQL store
(``benchmarks/_pg_ctl.py``), reaching each sandbox through a TCP proxy
(``benchmarks/_tcp_proxy.py``). The shop's webhooks go to the bridge; AX picks, packs and
invoices every open order by itself (every 2 s); the fulfilment flow polls AX every second.
``--orders`` orders are placed in the shop at ``--rate`` a second (``benchmarks/_chaos_shop.py``:
most paid at checkout, every fourth by bank wire and unpaid); the campaign's bank posts the
customers' payments in AX (every 2 s it settles each open invoice), which the bridge brings back
to the shop as a payment where the shop has none (the bank-wire orders) and nowhere else, while the seeded schedule of ``benchmarks/_chaos_faults.py`` kills the entity actors, the
dispatcher and the Serve replica, removes the worker node, takes AX down (``--ax-down`` s), storms
the shop with 503/429 + ``Retry-After``, cuts and stalls the proxied connections, ends the order
actor's process between the AX create and the cross-reference write, and restarts PostgreSQL.

Then it waits until both sandboxes show every order's effects (``benchmarks/_chaos_checks.py``)
and prints, from the sandboxes' own data: ``chaos_orders``, ``chaos_lost``, ``chaos_duplicates``,
``chaos_stuck`` (goal: the last three 0), ``chaos_dead``, ``chaos_drain_s`` (last fault's end ->
everything landed) and, as the baseline measured in the same run, the drain rate against the
load rate (``chaos_throughput_ratio``: orders landed per second over the whole run / the rate
asked). Asserts nothing; exits 1 when an invariant is broken.

Usage: ``python benchmarks/chaos.py [--quick] [--orders 10000] [--seed 1] [--rate 6]
[--ax-down 60] [--json FILE] [--workdir DIR] [--trace FILE]`` (``--quick``: 1,000 orders, AX down
20 s). ``--workdir`` keeps the run's files (Ray's logs, the sandboxes' logs, the admin API's
answers in ``api.json``; Ray's own folder is named in ``ray-dir``) for inspection; ``--trace`` writes the bridge's spans there.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a loopback-only Ray (runtime/local_ray.py)

from benchmarks._chaos_checks import Verdict, check, journal_state  # noqa: E402
from benchmarks._chaos_faults import Fault, Injector, schedule  # noqa: E402
from benchmarks._chaos_shop import place_all  # noqa: E402
from benchmarks._stack import stop_bridge_and_ray, stop_processes  # noqa: E402

ITEM = "A0001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Secrets:
    """The run's credentials: random per run, passed to children through the environment only."""

    def __init__(self) -> None:
        self.ps_key = secrets.token_hex(16).upper()
        self.webhook = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.admin_token = "adm-" + secrets.token_urlsafe(24)
        self.ax_user, self.ax_password = "CONTOSO\\svc-chaos", "Ax-" + secrets.token_urlsafe(18)

    def values(self) -> dict[str, str]:
        return {"ps_key": self.ps_key, "webhook_secret": self.webhook, "admin_token": self.admin_token,
                "ax_password": self.ax_password}


def start_sandboxes(work: Path, sec: Secrets, ps_port: int, ax_port: int, bridge_port: int,
                    seed: int) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, PRESTA_AX_SANDBOX_PS_KEY=sec.ps_key, PRESTA_AX_SANDBOX_WEBHOOK_SECRET=sec.webhook,
               AX_SANDBOX_USER=sec.ax_user, AX_SANDBOX_PASSWORD=sec.ax_password, PYTHONPATH=str(ROOT))
    log = open(work / "sandboxes.log", "ab")  # noqa: SIM115 - kept open for the children's lifetime
    shop = subprocess.Popen([sys.executable, "-c", "from runtime.demo import serve_demo_shop; serve_demo_shop()",
                             str(ps_port), str(seed), f"http://127.0.0.1:{bridge_port}/webhooks/prestashop"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    ax = subprocess.Popen([sys.executable, "-m", "runtime.cli", "sandbox", "ax", "--port", str(ax_port),
                           "--seed", str(seed), "--auth", "basic", "--fulfilment-interval", "2"],
                          cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return [shop, ax]


async def wait_http(url: str, timeout_s: float = 60.0, auth: Any = None) -> None:
    import httpx

    end = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2.0, auth=auth) as c:
        while True:
            try:
                await c.get(url)
                return
            except httpx.HTTPError:
                if time.monotonic() > end:
                    raise
                await asyncio.sleep(0.3)


async def run_faults(plan: list[Fault], injector: Injector, t0: float) -> float:
    """Inject each fault at its time (long ones run beside the others); returns when the last ended."""
    async def one(f: Fault) -> None:
        await asyncio.sleep(max(0.0, t0 + f.at - time.monotonic()))
        try:
            what = await injector.inject(f)
        except Exception as exc:  # noqa: BLE001 - a fault that could not be injected is reported, not fatal
            what = f"could not inject: {type(exc).__name__}: {exc}"
        print(f"  t={time.monotonic() - t0:6.1f}s  {f.kind:<22} {what}", flush=True)
    await asyncio.gather(*(one(f) for f in plan))
    return time.monotonic()


def settings_for(work: Path, sec: Secrets, store_url: str, bridge_port: int, ps_port: int, ax_port: int,
                 trace: str | None) -> Any:
    from pipelines.registry import DEFAULT_FLOWS_DIR
    from runtime.config import Settings
    from runtime.demo import write_sandbox_flows

    flows = write_sandbox_flows(work)
    text = (DEFAULT_FLOWS_DIR / "ax_fulfilment_to_ps.yaml").read_text(encoding="utf-8")
    (flows / "ax_fulfilment_to_ps.yaml").write_text(text.replace("every: 2m", "every: 1s")
                                                    .replace("every: 5m", "every: 1s"), encoding="utf-8")
    return Settings.model_validate({
        "data_dir": str(work / "data"), "namespace": "chaos", "store": {"url": store_url},
        "server": {"port": bridge_port, "webhook_secrets": [sec.webhook], "admin_token": sec.admin_token},
        "systems": {
            "prestashop": {"base_url": f"http://127.0.0.1:{ps_port}", "api_key": sec.ps_key},
            "ax": {"base_url": f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60", "port_name": "WebShop",
                   "company": "DAT", "auth": {"mode": "basic", "username": sec.ax_user, "password": sec.ax_password}},
        },
        "flow_dirs": [str(flows)],
        # a crashed attempt's claim is taken over after lease_s; the retries outlast a 60 s outage
        "limits": {"lease_s": 20, "dispatch_interval_s": 0.5, "unhandled_events": "skip",
                   "retry": {"base_s": 0.5, "cap_s": 15.0, "max_attempts": 15}},
        **({"tracing": {"exporter": "jsonl", "endpoint": str(Path(trace).resolve())}} if trace else {}),
    })


async def dump_api(url: str, token: str, path: Path) -> None:
    """The admin API's answers a user sees after a run (alerts, the dead letters, health) and the
    error answers of a few bad requests: kept for inspection (the secrets test reads them)."""
    import httpx

    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=url, timeout=20) as c:
        auth = {"Authorization": f"Bearer {token}"}
        for route in ("/api/v1/alerts", "/api/v1/dlq", "/api/v1/health", "/api/v1/messages?status=dead",
                      "/api/v1/messages?entity=order&limit=50"):
            out[route] = (await c.get(route, headers=auth)).text
        out["wrong token"] = (await c.get("/api/v1/alerts", headers={"Authorization": "Bearer nope"})).text
        out["unknown message"] = (await c.get("/api/v1/messages/nope", headers=auth)).text
        out["bad replay"] = (await c.post("/api/v1/dlq/replay", headers=auth, content=b"{not json")).text
        out["unsigned webhook"] = (await c.post("/webhooks/prestashop", content=b"{}")).text
    path.write_text(json.dumps(out, indent=1), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1,000 orders, AX down 20 s")
    ap.add_argument("--orders", type=int, default=None, help="orders to place (default 10,000)")
    ap.add_argument("--seed", type=int, default=1, help="seeds the fault schedule and the sandboxes")
    ap.add_argument("--rate", type=float, default=6.0, help="orders placed per second")
    ap.add_argument("--ax-down", type=float, default=None, help="seconds AX is down (default 60; --quick 20)")
    ap.add_argument("--drain-timeout", type=float, default=900.0,
                    help="seconds to wait for every effect after the load and the faults ended (then judge)")
    ap.add_argument("--nodes", type=int, default=2, choices=(1, 2),
                    help="2: a head and a worker node (the entity actors start on the worker, which is removed "
                    "mid-run); 1: one local Ray, no node loss")
    ap.add_argument("--json", metavar="FILE", help="write the figures and the verdict to FILE")
    ap.add_argument("--workdir", metavar="DIR", help="keep the run's files in DIR (created)")
    ap.add_argument("--trace", metavar="FILE", help="write the bridge's spans to FILE (JSON lines)")
    args = ap.parse_args()
    orders = args.orders or (1000 if args.quick else 10_000)
    ax_down = args.ax_down if args.ax_down is not None else (20.0 if args.quick else 60.0)
    if orders < 1 or args.rate <= 0:
        ap.error("--orders and --rate must be positive")
    work = Path(args.workdir).resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="presta-ax-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    result = campaign(work, orders, args.seed, args.rate, ax_down, args.drain_timeout, args.trace, args.nodes)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    if not args.workdir:
        ray_dir = work / "ray-dir"
        if ray_dir.exists():
            shutil.rmtree(ray_dir.read_text(encoding="utf-8").strip(), ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0 if result["ok"] else 1


def campaign(work: Path, orders: int, seed: int, rate: float, ax_down: float, drain_timeout: float,
             trace: str | None, nodes: int = 2) -> dict[str, Any]:
    """One campaign (module docstring); returns the figures and the verdict as a dict."""

    from benchmarks._chaos_ray import actor_node, place_entity_actors, serve_on_head, session_dir, start_ray
    from benchmarks._pg_ctl import PgServer
    from benchmarks._tcp_proxy import TcpProxy
    from pipelines.operations import CRASH_DIR_ENV
    from runtime.fast_mode import apply_ingress_env, choose_ingress
    from runtime.server import start_bridge
    from runtime.store import Store

    sec = Secrets()
    crash_dir = work / "crash"
    crash_dir.mkdir(exist_ok=True)
    os.environ[CRASH_DIR_ENV] = str(crash_dir)  # before Ray starts: every worker inherits it
    bridge_port, ps_port, ax_port = free_port(), free_port(), free_port()
    pg = PgServer().start()
    children = start_sandboxes(work, sec, ps_port, ax_port, bridge_port, seed)
    proxies = {"ps": TcpProxy("127.0.0.1", ps_port).start(), "ax": TcpProxy("127.0.0.1", ax_port).start()}
    window = orders / rate
    plan = schedule(seed, window, ax_down, node_loss=nodes > 1)
    print(f"chaos campaign: {orders} orders at {rate:g}/s (~{window:.0f} s of load), seed {seed}, "
          f"{len(plan)} faults, AX down {ax_down:.0f} s", flush=True)
    running = cluster = None
    try:
        store_url = pg.create_database("chaos")
        settings = settings_for(work, sec, store_url, bridge_port, proxies["ps"].port, proxies["ax"].port, trace)
        ps_url, ax_url = f"http://127.0.0.1:{ps_port}", f"http://127.0.0.1:{ax_port}"
        product_id, ax_before = asyncio.run(prepare(sec, ps_url, ax_url))
        ingress = choose_ingress()
        apply_ingress_env(ingress)
        print(f"Serve ingress: {ingress.describe()}", flush=True)
        cluster, worker = start_ray(work, nodes)
        placed_on: dict[str, str] = {}
        if cluster is not None:
            serve_on_head(bridge_port)
            placed_on = place_entity_actors(settings, worker.node_id)
            on_worker = sorted(e for e, n in placed_on.items() if n == worker.node_id)
            print(f"Ray: head + worker node; entity actors on the worker: {', '.join(on_worker) or 'none'}", flush=True)
        running = start_bridge(settings)
        injector = Injector(namespace=settings.namespace, ps_url=ps_url, ps_key=sec.ps_key, ax_url=ax_url,
                            proxies=proxies, crash_dir=crash_dir, pg=pg, storm_size=max(5, orders // 50),
                            cluster=cluster, worker=worker)
        result = asyncio.run(drive(sec, settings, ps_url, ax_url, product_id, ax_before, orders, rate, plan,
                                   injector, drain_timeout))
        result["proxies"] = {k: p.stats for k, p in proxies.items()}
        result["crash_fired"] = not (crash_dir / "after_ax_create").exists()
        result["ray_session_dir"] = session_dir()
        if cluster is not None:
            from runtime.actors import actor_name
            result["entity_actor_nodes"] = {"before": placed_on, "after": {
                e: actor_node(actor_name(e), settings.namespace) for e in placed_on}, "worker": worker.node_id}
        asyncio.run(dump_api(running.url, sec.admin_token, work / "api.json"))
        (work / "secrets.json").write_text(json.dumps(sec.values()), encoding="utf-8")
        (work / "secrets.json").chmod(0o600)
        store = Store(settings.store_url())
        result["stuck_after_check"] = journal_state(store)[0]
        store.close()
        return result
    except BaseException:
        print(f"the campaign failed; its files are in {work}", file=sys.stderr)
        raise
    finally:
        stop_bridge_and_ray(running, cluster)
        for p in proxies.values():
            p.close()
        stop_processes(children)
        pg.close()


async def prepare(sec: Secrets, ps_url: str, ax_url: str) -> tuple[int, dict[str, Any]]:
    """Wait for both sandboxes, link the ordered item, give AX stock; (product id, AX counts before)."""
    import httpx

    from connectors.prestashop import Client, ClientConfig, F
    from runtime.demo import link_catalog

    await wait_http(f"{ps_url}/api/")
    await wait_http(f"{ax_url}/_sandbox/state")
    ps_config = ClientConfig(base_url=ps_url, api_key=sec.ps_key)
    await link_catalog(ps_config, [ITEM])
    async with Client(ps_config) as shop, httpx.AsyncClient(base_url=ax_url, timeout=30) as control:
        (await control.post("/_sandbox/stock", json={"item_id": ITEM, "warehouse": "11", "qty": 10_000_000})
         ).raise_for_status()
        (row,) = await shop.list("products", display=["id"], filters={"reference": F.eq(ITEM)})
        state = (await control.get("/_sandbox/state")).json()["companies"]["DAT"]
    return int(row["id"]), state


async def drive(sec: Secrets, settings: Any, ps_url: str, ax_url: str, product_id: int, ax_before: dict[str, Any],
                orders: int, rate: float, plan: list[Fault], injector: Injector,
                drain_timeout: float) -> dict[str, Any]:
    """The load and the faults, then the drain and the verdict."""
    import httpx

    from connectors.dynamics_ax import AxConfig
    from connectors.dynamics_ax import Client as AxClient
    from connectors.prestashop import Client, ClientConfig
    from runtime.store import Store

    ps_config = ClientConfig(base_url=ps_url, api_key=sec.ps_key, read_timeout=60)
    ax_config = AxConfig(base_url=f"{ax_url}/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT",
                         auth={"mode": "basic", "username": sec.ax_user, "password": sec.ax_password})
    store = Store(settings.store_url())
    async with Client(ps_config) as shop, AxClient(ax_config) as ax, \
            httpx.AsyncClient(base_url=ax_url, timeout=30) as control, \
            httpx.AsyncClient(base_url=ps_url, auth=(sec.ps_key, ""), timeout=30) as ps_control:
        t0 = time.monotonic()
        faults = asyncio.create_task(run_faults(plan, injector, t0))
        settled: dict[str, str] = {}
        bank = asyncio.create_task(run_bank(control, settled))
        placed = await place_all(shop, orders, rate, product_id, front_office=ps_control)
        load_end = time.monotonic()
        print(f"placed {len(placed)} orders in {load_end - t0:.0f} s", flush=True)
        last_fault_end = await faults
        print(f"last fault ended at t={last_fault_end - t0:.0f} s; draining", flush=True)
        verdict, checks = Verdict(), 0
        while True:
            # the drain's time limit runs from the end of the load or of the faults, whichever is
            # later (a long load goes on after the last fault, and its backlog drains after it)
            late = time.monotonic() - max(last_fault_end, load_end) > drain_timeout
            try:
                done = await drained_check(control, ps_control, shop, ax, store, placed, ax_before, orders, late,
                                           settled)
            except Exception as exc:  # noqa: BLE001 - a sandbox or the store busy: look again
                print(f"  drain check failed ({type(exc).__name__}); again in 5 s", flush=True)
                done = None
            if done is not None:
                verdict, summary, checks = done[0] or verdict, done[1], checks + (done[0] is not None)
                if (done[0] is not None and done[0].complete) or late:
                    break
                print(f"  drain t+{time.monotonic() - last_fault_end:5.0f}s: {summary}", flush=True)
            elif late:
                break
            await asyncio.sleep(5.0)
        drained = time.monotonic()
        bank.cancel()
    store.close()
    return report(verdict, orders, rate, drained - t0, drained - last_fault_end, injector, checks)


async def run_bank(control: Any, settled: dict[str, str]) -> None:
    """The customers' bank, until cancelled: every 2 s it posts a payment in AX for each open
    customer transaction (an invoice not settled yet), settling it in full, and records
    ``settled[invoice id] = payment voucher``. AX down or busy: it tries again 2 s later."""
    import httpx

    while True:
        await asyncio.sleep(2.0)
        try:
            response = await control.get("/_sandbox/state")
            if response.status_code != 200:
                continue
            open_trans = response.json()["companies"]["DAT"]["open_customer_transactions"]
            gate = asyncio.Semaphore(8)  # a bank posts many payments at once
            await asyncio.gather(*(_pay(control, str(t["Invoice"]), gate, settled) for t in open_trans))
        except (httpx.HTTPError, ValueError, KeyError) as exc:  # AX down or busy: not the bank's end
            print(f"  bank: {type(exc).__name__}; again in 2 s", flush=True)
            continue


async def _pay(control: Any, invoice: str, gate: asyncio.Semaphore, settled: dict[str, str]) -> None:
    """One customer payment in AX settling ``invoice`` in full (an answer other than 200, e.g.
    settled already or AX down: left for the next round)."""
    async with gate:
        paid = await control.post("/_sandbox/payments", json={"invoice_id": invoice})
    if paid.status_code == 200:
        settled[invoice] = str(paid.json()["voucher"])


async def drained_check(control: Any, ps_control: Any, shop: Any, ax: Any, store: Any, placed: list[dict[str, Any]],
                        ax_before: dict[str, Any], orders: int, force: bool,
                        settled: dict[str, str]) -> tuple[Verdict | None, str]:
    """(the full verdict once AX holds, invoiced and settled every order and the journal is
    idle, else None; a one-line progress summary). The full check reads every order from both
    sandboxes, so it runs only when the cheap counts say it may pass (or ``force``: the drain
    timed out)."""
    state = (await control.get("/_sandbox/state")).json()["companies"]["DAT"]
    in_ax = state["sales_orders"] - ax_before["sales_orders"]
    invoiced = state["invoices"] - ax_before["invoices"]
    unsettled = len(state["open_customer_transactions"])
    stuck, _, _ = await asyncio.to_thread(journal_state, store)
    summary = (f"{in_ax} in AX, {invoiced} invoiced, {len(settled)} settled by the bank, "
               f"journal unfinished {stuck or 0}")
    if (in_ax < orders or invoiced < orders or unsettled or stuck) and not force:
        return None, summary
    emitter = (await ps_control.get("/_sandbox/webhooks")).json()
    verdict = await check(shop, ax, store, placed, emitter, dict(settled))
    problems = verdict.lost + verdict.untracked + verdict.uninvoiced + verdict.duplicates
    return verdict, f"{summary}; {len(problems)} not there yet, e.g. {problems[:2]}"


def report(v: Verdict, orders: int, rate: float, total_s: float, drain_s: float, injector: Injector,
           checks: int) -> dict[str, Any]:
    """Print the figures (module docstring) and return them with the details."""
    # per order: an order is lost when any of its effects is missing, doubled when any is doubled
    duplicates = v.orders_with(v.duplicates)
    lost = v.orders_with(v.lost, v.untracked, v.uninvoiced, v.unpaid)
    stuck = sum(v.stuck.values())
    # every webhook the shop saw acknowledged is journaled; one it gave up on (every attempt's
    # answer lost or refused) may have been journaled too, or is the poller's to find
    delivered, failed = int(v.emitter.get("delivered") or 0), int(v.emitter.get("failed") or 0)
    webhooks_ok = delivered <= v.journal_webhooks <= delivered + failed
    for name, items in (("lost", v.lost), ("untracked", v.untracked), ("uninvoiced", v.uninvoiced),
                        ("unpaid", v.unpaid), ("duplicates", v.duplicates), ("dead", v.dead)):
        for item in items[:10]:
            print(f"  {name}: {item}", flush=True)
    print(f"faults injected: {len(injector.done)}; AX packed {v.packed}, invoiced {v.invoiced} of {v.orders}; "
          f"{v.wire} bank-wire orders, {v.paid_by_ax} of them paid in the shop from AX's settlement")
    print(f"shop webhook emitter: {v.emitter.get('delivered')} delivered, {v.emitter.get('failed')} dropped, "
          f"{v.emitter.get('retries')} retries; journal: {v.journal_webhooks} webhook ids")
    print(f"chaos_orders: {v.orders}")
    print(f"chaos_lost: {lost}")
    print(f"chaos_duplicates: {duplicates}")
    print(f"chaos_stuck: {stuck}")
    print(f"chaos_dead: {len(v.dead)}")
    print(f"chaos_drain_s: {drain_s:.1f}")
    print(f"chaos_throughput_ratio: {orders / total_s / rate:.3f}", flush=True)
    return {"ok": v.complete and not v.dead and webhooks_ok, "orders": v.orders, "lost": lost,
            "duplicates": duplicates, "stuck": stuck, "dead": v.dead, "drain_s": drain_s, "total_s": total_s,
            "details": {"lost": v.lost, "untracked": v.untracked, "uninvoiced": v.uninvoiced, "unpaid": v.unpaid,
                        "duplicates": v.duplicates, "stuck": v.stuck},
            "packed": v.packed, "invoiced": v.invoiced, "wire": v.wire, "paid_by_ax": v.paid_by_ax,
            "settled": v.settled, "emitter": v.emitter, "journal_webhooks": v.journal_webhooks, "webhooks_ok": webhooks_ok,
            "faults": [{"kind": k, "what": w} for _, k, w in injector.done], "checks": checks}


if __name__ == "__main__":
    sys.exit(main())
