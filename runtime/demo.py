"""``presta-ax demo``: both sandboxes and the bridge on one machine, wired together.

Starts the emulated PrestaShop (seeded, its webhook emitter pointed at the bridge) and the
emulated AX as child processes, then runs ``serve`` in the foreground; Ctrl-C stops all three.
Everything is local: ``127.0.0.1`` only, data in ``<data_dir>/demo``.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["start_sandboxes", "stop_children"]


def _wait_http(url: str, timeout_s: float = 30.0) -> bool:
    end = time.time() + timeout_s
    while time.time() < end:
        try:
            httpx.get(url, timeout=1.0)
            return True
        except httpx.HTTPError:
            time.sleep(0.3)
    return False


def start_sandboxes(data_dir: Path, bridge_port: int, webhook_secret: str, *, ps_port: int = 8081,
                    ax_port: int = 8082, seed: int = 50) -> tuple[list[subprocess.Popen[bytes]], dict[str, str]]:
    """Start both sandboxes; return the processes and what to print (URLs; the demo key)."""
    demo_dir = data_dir / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    key_file = demo_dir / "prestashop-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(16).upper())
        key_file.chmod(0o600)
    key = key_file.read_text().strip()
    exe = [sys.executable, "-m", "runtime.cli", "sandbox"]
    env = dict(os.environ, PRESTA_AX_SANDBOX_PS_KEY=key, PRESTA_AX_SANDBOX_WEBHOOK_SECRET=webhook_secret)
    ps = subprocess.Popen([*exe, "prestashop", "--port", str(ps_port), "--seed", str(seed),
                           "--webhook-url", f"http://127.0.0.1:{bridge_port}/webhooks/prestashop"],
                          env=env, stdout=open(demo_dir / "prestashop.log", "ab"), stderr=subprocess.STDOUT)
    ax = subprocess.Popen([*exe, "ax", "--port", str(ax_port), "--seed", str(seed)],
                          stdout=open(demo_dir / "ax.log", "ab"), stderr=subprocess.STDOUT)
    ok_ps = _wait_http(f"http://127.0.0.1:{ps_port}/api/")
    ok_ax = _wait_http(f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc?wsdl")
    info = {
        "PrestaShop sandbox": f"http://127.0.0.1:{ps_port}/api/" + ("" if ok_ps else "  (did not start: see demo/prestashop.log)"),
        "PrestaShop key file": str(key_file),
        "AX sandbox": f"http://127.0.0.1:{ax_port}/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc"
                      + ("" if ok_ax else "  (did not start: see demo/ax.log)"),
    }
    return [ps, ax], info


def stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for p in children:
        p.terminate()
    for p in children:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
