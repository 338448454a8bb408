"""Bulk catalog load from the AX sandbox into the PrestaShop sandbox, against the target's capacity.

The shop is given a fixed write latency L and a concurrency cap C (503 beyond it), so it can take
at most C / L writes per second: that is the baseline of this run. Each sandbox runs in its own
process; the driver is this process, on a local Ray.

For two catalog sizes (N / 5, then N) it loads the whole catalog into an empty shop, then re-syncs
it unchanged, and prints:

* achieved writes/s of the load and its ratio to C / L (``bulk_capacity_ratio``);
* the unchanged re-sync's rate: records verified per second, with zero writes, both as a full
  re-read (every item read from AX, mapped and hashed: ``full_resync_rps``) and as
  ``--changed`` (AX change tracking since the last run's start lists what changed, here nothing,
  so the unchanged records are verified without reading them: ``resync_rps``);
* the driver's and the largest task's peak memory after each size (flat as the catalog grows);
* the CPU cost per record of a task in the re-sync (AX decode + map + hash) and the ceiling of one
  node that follows from it (cores / cost);
* the CPU seconds the shop sandbox, the AX sandbox, this driver and the whole machine (other work
  included) spent during each load, against the core-seconds the load lasted: a machine busy all
  the time means the run was CPU-bound, not paced by the limiter;
* for each load, how much of the time the cap's C permits were in a write (the limiter's sum of
  the writes' latencies as their tasks saw them, against C x the load's duration), that latency's
  mean against L, and the tasks' CPU per record written (map + hash + encode + write);
* ``--trace``: the limiter's limit, permits out, ceiling, halvings and served writes/s about every
  second of each load (is the budget below the cap, or are permits out but idle?).

Ends with ``bulk_capacity_ratio: R``, ``full_resync_rps: F`` and ``resync_rps: N`` (of the larger size). Goals: R >= 0.9,
N >= 20,000.

Usage: ``python benchmarks/bulk_catalog.py [--quick] [--items 100000] [--latency-ms 50] [--cap 8]
[--read-part-size 50] [--trace]``
(``--quick``: 10,000 items).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from connectors._serving import free_port  # noqa: E402 - after the path fix for running as a script

KEY = "BENCHKEY0123456789ABCDEFGHIJKLMN"


def _start(args: list[str], url: str, wait_s: float = 600.0) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PRESTA_AX_SANDBOX_PS_KEY=KEY)
    proc = subprocess.Popen([sys.executable, "-m", "runtime.cli", "sandbox", *args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"sandbox {args[0]} did not start")
        time.sleep(0.5)
    raise SystemExit(f"sandbox {args[0]} did not answer")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _machine_busy_s() -> float:
    """CPU seconds all cores spent busy so far (``/proc/stat``; 0 elsewhere): the whole machine."""
    try:
        cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(cpu) - cpu[3] - cpu[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait
    except (OSError, ValueError, IndexError):
        return 0.0


class _Trace:
    """``--trace``: the limiter's state as the driver saves it (about every second) and where the
    load's CPU went, to see whether the budget, the permits' use or the machine limits a run."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.rows, self.t0, self.writes0 = enabled, [], time.monotonic(), 0

    def __call__(self, run: dict[str, Any]) -> None:
        if self.enabled:
            lim = run.get("limiter") or {}
            self.rows.append((time.monotonic() - self.t0, lim.get("limit"), lim.get("in_use"), lim.get("ceiling"),
                              lim.get("halvings"), lim.get("outcomes") or 0))

    def show(self, label: str) -> None:
        if not self.enabled:
            return
        print(f"--- {label}: t_s limit in_use ceiling halvings writes/s (since the line before)")
        last_t, last_w = 0.0, 0
        for t, limit, in_use, ceiling, halvings, writes in self.rows:
            rate = (writes - last_w) / (t - last_t) if t > last_t else 0.0
            print(f"{t:7.1f} {limit} {in_use} {ceiling} {halvings} {rate:7.1f}")
            last_t, last_w = t, writes


