"""Sandboxes for the AX client contract tests: real uvicorn servers on 127.0.0.1, one per configuration."""

from __future__ import annotations

import httpx
import pytest

from connectors.dynamics_ax import AxConfig, Client
from connectors.dynamics_ax.sandbox.config import SandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread


@pytest.fixture(scope="module")
def sandbox():
    """A seeded company DAT whose port includes exceptions in faults."""
    with run_in_thread(SandboxConfig(seed=7, items=12, customers=6, open_orders=2,
                                     include_exceptions_in_fault=True)) as base:
        yield base


def ax_config(base: str, **kw) -> AxConfig:
    values = {"base_url": base + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT",
              "wsdl": "remote", "page_size": 3, "read_batch_size": 2}
    values.update(kw)
    return AxConfig(**values)


@pytest.fixture
def make_config():
    """Builds an AxConfig for a sandbox base URL (overrides as keyword arguments)."""
    return ax_config


@pytest.fixture
async def ax(sandbox):
    async with Client(ax_config(sandbox)) as client:
        yield client


@pytest.fixture
def control(sandbox):
    """The sandbox's /_sandbox control API; fault settings are reset after each test."""
    with httpx.Client(base_url=sandbox + "/_sandbox", timeout=10) as http:
        yield http
        http.delete("/faults")

