"""Durable webhook ingest vs a bare Serve endpoint, measured in the same run.

Both endpoints run as one Serve deployment each with the same options (0.25 CPU, access log off)
on one local Ray instance. The load generator is Debian's ``wrk`` (C, 2 threads, keep-alive) with
a Lua script that cycles through pre-signed webhooks with unique ids, so every request to the
durable endpoint is verified, decoded and written to the journal (SQLite WAL) before its 202.
Scheduling is left to the dispatcher (``server.nudge: false``, dispatcher not started), so the
figure is ingest alone. Prints requests/s and p50/p99 latency of both, then ``ingest_ratio: R``.

Usage: ``python benchmarks/ingest.py [--seconds 10] [--connections 16]``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_requests(path: Path, n: int, tag: str) -> None:
    from connectors.prestashop.signing import sign

    ts = int(time.time())
    with path.open("w") as f:
        for i in range(n):
            body = json.dumps({"type": "order.created", "timestamp": ts, "data": {
                "id": i % 5000 + 1, "reference": f"XKBKNABJK{i}", "total_paid": "123.40",
                "date_upd": "2026-11-26 10:00:00"}}, separators=(",", ":"))
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
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"requests": total, "rps": rps, "p50_ms": lat("50"), "p99_ms": lat("99"), "non2xx": int(non2xx.group(1)) if non2xx else 0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2

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

    tmp = Path(tempfile.mkdtemp(prefix="presta-ax-bench-"))
    port = free_port()
    ray.init("local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port}, logging_config={"enable_access_log": False})

    async def bare(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"message_id": "bare"}, status_code=202)

    @serve.deployment(max_ongoing_requests=256, ray_actor_options={"num_cpus": 0.25})
    @serve.ingress(Starlette(routes=[Route("/webhooks/prestashop", bare, methods=["POST"])]))
    class Bare:
        pass

    settings = Settings.model_validate({"data_dir": str(tmp / "data"), "namespace": "bench",
                                        "server": {"port": port, "webhook_secrets": [SECRET], "admin_token": "x",
                                                   "nudge": False}})
    Store(settings.store_url()).close()
    serve.run(Bare.bind(), name="bare", route_prefix="/bare", blocking=False)
    serve.run(bridge_application(to_wire(settings), "x"), name="durable", route_prefix="/durable", blocking=False)

    lua = tmp / "signed.lua"
    lua.write_text(LUA)
    results = {}
    try:
        for round_ in range(2):  # alternate to spread machine noise over both
            for name in ("bare", "durable"):
                reqs = tmp / f"reqs-{name}-{round_}.tsv"
                write_requests(reqs, 60_000, f"{name}{round_}")
                r = run_wrk(f"http://127.0.0.1:{port}", f"/{name}", args.seconds, args.connections, lua, reqs)
                results.setdefault(name, []).append(r)
    finally:
        serve.shutdown()
        ray.shutdown()
    stored = Store(settings.store_url())
    persisted = sum(sum(v.values()) for v in stored.counts().values())
    stored.close()
    shutil.rmtree(tmp, ignore_errors=True)

    best = {name: max(rs, key=lambda r: r["rps"]) for name, rs in results.items()}
    for name in ("bare", "durable"):
        r = best[name]
        if r["non2xx"]:
            print(f"warning: {r['non2xx']} non-2xx answers from {name}", file=sys.stderr)
        print(f"{name:8s} {r['rps']:9.1f} req/s   p50 {r['p50_ms']:7.2f} ms   p99 {r['p99_ms']:7.2f} ms   "
              f"non-2xx {r['non2xx']}")
    acked = sum(r["requests"] for r in results["durable"])
    print(f"durable endpoint: {acked} answers counted by wrk in its windows, {persisted} messages in the journal "
          "(requests still in flight when a window closed are journaled but not counted)")
    print(f"ingest_ratio: {best['durable']['rps'] / best['bare']['rps']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
