"""Calls an AX outage costs AX, with and without the circuit breaker, in the same run.

Both sandboxes run as processes of their own; the order flow (``ps_order_to_ax``) runs in this
process in an :class:`runtime.worker.EntityWorker` driven by a small due-loop (what the
dispatcher does), on SQLite. For each mode: AX's IIS answers 503 to every call (the sandbox's
``error_rate: 1``) for ``--outage`` seconds while ``--orders`` orders arrive; then AX is back and
the run waits until every order is done. The retry and breaker settings are the production
defaults scaled by ``outage / 60`` (so a short run behaves like a 60 s outage with the real
settings). Prints, per mode, the SOAP calls AX received during the outage (the AX sandbox's own
counter), the time from AX's return until the last order was done, attempts used and
deferrals, and ``breaker_outage_call_ratio`` (calls with the breaker / calls without).
Every order must end ``done`` in both modes (nothing dead), or the script fails.

Usage: ``python benchmarks/breaker_outage.py [--orders 20] [--outage 60] [--quick]``
(``--quick``: 8 orders, 12 s).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._stack import stop_processes  # noqa: E402
from benchmarks.order_latency import ORDER_ITEM, free_port, start_sandboxes, wait_http  # noqa: E402


async def one_mode(breakers: bool, orders: int, outage_s: float, tmp: Path, ps_port: int, ax_port: int,
                   key: str) -> dict[str, Any]:
    import httpx

    from connectors.prestashop import Client, ClientConfig
    from pipelines.operations import SystemOperations
    from pipelines.registry import FlowRegistry as YamlRegistry
    from runtime.breaker_actor import make_board
    from runtime.config import Settings
    from runtime.demo import demo_systems, place_sample_order, write_sandbox_flows
    from runtime.flows import FlowRegistry
    from runtime.messages import Message
    from runtime.retry import RetryPolicy
    from runtime.store import AsyncStore, Store
    from runtime.worker import EntityWorker
    from runtime.yaml_flows import YamlFlow

    scale = outage_s / 60.0
    systems = demo_systems(ps_port, ax_port, key)
    settings = Settings.model_validate({"systems": systems, "breakers": {
        "cooldown_s": 30.0 * scale, "spread_s": 5.0 * scale, "state_ttl_s": 0.5}})
    mode = "breaker" if breakers else "no_breaker"
    store = AsyncStore(Store(f"sqlite:///{tmp / f'{mode}.db'}", grace_s=0.0))
    ops = SystemOperations(settings.systems.prestashop, settings.systems.ax, store)
    board = make_board(settings) if breakers else None
    ops.breakers = board
    registry = FlowRegistry()
    registry.register("order", "order.created",
                      YamlFlow(YamlRegistry([write_sandbox_flows(tmp / mode)]).get("ps_order_to_ax"), ops))
    worker = EntityWorker("order", store, registry, RetryPolicy(1.0 * scale, 300.0 * scale, 8, random.Random(5)),
                          lease_s=60, breakers=board)
    ax_control = httpx.AsyncClient(base_url=f"http://127.0.0.1:{ax_port}", timeout=10)

    async def ax_calls() -> int:
        return int((await ax_control.get("/_sandbox/state")).json()["calls"])

    async def dispatch() -> None:  # what the dispatcher does each tick
        due = await store.due(500)
        await asyncio.gather(*(worker.nudge(k) for _, k, _ in due))

    ids: list[str] = []
    async with Client(ClientConfig(**systems["prestashop"])) as shop, ax_control:
        placed = [await place_sample_order(shop, f"outage.{secrets.token_hex(4)}@example.com", 1, ORDER_ITEM)
                  for _ in range(orders)]
        await ax_control.post("/_sandbox/faults", json={"error_rate": 1.0})
        before = await ax_calls()
        loop = asyncio.get_running_loop()
        end = loop.time() + outage_s
        for n, order in enumerate(placed):
            msg = Message(id=f"{mode}{n:05d}", entity="order", key=str(order["id"]), source="prestashop",
                          event="order.created", payload={"id": order["id"], "date_upd": order["date_upd"]},
                          idempotency_key=f"{mode}:{n}", source_version=order["date_upd"])
            ids.append((await store.append(msg))[0])
        while loop.time() < end:
            await dispatch()
            await asyncio.sleep(0.2)
        during = await ax_calls() - before
        await ax_control.post("/_sandbox/faults", json={"error_rate": 0.0})
        back = loop.time()
        while True:
            msgs = [await store.get(i) for i in ids]
            if all(m.status in ("done", "dead") for m in msgs):
                break
            await dispatch()
            await asyncio.sleep(0.2)
        drain = loop.time() - back
    timelines = [await store.timeline(i) for i in ids]
    await ops.aclose()
    store.close()
    return {"mode": mode, "calls": during, "drain_s": drain, "dead": sum(m.status == "dead" for m in msgs),
            "attempts": sum(m.attempts for m in msgs),
            "deferred": sum(e["kind"] == "deferred" for t in timelines for e in t)}


async def run(orders: int, outage_s: float, tmp: Path, ps_port: int, ax_port: int, key: str) -> list[dict[str, Any]]:
    from runtime.demo import demo_systems, link_catalog

    await wait_http(f"http://127.0.0.1:{ps_port}/api/")
    await wait_http(f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc?wsdl")
    from connectors.prestashop import ClientConfig

    await link_catalog(ClientConfig(**demo_systems(ps_port, ax_port, key)["prestashop"]), [ORDER_ITEM])
    return [await one_mode(b, orders, outage_s, tmp, ps_port, ax_port, key) for b in (False, True)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=20)
    ap.add_argument("--outage", type=float, default=60.0, help="seconds AX is down")
    ap.add_argument("--quick", action="store_true", help="8 orders, a 12 s outage")
    args = ap.parse_args()
    orders, outage = (8, 12.0) if args.quick else (args.orders, args.outage)
    tmp = Path(tempfile.mkdtemp(prefix="presta-ax-outage-"))
    key = secrets.token_hex(16).upper()
    ps_port, ax_port = free_port(), free_port()
    children = start_sandboxes(tmp, ps_port, ax_port, free_port(), key)
    t0 = time.monotonic()
    try:
        results = asyncio.run(run(orders, outage, tmp, ps_port, ax_port, key))
    finally:
        stop_processes(children)
    for r in results:
        print(f"{r['mode']:<11} AX calls during a {outage:g} s outage: {r['calls']:4d}   drain after it: "
              f"{r['drain_s']:5.1f} s   attempts used: {r['attempts']:3d}   deferred: {r['deferred']:3d}   "
              f"dead: {r['dead']}")
    base, guarded = results
    print(f"orders: {orders}, run time {time.monotonic() - t0:.0f} s")
    print(f"breaker_outage_call_ratio: {guarded['calls'] / max(1, base['calls']):.2f}")
    return 1 if any(r["dead"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
