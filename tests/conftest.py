"""Shared fixtures: a real PostgreSQL server per session, a fresh store URL per test on each backend."""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# test flow modules (tests/...) must import in Ray workers too, which inherit this environment
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# a local Ray for tests must not leave an auth token behind that changes later `ray start` runs
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
# every Ray the tests start on this machine lives on loopback (runtime/local_ray.py); the
# multi-host tests start their nodes with an environment of their own, without this variable
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    from tests.pg import postgres_server

    with postgres_server() as url:
        yield url


def _fresh_pg_database(admin_url: str) -> str:
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    return _fresh_pg_database(request.getfixturevalue("pg_admin_url"))


@pytest.fixture
def pg_database(pg_admin_url: str) -> str:
    return _fresh_pg_database(pg_admin_url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- Ray + Serve (e2e, chaos)
# One local Ray instance and one Serve instance per test session; a fresh bridge per test, with
# its own store (SQLite in its temp folder) and its own actor namespace, so tests cannot see each
# other's actors or messages.

@pytest.fixture(scope="session")
def serve_mode() -> str:
    """``"fast"`` (HAProxy ingress, what users get; runtime.fast_mode) when HAProxy is usable,
    else ``"default"``; ``PRESTA_AX_TEST_SERVE_MODE=default`` forces the default mode (the
    ingress tests run once in each, tests/e2e/test_ingress_fast_mode_other.py)."""
    from runtime.fast_mode import haproxy_binary

    wanted = os.environ.get("PRESTA_AX_TEST_SERVE_MODE", "fast")
    return "fast" if wanted == "fast" and haproxy_binary() is not None else "default"


def _serve_mode_env(mode: str) -> dict[str, str]:
    """The session Ray's environment for ``mode``: HAProxy's extra ports are always free ones
    (other sessions may run beside this one) and a replica drains in 0.5 s, not Ray's 30 s (a
    bridge is deleted after every test)."""
    if mode != "fast":
        return {"RAY_SERVE_ENABLE_HA_PROXY": "0", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "0"}
    from runtime.fast_mode import choose_ingress, spare_port

    # outside the ephemeral range, which Ray's own processes bind from while the session starts
    taken: set[int] = set()
    ports = {}
    for name in ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT", "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT"):
        taken.add(port := spare_port(taken))
        ports[name] = str(port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_SERVE_")}
    return {**ports, **choose_ingress({**env, **ports}).env, "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "0.5"}


@pytest.fixture(scope="session")
def serve_port(serve_mode: str) -> Iterator[int]:
    import ray
    from ray import serve

    port = _free_port()
    # the raylet (and so every Ray worker) takes the environment at ray.init; it is restored
    # afterwards so that commands the tests start (demo, benchmarks) choose their own mode
    mode_env = _serve_mode_env(serve_mode)
    saved = {k: os.environ.get(k) for k in mode_env}
    os.environ.update(mode_env)
    try:
        ray.init("local", num_cpus=2, include_dashboard=False, log_to_driver=False,
                 object_store_memory=256 * 1024 * 1024, namespace="presta-ax-tests")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    serve.start(http_options={"host": "127.0.0.1", "port": port}, logging_config={"enable_access_log": False})
    yield port
    serve.shutdown()
    ray.shutdown()


@pytest.fixture
def bridge_factory(serve_port: int, tmp_path: Path) -> Iterator[Any]:
    """``start(**overrides)`` deploys a bridge with test settings (overrides merge at top level)."""
    from runtime.config import Settings
    from runtime.server import start_bridge, stop_bridge
    from tests.e2e.support import SECRET as E2E_SECRET
    from tests.e2e.support import TOKEN as E2E_TOKEN

    started = []

    def start(**overrides: Any) -> Any:
        raw: dict[str, Any] = {
            "data_dir": str(tmp_path / "data"),
            "namespace": f"t-{uuid.uuid4().hex[:8]}",
            "server": {"port": serve_port, "webhook_secrets": [E2E_SECRET], "admin_token": E2E_TOKEN},
            "flows": ["tests.flows_for_tests"],
            "limits": {"lease_s": 3, "dispatch_interval_s": 0.3,
                       "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}},
        }
        raw.update(overrides)
        running = start_bridge(Settings.model_validate(raw), start_serve=False)
        started.append(running)
        return running

    yield start
    for running in started:
        stop_bridge(running)


@pytest.fixture
def bridge(bridge_factory: Any) -> Any:
    return bridge_factory()
