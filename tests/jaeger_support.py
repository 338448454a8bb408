"""A real Jaeger (v2, all-in-one, in-memory storage) for the tests, on free ports.

The binary is built from the Go module in ``deploy/jaeger`` by ``make jaeger`` (``.ci/run`` does it
before the tests) and cached per machine; :func:`jaeger_binary` finds it (or
``PRESTA_AX_JAEGER_BIN``). The ``jaeger`` fixture (session scope: one Jaeger for every test that
asks, each test reads back only its own traces) starts it with ``deploy/jaeger/jaeger.yaml``,
every address moved to a free loopback port, waits until its query API answers, and stops it at
the end. Without the binary the Jaeger tests are skipped with the command that builds it, except
under ``PRESTA_AX_REQUIRE_JAEGER=1`` (CI), where they fail: CI must never skip them silently.

Import the fixture into a test module: ``from tests.jaeger_support import jaeger  # noqa: F401``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "jaeger" / "jaeger.yaml"
VERSION = "v1.75.0"


def jaeger_binary() -> Path | None:
    """The Jaeger binary: ``PRESTA_AX_JAEGER_BIN``, else the cache ``deploy/jaeger/build.sh`` fills."""
    explicit = os.environ.get("PRESTA_AX_JAEGER_BIN")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    base = os.environ.get("PRESTA_AX_CACHE") or str(Path(os.environ.get("XDG_CACHE_HOME") or
                                                         Path.home() / ".cache") / "presta-ax")
    path = Path(base) / "jaeger" / f"jaeger-{VERSION}"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Jaeger:
    """A running Jaeger: where to send spans and where to read them back."""

    otlp_grpc: str  # host:port
    otlp_http: str  # http://host:port
    query_url: str  # http://host:port (query API; the UI in the official distribution)
    log: Path


def start_jaeger(binary: Path, log: Path) -> tuple[subprocess.Popen[bytes], Jaeger]:
    """Start Jaeger on free ports and wait (up to 60 s) until its query API answers."""
    grpc, http, query, query_grpc, health = _free_ports(5)
    env = {**os.environ, "JAEGER_HOST": "127.0.0.1", "JAEGER_OTLP_GRPC_PORT": str(grpc),
           "JAEGER_OTLP_HTTP_PORT": str(http), "JAEGER_QUERY_HTTP_PORT": str(query),
           "JAEGER_QUERY_GRPC_PORT": str(query_grpc), "JAEGER_HEALTH_PORT": str(health)}
    out = open(log, "wb")  # noqa: SIM115 - closed with the process below
    proc = subprocess.Popen([str(binary), "--config", str(CONFIG)], env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    running = Jaeger(f"127.0.0.1:{grpc}", f"http://127.0.0.1:{http}", f"http://127.0.0.1:{query}", log)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"Jaeger exited with code {proc.returncode} at start:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{running.query_url}/api/services", timeout=2).status_code == 200:
                return proc, running
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"Jaeger did not answer within 60 s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def stop_jaeger(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def jaeger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jaeger]:
    binary = jaeger_binary()
    if binary is None:
        message = f"Jaeger {VERSION} is not built: run `make jaeger` (needs Go)."
        if os.environ.get("PRESTA_AX_REQUIRE_JAEGER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    proc, running = start_jaeger(binary, tmp_path_factory.mktemp("jaeger") / "jaeger.log")
    try:
        yield running
    finally:
        stop_jaeger(proc)
