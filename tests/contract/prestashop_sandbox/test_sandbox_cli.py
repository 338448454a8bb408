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


def test_cli_serves_the_shop() -> None:
    port = free_port()
    env = {**os.environ, "PRESTA_AX_SANDBOX_PS_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "connectors.prestashop.sandbox.cli", "--port", str(port),
                             "--seed", "3"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/products", auth=(KEY, ""), timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, "the CLI did not start"
                time.sleep(0.1)
        assert r.status_code == 200 and r.headers["psws-version"] == "8.2.0"
        assert r.text.count("<product id=") == 3
    finally:
        proc.terminate()
        proc.wait(10)
