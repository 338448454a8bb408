"""Throughput of the PrestaShop sandbox against a bare Starlette endpoint, measured in the same run.

Each server runs alone in its own process (one uvicorn worker, access log off), so it uses at most
one core; the load generator is Debian's ``wrk`` (C, keep-alive, one thread) on the other core.
Requests per second are also divided by the CPU seconds the server process used, which gives
requests per second per core even when the server is not saturating its core.

Scenarios: GET one customer (``/api/customers/1``), GET a list with ``display`` (50 products),
POST a customer (unique e-mail per request, so every request is a real create with validation);
the baseline answers GET and POST with a small fixed XML body. Prints one line per scenario, then
``ps_sandbox_get_ratio: R`` and ``ps_sandbox_post_ratio: R`` (sandbox / baseline, per core).

Usage: ``python benchmarks/prestashop_sandbox.py [--seconds 5] [--seed 200] [--connections 16]``.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from connectors._serving import free_port  # noqa: E402 - after the path fix for running as a script

KEY = "BENCHKEY0123456789ABCDEFGHIJKLMN"
AUTH = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()

GET_LUA = f'wrk.headers["Authorization"] = "{AUTH}"\n'
POST_LUA = f"""
wrk.method = "POST"
wrk.headers["Authorization"] = "{AUTH}"
wrk.headers["Content-Type"] = "text/xml"
local n = 0
request = function()
  n = n + 1
  local body = "<prestashop><customer><passwd>bench-password</passwd><lastname>Bench</lastname>" ..
    "<firstname>Mark</firstname><email>bench" .. n .. "@example.com</email><id_default_group>3</id_default_group>" ..
    "<active>1</active></customer></prestashop>"
  return wrk.format(nil, nil, nil, body)
end
"""


def serve(kind: str, port: int, seed: int) -> None:
    """Child process: serve the sandbox or the bare baseline until killed."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    if kind == "sandbox":
        sys.path.insert(0, str(ROOT))
        from connectors.prestashop.sandbox import SandboxConfig, create_app

        app = create_app(SandboxConfig.simple(KEY, seed=seed))
    else:
        body = b'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop><customer><id>1</id></customer></prestashop>\n'

        async def bare(request: Request) -> Response:
            await request.body()
            return Response(body, status_code=201 if request.method == "POST" else 200, media_type="text/xml")

        app = Starlette(routes=[Route("/{path:path}", bare, methods=["GET", "POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(kind: str, seed: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--seed", str(seed)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/", auth=(KEY, ""), timeout=1)
            return proc, port
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the {kind} server did not start on port {port}")


def run_wrk(url: str, lua: str, seconds: int, connections: int, pid: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    before = cpu_seconds(pid)
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", f.name, url],
                         capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - before
    os.unlink(f.name)
    requests = next(int(line.split()[0]) for line in out.splitlines() if "requests in" in line)
    bad = next((int(line.split(":")[1]) for line in out.splitlines() if "Non-2xx" in line), 0)
    if bad:
        raise RuntimeError(f"{bad} non-2xx answers from {url}; the benchmark would be meaningless")
    return {"rps": requests / seconds, "per_core": requests / cpu if cpu > 0 else 0.0, "cpu": cpu / seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=200, help="products in the seeded sandbox")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--serve", choices=["sandbox", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.seed)
        return 0
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    results: dict[str, dict[str, float]] = {}
    plan = [
        ("bare", "baseline GET", "/api/customers/1", GET_LUA),
        ("bare", "baseline POST", "/api/customers", POST_LUA),
        ("sandbox", "sandbox GET one customer", "/api/customers/1", GET_LUA),
        ("sandbox", "sandbox GET 50 products", "/api/products?display=[id,reference,price,name]&limit=50", GET_LUA),
        ("sandbox", "sandbox POST customer", "/api/customers", POST_LUA),
    ]
    for kind in ("bare", "sandbox"):
        proc, port = start(kind, args.seed)
        try:
            for k, label, path, lua in plan:
                if k == kind:
                    results[label] = run_wrk(f"http://127.0.0.1:{port}{path}", lua, args.seconds,
                                             args.connections, proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)
    for label, r in results.items():
        print(f"{label:28s} {r['rps']:9.0f} req/s  {r['per_core']:9.0f} req/s per core  (server cpu {r['cpu']:.2f} cores)")
    get_ratio = results["sandbox GET one customer"]["per_core"] / results["baseline GET"]["per_core"]
    post_ratio = results["sandbox POST customer"]["per_core"] / results["baseline POST"]["per_core"]
    print(f"ps_sandbox_get_ratio: {get_ratio:.2f}")
    print(f"ps_sandbox_post_ratio: {post_ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
