"""Fixtures: a seeded sandbox served by uvicorn on 127.0.0.1 (real HTTP) and httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.prestashop.sandbox import ApiKey, SandboxConfig, run_in_thread

FULL_KEY = "FULLACCESSKEY0000000000000000001"
READ_KEY = "READONLYCUSTOMERSKEY000000000002"
INACTIVE_KEY = "INACTIVEKEY000000000000000000003"
NOPERM_KEY = "NOPERMISSIONKEY00000000000000004"


def make_config(**kwargs: object) -> SandboxConfig:
    keys = [
        ApiKey(key=FULL_KEY),
        ApiKey(key=READ_KEY, permissions={"customers": ["GET", "HEAD"]}),
        ApiKey(key=INACTIVE_KEY, active=False),
        ApiKey(key=NOPERM_KEY, permissions={}),
    ]
    return SandboxConfig(api_keys=keys, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def shop_url() -> Iterator[str]:
    """A sandbox seeded with 30 products, shared by the tests of one module (read-mostly)."""
    with run_in_thread(make_config(seed=30)) as url:
        yield url


@pytest.fixture
def client(shop_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop_url, auth=(FULL_KEY, ""), timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def shop(request: pytest.FixtureRequest) -> Iterator[str]:
    """A sandbox of the test module's own (seeded with the module's ``SEED`` products), for modules
    that write: their changes never reach another module's shop."""
    with run_in_thread(make_config(seed=getattr(request.module, "SEED", 10))) as url:
        yield url


@pytest.fixture
def c(shop: str) -> Iterator[httpx.Client]:
    """A full-rights client of the module's own sandbox; faults a test switched on are reset after it."""
    with httpx.Client(base_url=shop, auth=(FULL_KEY, ""), timeout=10) as client:
        yield client
        client.delete("/_sandbox/faults")


@pytest.fixture
def anon(shop_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop_url, timeout=10) as c:
        yield c
