"""Fixtures: the AX sandbox app over httpx.ASGITransport (in-process HTTP, no mocks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from connectors.dynamics_ax.sandbox import SandboxConfig, create_app


def make_client(**overrides: object) -> httpx.AsyncClient:
    config = SandboxConfig(**{"seed": 7, "items": 6, "customers": 4, "open_orders": 0,
                              "include_exceptions_in_fault": True, **overrides})  # type: ignore[arg-type]
    app = create_app(config)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ax.test")


@pytest.fixture
async def ax() -> AsyncIterator[httpx.AsyncClient]:
    """A fresh sandbox per test, detailed faults on (as with 'Include exceptions in fault')."""
    async with make_client() as client:
        yield client


@pytest.fixture
def ax_factory() -> Callable[..., httpx.AsyncClient]:
    return make_client
