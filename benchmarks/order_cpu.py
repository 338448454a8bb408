"""CPU the bridge spends per order in the process that runs the order flow, against the CPU of
the same system calls made directly with the connectors, in the same run.

Both sandboxes run as processes of their own, so this process's CPU time (``process_time``: all
its threads) is the client side only. Baseline: for each of ``--orders`` paid orders, the calls
the order flow makes (the shop reads of its extract, the AX customer and sales order creates, the
write-back of the new state) in a row with the connectors. Bridge: the ``ps_order_to_ax`` flow of
the demo (extract, guard, map, validate, load, write-back, with the store's cross-references,
sync state and guard statistics on SQLite) on as many other orders, one after the other. Prints
CPU ms per order of each and the ratio, and the ten functions of the flow's run with the most
CPU (cProfile, ten more orders run apart), to show where the platform's share goes.

With ``--breakers`` the flow's system calls go through the circuit breakers as in an entity
actor (:mod:`runtime.breaker_board`, the state held in this process): their cost on the order path.

Usage: ``python benchmarks/order_cpu.py [--orders 30] [--breakers]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import secrets
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._stack import stop_processes  # noqa: E402
from benchmarks.order_latency import ORDER_ITEM, free_port, start_sandboxes, wait_http  # noqa: E402


class _Ctx:
    """What a flow needs of the worker's context: the store."""

    def __init__(self, store: Any) -> None:
        self.store = store


async def run(orders: int, tmp: Path, ps_port: int, ax_port: int, key: str,
              breakers: bool = False) -> tuple[list[float], list[float], str]:
    from connectors.dynamics_ax import AxConfig
    from connectors.dynamics_ax import Client as AxClient
    from connectors.dynamics_ax.payloads import NewCustomer, NewSalesLine, NewSalesOrder
    from connectors.prestashop import Client, ClientConfig, F, change_order_state
    from pipelines.operations import SystemOperations
    from pipelines.registry import FlowRegistry as YamlRegistry
    from runtime.demo import demo_systems, link_catalog, place_sample_order, write_sandbox_flows
    from runtime.messages import Message
    from runtime.store import AsyncStore, Store
    from runtime.yaml_flows import YamlFlow

    await wait_http(f"http://127.0.0.1:{ps_port}/api/")
    await wait_http(f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc?wsdl")
    systems = demo_systems(ps_port, ax_port, key)
    ps_config, ax_config = ClientConfig(**systems["prestashop"]), AxConfig(**systems["ax"])
    await link_catalog(ps_config, [ORDER_ITEM])
    async with Client(ps_config) as shop, AxClient(ax_config) as ax:
        placed = [await place_sample_order(shop, f"cpu.{secrets.token_hex(4)}@example.com", 1, ORDER_ITEM)
                  for _ in range(2 * orders + 12)]
        base: list[float] = []
        for n, order in enumerate(placed[:orders]):
            c0 = time.process_time()
            full = await shop.get("orders", int(order["id"]))
            customer = await shop.get("customers", int(full["id_customer"]))
            await shop.list("addresses", display="full", filters={"id_customer": F.eq(int(customer["id"]))})
            delivery = await shop.get("addresses", int(full["id_address_delivery"]))
            await shop.get("currencies", int(full["id_currency"]))
            await shop.get("carriers", int(full["id_carrier"]))
            await shop.get("countries", int(delivery["id_country"]))
            account = (await ax.create_customer(NewCustomer(cust_group="WEB", currency="EUR", first_name="Bea",
                                                            last_name="Buyer"), idempotency_key=f"cpu-c-{n}")).key
            await ax.find_sales_order_by_reference(full["reference"])
            await ax.create_sales_order(NewSalesOrder(
                cust_account=account, shop_reference=full["reference"], currency="EUR",
                lines=[NewSalesLine(item_id=ORDER_ITEM, qty=Decimal(1), unit="ea", site="1", warehouse="11")]),
                idempotency_key=f"cpu-o-{n}")
            await change_order_state(shop, int(order["id"]), 3)
            base.append(time.process_time() - c0)

    store = AsyncStore(Store(f"sqlite:///{tmp / 'journal.db'}"))
    ops = SystemOperations(ps_config, ax_config, store)
    if breakers:
        from runtime.breaker_actor import make_board
        from runtime.config import Settings

        ops.breakers = make_board(Settings.model_validate({"systems": systems}))
    flow = YamlFlow(YamlRegistry([write_sandbox_flows(tmp)]).get("ps_order_to_ax"), ops)
    profile = cProfile.Profile(time.process_time)
    bridge: list[float] = []
    for n, order in enumerate(placed[orders:]):
        message = Message(id=f"CPU{n:05d}", entity="order", key=str(order["id"]), source="prestashop",
                          event="order.created", payload={"id": order["id"], "date_upd": order["date_upd"]},
                          idempotency_key=f"cpu:{n}", source_version=order["date_upd"])
        warm = n < 2  # the first runs compile the mappings and open the clients
        profiled = n >= orders + 2  # the last ten: where the time goes (cProfile slows them down)
        c0 = time.process_time()
        if profiled:
            profile.enable()
        await flow.run(_Ctx(store), message)
        if profiled:
            profile.disable()
        elif not warm:
            bridge.append(time.process_time() - c0)
    await ops.aclose()
    store.close()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(10)
    return base, bridge, out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=30)
    ap.add_argument("--breakers", action="store_true", help="call through the circuit breakers")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="presta-ax-cpu-"))
    key = secrets.token_hex(16).upper()
    ps_port, ax_port = free_port(), free_port()
    children = start_sandboxes(tmp, ps_port, ax_port, free_port(), key)
    try:
        base, bridge, profile = asyncio.run(run(args.orders, tmp, ps_port, ax_port, key, args.breakers))
    finally:
        stop_processes(children)
    b, f = statistics.median(base) * 1000, statistics.median(bridge) * 1000
    print(profile.split("\n\n", 1)[-1][:3000])
    print(f"baseline (the calls alone)   CPU per order: median {b:6.1f} ms  (n={len(base)})")
    print(f"bridge (the order flow)      CPU per order: median {f:6.1f} ms  (n={len(bridge)})")
    print(f"order_cpu_ratio: {f / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
