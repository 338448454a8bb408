"""Durable webhook ingest vs a bare Serve endpoint, in both Serve modes and on both stores.

Each Serve mode (``default``: Serve's Python proxy; ``fast``: HAProxy ingress + throughput-
optimized, runtime/fast_mode.py) runs in a child process with its own local Ray (the mode is
read once, when Ray starts). In it, one deployment per endpoint with the same options (0.25 CPU,
access log off): ``bare`` (reads the body, answers 202) and the bridge's durable endpoint on
SQLite (WAL) and on PostgreSQL (a throw-away server started here, as tests/pg.py does). The
load generator is Debian's ``wrk`` (C, 2 threads, keep-alive) with a Lua script that cycles
through pre-signed webhooks with unique ids, each a new version of one of 5,000 orders (a new
``date_upd``; ``--same-version`` keeps one version per order, so most webhooks bring a version
another webhook already brought), so every request to a durable endpoint is verified, decoded and
committed to the journal before its 202. Scheduling is left out
(``server.nudge: false``, no dispatcher): the figure is ingest alone. Rounds alternate the
endpoints to spread machine noise; the best round of each is printed (req/s, p50, p99).
Ends with ``ingest_rps: N`` (durable, fast mode, SQLite) and ``ingest_ratio: R`` (durable /
bare, fast mode, SQLite), the ratio against a baseline measured in the same run.

``--soak``: 100,000 signed webhooks (``--soak-n``) at full speed into the durable endpoint
(fast mode, SQLite) over 16 keep-alive connections, then every accepted ``202`` must be in the
journal exactly once and nothing refused (benchmarks/_soak.py); prints the replica's peak RSS
after 10,000 and at the end. Exit code 1 when anything was lost, doubled or refused.

Usage: ``python benchmarks/ingest.py [--seconds 8] [--connections 16] [--quick]
[--modes default,fast] [--stores sqlite,postgresql] [--same-version] [--soak [--soak-n 100000]]``
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a loopback-only Ray (runtime/local_ray.py)

SECRET = "whsec_YmVuY2htYXJrLXNlY3JldC1iZW5jaG1hcms="
LUA = r"""
local reqs = {}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  local path, nthreads, prefix = args[1], tonumber(args[2]), args[3]
  local all = {}
  for line in io.lines(path) do all[#all + 1] = line end
  local per = math.floor(#all / nthreads)
  local first = tid * per + 1
  for i = first, first + per - 1 do
    local id, ts, sig, body = all[i]:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
    reqs[#reqs + 1] = wrk.format("POST", prefix .. "/webhooks/prestashop", {
      ["Content-Type"] = "application/json", ["webhook-id"] = id,
      ["webhook-timestamp"] = ts, ["webhook-signature"] = sig }, body)
  end
  idx = 0
end
function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end
"""
#: endpoint name -> (route prefix, store)
ENDPOINTS = {"bare": ("/bare", "-"), "sqlite": ("/sqlite", "sqlite"), "postgresql": ("/pg", "postgresql")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def date_upd(i: int, same_version: bool) -> str:
    """The ``date_upd`` of the ``i``-th webhook: a new version each (a flood of changes), or
    with ``same_version`` one version per order id (``--same-version``: most webhooks then bring
    a version another webhook already brought, the journal's slower path)."""
    base = datetime.datetime(2026, 11, 26, 10, 0, 0)
    return (base if same_version else base + datetime.timedelta(seconds=i)).strftime("%Y-%m-%d %H:%M:%S")


def write_requests(path: Path, n: int, tag: str, same_version: bool = False, first: int = 0) -> None:
    """``n`` signed webhooks with ids ``bench_<tag>_<i>``; versions counted from ``first``."""
    from connectors.prestashop.signing import sign

    ts = int(time.time())
    with path.open("w") as f:
        for i in range(n):
            body = json.dumps({"type": "order.created", "timestamp": ts, "data": {
                "id": i % 5000 + 1, "reference": f"XKBKNABJK{i}", "total_paid": "123.40",
                "date_upd": date_upd(first + i, same_version)}}, separators=(",", ":"))
            wid = f"bench_{tag}_{i}"
            f.write(f"{wid}\t{ts}\t{sign(SECRET, wid, ts, body.encode())}\t{body}\n")


def run_wrk(base: str, prefix: str, seconds: int, connections: int, lua: Path, reqs: Path) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua),
                          base, "--", str(reqs), "2", prefix], capture_output=True, text=True, check=True).stdout

    def lat(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"requests": int(total.group(1)) if total else 0, "rps": float(rps.group(1)) if rps else 0.0,
            "p50_ms": lat("50"), "p99_ms": lat("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0}


# ------------------------------------------------------------------ child: one Serve mode

def _start(port: int, stores: dict[str, str], tmp: Path, with_bare: bool = True) -> None:
    """Local Ray + Serve with the bare endpoint and one durable endpoint per store URL."""
    import ray
    from ray import serve
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from runtime.config import Settings
    from runtime.serve_app import bridge_application
    from runtime.store import Store
    from runtime.wire import to_wire

    ray.init("local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port}, logging_config={"enable_access_log": False})

    async def bare(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"message_id": "bare"}, status_code=202)

    @serve.deployment(max_ongoing_requests=256, ray_actor_options={"num_cpus": 0.25})
    @serve.ingress(Starlette(routes=[Route("/webhooks/prestashop", bare, methods=["POST"])]))
    class Bare:
        pass

    if with_bare:
        serve.run(Bare.bind(), name="bare", route_prefix="/bare", blocking=False)
    for name, url in stores.items():
        settings = Settings.model_validate({
            "data_dir": str(tmp / "data"), "namespace": f"bench-{name}", "store": {"url": url},
            "server": {"port": port, "webhook_secrets": [SECRET], "admin_token": "x", "nudge": False}})
        Store(url).close()  # migrate once, before the replica
        serve.run(bridge_application(to_wire(settings), "x"), name=name, route_prefix=ENDPOINTS[name][0],
                  blocking=False)


def _replica_cpu_s(app: str) -> float:
    """CPU seconds (user + system) used so far by the Serve replicas of ``app`` (Linux ``/proc``)."""
    from benchmarks._soak import replica_pids

    total = 0.0
    for pid in replica_pids(app):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _journaled(url: str) -> int:
    from runtime.store import Store

    store = Store(url)
    try:
        return sum(sum(v.values()) for v in store.counts().values())
    finally:
        store.close()


def _mean_batch(url: str) -> float:
    """Messages per group commit: the messages of one ``append_many`` share its ``updated_at``."""
    from runtime.store import Store

    store = Store(url)
    try:
        with store.backend.read() as cur:
            cur.execute("SELECT COUNT(*), COUNT(DISTINCT updated_at) FROM messages")
            n, batches = cur.fetchone()
        return float(n) / max(1, int(batches))
    finally:
        store.close()


def child(args: argparse.Namespace) -> int:
    import ray

    tmp = Path(tempfile.mkdtemp(prefix="presta-ax-bench-"))
    port = free_port()
    stores = {"sqlite": f"sqlite:///{tmp / 'journal.db'}"}
    if args.pg_url:
        stores["postgresql"] = args.pg_url
    stores = {k: v for k, v in stores.items() if k in args.stores.split(",")}
    lua = tmp / "signed.lua"
    lua.write_text(LUA)
    results: dict[str, list[dict[str, float]]] = {}
    try:
        _start(port, stores, tmp)
        for round_ in range(args.rounds):
            for name in ["bare", *stores]:
                reqs = tmp / f"reqs-{name}-{round_}.tsv"
                write_requests(reqs, 60_000, f"{name}{round_}", args.same_version, first=60_000 * round_)
                cpu = _replica_cpu_s(name)
                r = run_wrk(f"http://127.0.0.1:{port}", ENDPOINTS[name][0], args.seconds, args.connections, lua, reqs)
                r["replica_cpu_us"] = (_replica_cpu_s(name) - cpu) / max(1, r["requests"]) * 1e6
                results.setdefault(name, []).append(r)
        out: dict[str, Any] = {"best": {n: max(rs, key=lambda r: r["rps"]) for n, rs in results.items()}}
        out["cpu"] = {n: min(r["replica_cpu_us"] for r in rs) for n, rs in results.items()}
        out["answered"] = {n: sum(r["requests"] for r in rs) for n, rs in results.items() if n != "bare"}
        out["journaled"] = {n: _journaled(url) for n, url in stores.items()}
        out["batch"] = {n: _mean_batch(url) for n, url in stores.items()}
        print("RESULT " + json.dumps(out), flush=True)
    finally:
        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def soak_child(args: argparse.Namespace) -> int:
    import ray

    from benchmarks._soak import check_journal, journal_rows, make_webhooks, replica_memory, send_all
    from runtime.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="presta-ax-soak-"))
    port = free_port()
    url = f"sqlite:///{tmp / 'journal.db'}"
    try:
        _start(port, {"sqlite": url}, tmp, with_bare=False)
        requests = make_webhooks(SECRET, args.soak_n, uuid.uuid4().hex[:6], f"127.0.0.1:{port}",
                                 path="/sqlite/webhooks/prestashop")
        memory: dict[str, dict[str, float]] = {"start": replica_memory("sqlite")}
        step = max(1, args.soak_n // 10)

        def progress(done: int) -> None:
            if done == min(10_000, args.soak_n):
                memory["10k"] = replica_memory("sqlite")
            if done % step == 0:
                print(f"  {done:>7} answered", flush=True)
        started = time.monotonic()
        answers = asyncio.run(send_all("127.0.0.1", port, requests, connections=args.connections, on_progress=progress))
        seconds = time.monotonic() - started
        memory["end"] = replica_memory("sqlite")
        store = Store(url)
        try:
            problems = check_journal(answers, journal_rows(store))
        finally:
            store.close()
        accepted = sum(1 for a in answers if a.status in (200, 202))
        retried = sum(1 for a in answers if a.retries)
        print(f"soak: {len(answers)} webhooks sent in {seconds:.1f} s ({len(answers) / seconds:.0f}/s over "
              f"{args.connections} connections), {accepted} accepted, {retried} re-sent after a connection error")
        print(f"soak: replica RSS {memory['start']['rss_mb']:.0f} MB at start, {memory['10k']['rss_mb']:.0f} MB "
              f"(peak {memory['10k']['peak_rss_mb']:.0f} MB) after {min(10_000, args.soak_n)}, "
              f"{memory['end']['rss_mb']:.0f} MB (peak {memory['end']['peak_rss_mb']:.0f} MB) after {len(answers)}")
        print("soak: every accepted webhook is in the journal exactly once, nothing refused" if not problems else
              "soak: PROBLEMS: " + "; ".join(problems))
        print(f"soak_peak_rss_mb_10k: {memory['10k']['peak_rss_mb']:.0f}")
        print(f"soak_peak_rss_mb_end: {memory['end']['peak_rss_mb']:.0f}")
        print(f"soak_lost_or_doubled: {len(problems)}")
        return 1 if problems else 0
    finally:
        ray.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ parent

def mode_env(mode: str) -> dict[str, str] | None:
    """The child's environment for ``mode``; None when the fast mode cannot run here."""
    from runtime.fast_mode import choose_ingress

    base = {k: v for k, v in os.environ.items() if not k.startswith("RAY_SERVE_")}
    if mode == "default":
        return {**base, "RAY_SERVE_ENABLE_HA_PROXY": "0", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "0"}
    ports = {n: str(free_port()) for n in ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT",
                                           "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT")}
    chosen = choose_ingress({**base, **ports})
    if not chosen.fast:
        print(f"fast mode skipped: {chosen.note}", file=sys.stderr)
        return None
    # the child exits with ray.shutdown; a short drain keeps it from waiting Ray's 30 s
    return {**base, **ports, **chosen.env, "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "0.5"}


def run_child(mode: str, argv: list[str]) -> dict[str, Any] | None:
    env = mode_env(mode)
    if env is None:
        return None
    run = subprocess.run([sys.executable, __file__, "--child", mode, *argv], env=env, capture_output=True, text=True)
    for line in run.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT "):]))
    print(f"the {mode} mode did not finish (exit {run.returncode}):\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}",
          file=sys.stderr)
    return None


def _pg_server(stores: list[str]) -> Any:
    import contextlib

    if "postgresql" not in stores:
        return contextlib.nullcontext(None)
    from tests.pg import postgres_server

    try:
        from tests.pg import _bindir
        _bindir()
    except RuntimeError as exc:
        print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        return contextlib.nullcontext(None)
    return postgres_server()


def _fresh_database(admin_url: str) -> str:
    import psycopg

    name = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="3-second windows, one round")
    ap.add_argument("--modes", default="default,fast")
    ap.add_argument("--stores", default="sqlite,postgresql")
    ap.add_argument("--same-version", action="store_true",
                    help="one date_upd per order id (the data of the first figures) instead of a new version each")
    ap.add_argument("--soak", action="store_true", help="the soak instead of the throughput runs")
    ap.add_argument("--soak-n", type=int, default=100_000)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--pg-url", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.rounds = 3, 1
    if args.child:
        return soak_child(args) if args.soak else child(args)
    if args.soak:
        env = mode_env("fast")
        if env is None:
            return 2
        return subprocess.call([sys.executable, __file__, "--child", "fast", "--soak", "--soak-n", str(args.soak_n),
                                "--connections", str(args.connections)], env=env)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

    modes = [m for m in ("default", "fast") if m in args.modes.split(",")]
    results: dict[str, dict[str, Any]] = {}
    with _pg_server(args.stores.split(",")) as pg_admin:
        for mode in modes:
            argv = ["--seconds", str(args.seconds), "--connections", str(args.connections),
                    "--rounds", str(args.rounds), "--stores", args.stores] + (["--same-version"] * args.same_version)
            if pg_admin:
                argv += ["--pg-url", _fresh_database(pg_admin)]
            r = run_child(mode, argv)
            if r is not None:
                results[mode] = r
    print(f"{'mode':8s} {'endpoint':9s} {'store':11s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s}  non-2xx  "
          "replica µs CPU/request (lowest round)")
    for mode, r in results.items():
        for name, b in r["best"].items():
            endpoint, store = ("bare", "-") if name == "bare" else ("durable", name)
            print(f"{mode:8s} {endpoint:9s} {store:11s} {b['rps']:9.1f} {b['p50_ms']:8.2f} {b['p99_ms']:8.2f}  "
                  f"{b['non2xx'] + b['socket_errors']:7d}  {r['cpu'][name]:8.0f}")
        for name, n in r["journaled"].items():
            print(f"  {mode}/{name}: {r['answered'][name]} answers counted by wrk in its windows, {n} messages in "
                  "the journal (requests in flight when a window closed are journaled but not counted), "
                  f"{r['batch'][name]:.1f} messages per group commit on average")
    for mode, r in results.items():
        b = r["best"]
        if "sqlite" in b and "bare" in b:
            print(f"ingest_ratio_{mode}: {b['sqlite']['rps'] / b['bare']['rps']:.2f}")
        if "postgresql" in b and "bare" in b:
            print(f"ingest_ratio_{mode}_postgresql: {b['postgresql']['rps'] / b['bare']['rps']:.2f}")
        if "sqlite" in r["cpu"] and r["cpu"].get("bare"):
            print(f"ingest_cpu_ratio_{mode}: {r['cpu']['bare'] / r['cpu']['sqlite']:.2f} (replica CPU per request, "
                  "bare / durable on SQLite)")
    headline = results.get("fast") or results.get("default")
    if headline is None or "sqlite" not in headline["best"] or "bare" not in headline["best"]:
        print("no figures: every mode failed", file=sys.stderr)
        return 1
    if "fast" not in results:
        print("warning: the fast mode did not run; the figures below are the default mode's", file=sys.stderr)
    b = headline["best"]
    print(f"ingest_rps: {b['sqlite']['rps']:.0f}")
    print(f"ingest_ratio: {b['sqlite']['rps'] / b['bare']['rps']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
