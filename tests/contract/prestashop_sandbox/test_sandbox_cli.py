"""The CLI entry point: option checks, and a real process serving /api/."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
import typer
from typer.testing import CliRunner

from connectors.prestashop.sandbox.cli import command
from connectors.prestashop.sandbox.server import free_port

pytestmark = pytest.mark.contract
KEY = "CLIKEY00000000000000000000000001"


def test_cli_refuses_bad_options() -> None:
    app = typer.Typer()
    app.command()(command)
    runner = CliRunner(env={"COLUMNS": "300", "NO_COLOR": "1"})
    result = runner.invoke(app, ["--api-key", "short"])
    assert result.exit_code == 2 and "32 characters" in result.output
    result = runner.invoke(app, ["--api-key", KEY, "--webhook-url", "http://127.0.0.1:9/x"])
    assert result.exit_code == 2 and "go together" in result.output
    result = runner.invoke(app, ["--api-key", KEY, "--latency-distribution", "pareto"])
    assert result.exit_code == 2 and "fixed, uniform, exponential or normal" in result.output
    result = runner.invoke(app, ["--api-key", KEY, "--webhook-url", "http://[::1/hooks", "--webhook-secret", "s"])
    assert result.exit_code == 2 and "webhook_url" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["--api-key", KEY, "--error-rate", "1.5"])
    assert result.exit_code == 2 and "error_rate" in result.output


def _start(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start the CLI in its own process and wait until it answers; returns the process and port."""
    port = free_port()
    env = {**os.environ, "PRESTA_AX_SANDBOX_PS_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "connectors.prestashop.sandbox.cli", "--port", str(port), *args],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1)
            return proc, port
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise AssertionError("the CLI did not start") from None
            time.sleep(0.1)


def test_cli_serves_the_shop() -> None:
    proc, port = _start("--seed", "3")
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/api/products", auth=(KEY, ""), timeout=5)
        assert r.status_code == 200 and r.headers["psws-version"] == "8.2.0"
        assert r.text.count("<product id=") == 3
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_fault_flags_reach_the_fault_injector() -> None:
    proc, port = _start("--outage-s", "600", "--retry-after-s", "3", "--latency-distribution", "fixed",
                        "--php-notice-style", "html")
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/api/products", auth=(KEY, ""), timeout=5)
        assert r.status_code == 503 and int(r.headers["retry-after"]) > 500  # the outage window runs
        faults = httpx.get(f"http://127.0.0.1:{port}/_sandbox/faults", auth=(KEY, ""), timeout=5).json()
        assert (faults["outage_s"], faults["retry_after_s"], faults["latency_distribution"],
                faults["php_notice_style"]) == (600, 3, "fixed", "html")
    finally:
        proc.terminate()
        proc.wait(10)
