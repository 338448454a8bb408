"""Ray nodes in the harness' hosts: ``ray start`` inside a host's namespace, on the host's IP, with
its own temp folder and home (no file shared with another host), fixed small CPU counts and
custom resources for placement (docs/cluster.md), token auth off (RAY_AUTH_MODE=disabled: the
hosts' network is private to this machine).

:func:`host_env` is the environment every command in a host runs with: the project importable
(``PYTHONPATH``), nothing inherited from the test session's own Ray (``RAY_*``) or bridge
(``PRESTA_AX_*``), Serve in its default ingress mode (HAProxy's fixed extra ports are per node
anyway; the fast mode is covered by the single-node e2e tests), and ``RAY_ADDRESS`` = the head,
so ``--address auto`` finds this cluster and never another one on the machine.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tests.cluster.hosts import ROOT, Host

__all__ = ["BIN", "HEAD_RESOURCE", "WORKER_RESOURCE", "host_env", "start_head", "start_worker", "run_probe"]

BIN = Path(sys.executable).parent
HEAD_RESOURCE = "presta_ax_head"
WORKER_RESOURCE = "presta_ax_worker"
GCS_PORT = 6379


def host_env(host: Host, head_ip: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "PRESTA_AX_", "OTEL_"))}
    env.update(
        HOME=str(host.root), PYTHONPATH=str(ROOT), RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0",
        RAY_SERVE_ENABLE_HA_PROXY="0", RAY_SERVE_THROUGHPUT_OPTIMIZED="0", PYTHONUNBUFFERED="1",
    )
    if head_ip:
        env["RAY_ADDRESS"] = f"{head_ip}:{GCS_PORT}"
    env.update(extra)
    return env


def _common(host: Host, cpus: float, resources: dict[str, int]) -> list[str]:
    return ["--node-ip-address", host.ip, "--num-cpus", str(cpus), "--resources", json.dumps(resources),
            "--temp-dir", str(host.root / "ray"), "--object-store-memory", str(80 * 1024 * 1024),
            "--disable-usage-stats"]


def _start(host: Host, argv: list[str], env: dict[str, str], tries: int = 3) -> None:
    """``ray start`` in ``host``; on a busy machine a node can miss Ray's start-up deadline: then
    every process of the host is killed and it starts again (so start Ray first in a host)."""
    for attempt in range(tries):
        try:
            host.run(argv, env=env, timeout=180)
            return
        except RuntimeError:
            if attempt == tries - 1:
                raise
            host.kill_all()


def start_head(host: Host, cpus: int = 1, resources: dict[str, int] | None = None) -> str:
    """Start the head in ``host``; returns the GCS address ``IP:6379``."""
    _start(host, [str(BIN / "ray"), "start", "--head", "--port", str(GCS_PORT), "--include-dashboard=false",
                  *_common(host, cpus, resources or {HEAD_RESOURCE: 1000})], host_env(host))
    return f"{host.ip}:{GCS_PORT}"


def start_worker(host: Host, head_ip: str, cpus: int = 1, resources: dict[str, int] | None = None) -> None:
    """Start a worker node in ``host`` joined to the head at ``head_ip``."""
    _start(host, [str(BIN / "ray"), "start", "--address", f"{head_ip}:{GCS_PORT}",
                  *_common(host, cpus, resources or {WORKER_RESOURCE: 1000})], host_env(host, head_ip))


def run_probe(host: Host, head_ip: str, what: str, *args: str, timeout: float = 90) -> Any:
    """Run ``python -m tests.cluster.probe WHAT ARGS`` as a Ray driver in ``host``; its JSON answer."""
    deadline = time.monotonic() + timeout
    proc = host.run([sys.executable, "-m", "tests.cluster.probe", what, *args], env=host_env(host, head_ip),
                    timeout=max(5.0, deadline - time.monotonic()))
    line = next(ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("PROBE "))
    return json.loads(line[len("PROBE "):])
