"""The chaos campaign's faults: a seeded schedule and the code that injects each fault.

:func:`schedule` spreads every fault kind of :data:`KINDS` over the load window at times drawn
from ``random.Random(seed)``: the same seed and window give the same schedule. :class:`Injector`
carries them out against the running bridge (Ray actors, the Serve replica, the worker node), the sandboxes'
fault controls, the TCP proxies in front of the sandboxes, the crash hook of
:mod:`pipelines.operations` and the PostgreSQL server of the store; each call returns a short
description for the run's log (never a secret: the shop key only goes into request headers).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "Fault", "Injector", "schedule"]

#: fault kind -> how many times it happens in one campaign
KINDS = {
    "kill_order_actor": 2, "kill_shipment_actor": 1, "kill_customer_actor": 1, "kill_dispatcher": 1,
    "kill_replica": 1, "ax_down": 1, "ps_storm": 1, "cut_ps": 2, "cut_ax": 2, "stall_ps": 1,
    "stall_ax": 1, "crash_after_ax_create": 1, "store_restart": 1,
}


@dataclass(order=True)
class Fault:
    at: float  # seconds after the load started
    kind: str = field(compare=False)
    seconds: float = field(default=0.0, compare=False)  # how long it lasts, where it lasts


def schedule(seed: int, window_s: float, ax_down_s: float, stall_s: float = 6.0,
             node_loss: bool = False) -> list[Fault]:
    """Every fault of :data:`KINDS` (and ``remove_worker_node`` when ``node_loss``), at seeded
    times within the middle 80 % of ``window_s``; the AX outage starts early enough to end inside
    the window."""
    rng = random.Random(seed)
    out = []
    kinds = {**KINDS, **({"remove_worker_node": 1} if node_loss else {})}
    for kind, n in kinds.items():
        for _ in range(n):
            if kind == "ax_down":
                latest = max(0.1 * window_s, 0.9 * window_s - ax_down_s)
                out.append(Fault(rng.uniform(0.1 * window_s, latest), kind, ax_down_s))
            else:
                seconds = stall_s if kind.startswith("stall") else (3.0 if kind == "store_restart" else 0.0)
                out.append(Fault(rng.uniform(0.1 * window_s, 0.9 * window_s), kind, seconds))
    return sorted(out)


class Injector:
    """Carries out one :class:`Fault` at a time (see the module docstring)."""

    def __init__(self, *, namespace: str, ps_url: str, ps_key: str, ax_url: str, proxies: dict[str, Any],
                 crash_dir: Path, pg: Any, storm_size: int, cluster: Any = None, worker: Any = None) -> None:
        self.namespace, self.ps_url, self.ps_key, self.ax_url = namespace, ps_url, ps_key, ax_url
        self.cluster, self.worker = cluster, worker
        self.proxies, self.crash_dir, self.pg, self.storm_size = proxies, crash_dir, pg, storm_size
        self.done: list[tuple[float, str, str]] = []  # (monotonic time, kind, what happened)

    async def inject(self, fault: Fault) -> str:
        what = await getattr(self, "_" + fault.kind.split("_")[0])(fault)
        self.done.append((time.monotonic(), fault.kind, what))
        return what

    async def _kill(self, fault: Fault) -> str:
        import ray

        from runtime.actors import actor_name
        from runtime.server import APP_NAME

        target = fault.kind.removeprefix("kill_")
        if target == "replica":
            names = [a for a in ray.util.list_named_actors(all_namespaces=True)
                     if "SERVE_REPLICA" in a["name"] and APP_NAME in a["name"]]
            for a in names:  # Serve starts a new replica
                ray.kill(ray.get_actor(a["name"], namespace=a["namespace"]), no_restart=True)
            return f"killed {len(names)} Serve replica(s)"
        name = "dispatcher" if target == "dispatcher" else actor_name(target.removesuffix("_actor"))
        try:
            ray.kill(ray.get_actor(name, namespace=self.namespace), no_restart=False)  # a crash: Ray restarts it
        except ValueError:
            return f"{name} not running yet"
        return f"killed {name}"

    async def _ax(self, fault: Fault) -> str:
        import httpx

        async with httpx.AsyncClient(base_url=self.ax_url, timeout=10) as c:
            (await c.post("/_sandbox/faults", json={"outage": True})).raise_for_status()
            await asyncio.sleep(fault.seconds)
            (await c.post("/_sandbox/faults", json={"outage": False})).raise_for_status()
        return f"AX down for {fault.seconds:.0f} s (IIS answers 503)"

    async def _ps(self, fault: Fault) -> str:
        import httpx

        storm = {"unavailable_next": self.storm_size, "throttled_next": self.storm_size, "retry_after_s": 2}
        async with httpx.AsyncClient(base_url=self.ps_url, auth=(self.ps_key, ""), timeout=10) as c:
            (await c.put("/_sandbox/faults", json=storm)).raise_for_status()
        return f"shop storm: next {self.storm_size} requests 503, then {self.storm_size} 429, Retry-After 2"

    async def _cut(self, fault: Fault) -> str:
        proxy = self.proxies[fault.kind.removeprefix("cut_")]
        before = proxy.stats["cut_connections"]
        proxy.cut()
        await asyncio.sleep(0.05)
        return f"cut {proxy.stats['cut_connections'] - before} connection(s) to {fault.kind[4:]}"

    async def _stall(self, fault: Fault) -> str:
        self.proxies[fault.kind.removeprefix("stall_")].stall(fault.seconds)
        return f"stalled {fault.kind[6:]} connections for {fault.seconds:.0f} s"

    async def _crash(self, fault: Fault) -> str:
        (self.crash_dir / "after_ax_create").touch()  # the hook removes it as it fires
        return "armed the crash between the AX create and the cross-reference write"

    async def _remove(self, fault: Fault) -> str:
        if self.cluster is None:
            return "no worker node to remove (one-node run)"
        # not graceful: its raylet and every worker on it are killed, as when a machine dies
        await asyncio.to_thread(self.cluster.remove_node, self.worker, False)
        return "removed the Ray worker node (entity actors restart on the head)"

    async def _store(self, fault: Fault) -> str:
        await asyncio.to_thread(self.pg.stop)
        await asyncio.sleep(fault.seconds)
        await asyncio.to_thread(self.pg.start)
        return f"PostgreSQL stopped (immediate) and started again after {fault.seconds:.0f} s"
