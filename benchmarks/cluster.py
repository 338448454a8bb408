"""The bridge on three hosts (network namespaces on this machine, tests/cluster/hosts.py): webhooks/s
through the head's ingress with 1 and 2 ingress replicas (on different hosts), bulk writes/s with
the tasks on 1, 2 and 3 hosts, the CPU seconds each host spent per webhook and per record, and a
bulk run during which a worker host is killed (every process in it).

On one machine the hosts share its CPUs, so the rates do not grow with hosts; the CPU seconds per
webhook and per record (each host's processes, less what the host spends idle) do not depend on
that and project to real nodes (docs/cluster.md, "Sizing").
Each ratio is against the 1-host / 1-replica figure measured in the same run.

Usage (root, like the multi-host tests): ``python benchmarks/cluster.py [--quick]``
(``--quick``: 60 items and 300 webhooks per measurement instead of 400 and 2,000).
Ends with ``cluster_hosts_used: N`` (hosts on which the 3-host bulk run's tasks ran) and
``cluster_records_lost: N`` (items missing from the shop after the run whose host was killed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.cluster.bridge_support import AX_PORT, start_bridge, wait_http, write_config  # noqa: E402
from tests.cluster.hosts import Host, Hosts, start_postgres, unavailable  # noqa: E402
from tests.cluster.ray_nodes import BIN, host_env, start_head, start_worker  # noqa: E402
from tests.contract.runtime_operations.support import PS_KEY  # noqa: E402
from tests.e2e.support import signed  # noqa: E402

SHOP_PORTS = {"1": 8091, "2": 8092, "3": 8093, "kill": 8094}


def _cpu_s(host: Host) -> float:
    """CPU seconds (user + system) of every live process in the host so far."""
    total = 0
    for pid in host.pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        except (OSError, IndexError, ValueError):
            pass
    return total / 100.0


def _cpu(hosts: Hosts) -> dict[str, float]:
    return {h.ns[-1]: _cpu_s(h) for h in hosts.hosts}


#: CPU seconds per wall second each host spends with nothing to do (Ray's own daemons, the
#: sandboxes, PostgreSQL), measured once; subtracted so that "per record" means the work's own cost
IDLE: dict[str, float] = {}


def _measure_idle(hosts: Hosts, seconds: float = 8.0) -> None:
    before, started = _cpu(hosts), time.monotonic()
    time.sleep(seconds)
    after, elapsed = _cpu(hosts), time.monotonic() - started
    IDLE.update({k: (after[k] - before[k]) / elapsed for k in after})


def _net(before: dict[str, float], after: dict[str, float], elapsed: float) -> dict[str, float]:
    return {k: max(0.0, after[k] - before[k] - IDLE.get(k, 0.0) * elapsed) for k in after}


def _sandboxes(head: Host, items: int) -> None:
    cli, env = str(BIN / "presta-ax"), host_env(head)
    for name, port in SHOP_PORTS.items():
        latency = ["--write-latency-ms", "100"] if name == "kill" else []
        head.spawn([cli, "sandbox", "prestashop", "--host", head.ip, "--port", str(port), "--api-key", PS_KEY,
                    "--seed", "0", *latency], f"shop-{name}.log", env=env)
    head.spawn([cli, "sandbox", "ax", "--host", head.ip, "--port", str(AX_PORT), "--seed", "7", "--items", str(items),
                "--customers", "3", "--open-orders", "0", "--workers", "4", "--auth", "none"], "ax.log", env=env)
    for name, port in SHOP_PORTS.items():
        wait_http(f"http://{head.ip}:{port}/api/", host=head, log=f"shop-{name}.log")
    wait_http(f"http://{head.ip}:{AX_PORT}/", host=head, log="ax.log")


def _db(admin: str) -> str:
    import psycopg

    name = "b_" + uuid.uuid4().hex[:8]
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def _products(ip: str, port: int) -> list[str]:
    body = httpx.get(f"http://{ip}:{port}/api/products", params={"output_format": "JSON", "display": "[reference]"},
                     auth=(PS_KEY, ""), timeout=60).json()
    return [p["reference"] for p in (body.get("products", []) if isinstance(body, dict) else [])]


def _sync(hosts: Hosts, shared: Path, admin: str, run: str, resource: str, victim: Host | None = None) -> dict[str, Any]:
    """One ``presta-ax sync catalog`` in the head host into shop ``run``; its run record, plus
    ``cpu`` (seconds per host) and, with ``victim``, the host killed once a quarter is written."""
    head = hosts[0]
    config = write_config(shared, f"bulk-{run}", store_url=_db(admin), sandbox_ip=head.ip, shop_port=SHOP_PORTS[run],
                          namespace=f"bench-bulk-{run}",
                          placement={"bulk_resource": resource, "actor_resource": "presta_ax_worker"})
    before, started = _cpu(hosts), time.monotonic()
    log = f"sync-{run}.log"
    proc = head.spawn([str(BIN / "presta-ax"), "sync", "catalog", "--config", str(config), "--address", "auto",
                       "--chunk-size", "10", "--concurrency", "8", "--json"], log, env=host_env(head, head.ip))
    if victim is not None:
        while proc.poll() is None and len(_products(head.ip, SHOP_PORTS[run])) < 15:
            time.sleep(0.3)
        victim.kill_all()
    if proc.wait(timeout=1800) != 0:
        raise SystemExit(f"sync {run} failed:\n{head.log(log)}")
    after = _cpu(hosts)
    lines = (head.root / log).read_text().splitlines()
    record, _ = json.JSONDecoder().raw_decode("\n".join(lines[lines.index("{"):]))
    record["cpu"] = _net(before, after, time.monotonic() - started)
    return record


async def _send(url: str, n: int, concurrency: int = 32) -> float:
    """Send ``n`` signed webhooks, ``concurrency`` at a time; webhooks/s."""
    queue = list(range(n))
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        async def worker() -> None:
            while queue:
                i = queue.pop()
                body, headers = signed("order.created", {"resource": "orders", "id": 10_000 + i, "reference": f"B{i}",
                                                         "date_upd": "2026-01-01 00:00:00", "current_state": "2"})
                while (await http.post("/webhooks/prestashop", content=body, headers=headers)).status_code >= 300:
                    await asyncio.sleep(0.05)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - started)


def _ingest(hosts: Hosts, shared: Path, admin: str, n: int) -> dict[int, dict[str, Any]]:
    head = hosts[0]
    config = write_config(shared, "ingest", store_url=_db(admin), sandbox_ip=head.ip, namespace="bench-ingest",
                          placement={"ingress_resource": "bench_ing", "actor_resource": "presta_ax_worker"})
    url = start_bridge(head, config, log="bridge.log")
    asyncio.run(_send(url, min(n, 100)))  # warm-up
    out = {}
    for replicas in (1, 2):
        # 1 replica: on the head; 2: one on the head, one on a worker (bench_ing: one unit per host)
        resource = "presta_ax_head" if replicas == 1 else "bench_ing"
        head.run([sys.executable, str(ROOT / "benchmarks" / "_cluster_ingress.py"), str(config), str(replicas), resource],
                 env=host_env(head, head.ip), timeout=300)
        wait_http(url + "/healthz", host=head, log="bridge.log")
        before, started = _cpu(hosts), time.monotonic()
        rate = asyncio.run(_send(url, n))
        after = _cpu(hosts)
        out[replicas] = {"rate": rate, "cpu": _net(before, after, time.monotonic() - started)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 items and 300 webhooks per measurement")
    args = parser.parse_args()
    why = unavailable()
    if why:
        print(f"cluster benchmark skipped: {why}")
        return
    items, webhooks = (60, 300) if args.quick else (400, 2000)
    # hosts.client(): this process talks to the hosts from the harness' switch namespace (no
    # address of ours in the machine's own namespace); commands run in a host via `ip netns exec`
    with Hosts(3) as hosts, hosts.client():
        a, b, c = hosts.hosts
        # bench_K: the hosts bulk tasks may use in the K-host run; bench_ing: one ingress replica per host
        start_head(a, resources={"presta_ax_head": 1000, "bench_1": 1000, "bench_2": 1000, "bench_3": 1000,
                                 "bench_ing": 1})
        start_worker(b, a.ip, resources={"presta_ax_worker": 1000, "bench_2": 1000, "bench_3": 1000, "bench_ing": 1})
        start_worker(c, a.ip, resources={"presta_ax_worker": 1000, "bench_3": 1000})
        admin = start_postgres(a)
        _sandboxes(a, items)
        _measure_idle(hosts)
        shared = hosts.scratch / "shared"
        print(f"cluster: 3 hosts x 1 Ray CPU on one machine ({'quick run; ' if args.quick else ''}{items} items per bulk "
              f"run, {webhooks} webhooks per ingest measurement); idle CPU per host (subtracted below): "
              + ", ".join(f"host {k}: {v * 1000:.0f} ms/s" for k, v in IDLE.items()), flush=True)

        runs = {k: _sync(hosts, shared, admin, k, f"bench_{k}") for k in ("1", "2", "3")}
        base = None
        for k, run in runs.items():
            written = sum(run["counts"].get(x, 0) for x in ("created", "updated"))
            rate = written / run["duration_s"] if run.get("duration_s") else 0.0
            base = base or rate
            per = ", ".join(f"host {h}: {cpu / max(written, 1) * 1000:.2f} ms" for h, cpu in run["cpu"].items())
            print(f"bulk_writes_per_s_{k}_host{'s' if k != '1' else ''}: {rate:.1f} (ratio vs 1 host: {rate / base:.2f}; "
                  f"tasks on {len(run['nodes'])} host(s); CPU per record {per})", flush=True)

        ingest = _ingest(hosts, shared, admin, webhooks)
        for replicas, m in ingest.items():
            per = ", ".join(f"host {h}: {cpu / webhooks * 1000:.2f} ms" for h, cpu in m["cpu"].items())
            print(f"ingest_webhooks_per_s_{replicas}_replica{'s' if replicas > 1 else ''}: {m['rate']:.0f} "
                  f"(ratio vs 1 replica: {m['rate'] / ingest[1]['rate']:.2f}; CPU per webhook {per})", flush=True)

        killed = _sync(hosts, shared, admin, "kill", "bench_3", victim=c)
        refs = _products(a.ip, SHOP_PORTS["kill"])
        print(f"killed-host run: status {killed['status']}, {len(refs)} products ({len(set(refs))} distinct) "
              f"of {items} items")
        print(f"cluster_hosts_used: {len(runs['3']['nodes'])}")
        print(f"cluster_records_lost: {items - len(set(refs))}")


if __name__ == "__main__":
    main()
