"""Both sandboxes over real HTTP (uvicorn on 127.0.0.1, free ports, threads), a store per test,
and :class:`SystemOperations` wired to them, without Ray."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from pipelines.operations import SystemOperations
from pipelines.registry import FlowRegistry as YamlRegistry
from runtime.store import AsyncStore, Store
from tests.contract.runtime_operations.support import PS_KEY, sandbox_flow_dir


@pytest.fixture(scope="module")
def ps_url() -> Iterator[str]:
    with run_ps(SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=6)) as url:
        yield url


@pytest.fixture(scope="module")
def ax_url() -> Iterator[str]:
    with run_ax(AxSandboxConfig(seed=5, items=5, customers=4, open_orders=1)) as url:
        yield url


@pytest.fixture
def ps_config(ps_url: str) -> ClientConfig:
    return ClientConfig(base_url=ps_url, api_key=PS_KEY)


@pytest.fixture
def ax_config(ax_url: str) -> AxConfig:
    return AxConfig(base_url=ax_url + "/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AsyncStore]:
    s = AsyncStore(Store(f"sqlite:///{tmp_path / 'journal.db'}"))
    yield s
    s.close()


@pytest.fixture
async def ops(ps_config: ClientConfig, ax_config: AxConfig, store: AsyncStore) -> AsyncIterator[SystemOperations]:
    operations = SystemOperations(ps_config, ax_config, store)
    yield operations
    await operations.aclose()


@pytest.fixture
async def shop(ps_config: ClientConfig) -> AsyncIterator[Client]:
    async with Client(ps_config) as client:
        yield client


@pytest.fixture
async def ax(ax_config: AxConfig) -> AsyncIterator[AxClient]:
    async with AxClient(ax_config) as client:
        yield client


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The default flows, with the mappings set up for the AX sandbox's company (support.py)."""
    return YamlRegistry([sandbox_flow_dir(tmp_path_factory.mktemp("userflows"))])