def _size(items: int, latency_ms: float, cap: int, tmp: Path, read_part_size: int = 50,
          trace: bool = False) -> dict[str, Any]:
    from connectors.dynamics_ax import AxConfig
    from connectors.prestashop import ClientConfig
    from pipelines.bulk import BulkOptions, run_bulk
    from runtime.demo import write_sandbox_flows
    from runtime.store.bulk_runs import open_bulk_store

    ps_port, ax_port = free_port(), free_port()
    ps = _start(["prestashop", "--port", str(ps_port), "--write-latency-ms", str(latency_ms),
                 "--write-max-concurrency", str(cap)], f"http://127.0.0.1:{ps_port}/_sandbox/health")
    ax = _start(["ax", "--port", str(ax_port), "--seed", "7", "--items", str(items), "--customers", "2",
                 "--open-orders", "0", "--workers", "4"], f"http://127.0.0.1:{ax_port}/_sandbox/state",
               wait_s=600 + items / 100)  # seeding 100,000 items takes minutes on a busy box
    try:
        flows = write_sandbox_flows(tmp / f"flows-{items}")
        url = f"sqlite:///{tmp / f'journal-{items}.db'}"
        ps_config = ClientConfig(base_url=f"http://127.0.0.1:{ps_port}", api_key=KEY)
        ax_config = AxConfig(base_url=f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60", port_name="WebShop",
                             company="DAT")

        def run(changed: bool = False, on_progress: Any = None) -> dict[str, Any]:
            opts = BulkOptions(kind="catalog", flow_dirs=[str(flows)], concurrency=cap, chunk_size=200,
                               changed=changed, read_part_size=read_part_size)
            return asyncio.run(run_bulk(opts, prestashop=ps_config, ax=ax_config, on_progress=on_progress,
                                        store_factory=functools.partial(open_bulk_store, url)))

        tracer = _Trace(trace)
        cpu0 = {"shop": _cpu_s(ps.pid), "ax": _cpu_s(ax.pid), "driver": _cpu_s(os.getpid()),
                "machine": _machine_busy_s()}
        load = run(on_progress=tracer)
        cpu = {k: round(v1 - cpu0[k], 1) for k, v1 in (("shop", _cpu_s(ps.pid)), ("ax", _cpu_s(ax.pid)),
                                                          ("driver", _cpu_s(os.getpid())),
                                                          ("machine", _machine_busy_s()))}
        load["cpu_s"] = cpu
        tracer.show(f"{items:,} items, load")
        resync = run()
        changed = run(changed=True)
    finally:
        for proc in (ps, ax):
            proc.terminate()
            proc.wait(30)
    return {"items": items, "load": load, "resync": resync, "changed": changed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 items instead of 100,000")
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="write latency L of the shop")
    parser.add_argument("--cap", type=int, default=8, help="concurrency cap C of the shop's writes")
    parser.add_argument("--trace", action="store_true",
                        help="print the limiter's limit and permits out about every second of each load")
    parser.add_argument("--read-part-size", type=int, default=50,
                        help="keys per part of a chunk's pipelined read (200 = the whole chunk before its writes)")
    args = parser.parse_args()
    items = args.items or (10_000 if args.quick else 100_000)
    capacity = args.cap / (args.latency_ms / 1000)

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a loopback-only Ray (runtime/local_ray.py)
    os.environ["PYTHONPATH"] = str(ROOT)
    import ray

    cores = os.cpu_count() or 2
    # a Ray of its own even when another one runs on this machine (its figures are this run's only)
    ray.init(address="local", num_cpus=cores, include_dashboard=False, log_to_driver=False)
    tmp = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    try:
        results = [_size(n, args.latency_ms, args.cap, tmp, args.read_part_size, args.trace) for n in (max(items // 5, 1), items)]
    finally:
        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"target: L = {args.latency_ms:g} ms per write, cap C = {args.cap}: capacity C/L = {capacity:,.1f} writes/s")
    for r in results:
        load, resync = r["load"], r["resync"]
        records = resync["records_done"]
        cpu_per_record = resync["task_cpu_s"] / records if records else float("nan")
        print(f"{r['items']:>7,} items: load {load['counts']['created']:,} created in {load['duration_s']:.1f} s = "
              f"{load['writes_per_s']:,.1f} writes/s ({load['writes_per_s'] / capacity:.2f} x C/L; "
              f"limiter {load.get('limiter', {})}); re-sync {resync['counts']['unchanged']:,} unchanged, "
              f"{resync['counts']['writes']} writes in {resync['duration_s']:.1f} s = "
              f"{records / resync['duration_s']:,.0f} records/s; peak memory: driver "
              f"{resync['driver_rss_kb'] / 1024:,.0f} MB, largest task {resync['peak_task_rss_kb'] / 1024:,.0f} MB; "
              f"task CPU {cpu_per_record * 1e6:,.0f} us/record (one {cores}-core node: "
              f"~{cores / cpu_per_record:,.0f} records/s); task time {resync.get('task_timing_s')}")
        print(f"{r['items']:>7,} items: CPU seconds during the load {load['cpu_s']} of "
              f"{cores * load['duration_s']:.0f} core-seconds (the machine figure includes other work)")
        lim = load.get("limiter") or {}
        if lim.get("outcomes") and load["duration_s"]:
            # permit-seconds spent in writes against what the cap offered: near 1, every permit was in
            # a write all the time, and a write as its task saw it is what took longer than L
            print(f"{r['items']:>7,} items: permits in a write {lim['held_s'] / (args.cap * load['duration_s']):.2f} "
                  f"of the time; a write as the task saw it {lim['held_s'] / lim['outcomes'] * 1000:.1f} ms "
                  f"(L = {args.latency_ms:g} ms); task CPU per record written "
                  f"{load['task_cpu_s'] / max(1, load['records_done']) * 1e6:,.0f} us (map + hash + encode + write)")
    for r in results:
        changed = r["changed"]
        verified = r["load"]["records_done"]  # every record of the catalog, verified by AX's change tracking
        print(f"{r['items']:>7,} items: --changed re-sync listed {changed['listed']:,} changed item(s), "
              f"{changed['counts']['writes']} writes in {changed['duration_s']:.2f} s = "
              f"{verified / changed['duration_s']:,.0f} records verified/s")
    big = results[-1]
    print(f"bulk_capacity_ratio: {big['load']['writes_per_s'] / capacity:.3f}")
    print(f"full_resync_rps: {big['resync']['records_done'] / big['resync']['duration_s']:.0f}")
    print(f"resync_rps: {big['load']['records_done'] / big['changed']['duration_s']:.0f}")


if __name__ == "__main__":
    main()
