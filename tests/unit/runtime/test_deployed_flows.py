"""The entity actors' flow versions without Ray: the deployed version runs, a flow never deployed
runs (and is recorded as) its folder version, a new deploy is picked up within the TTL, and the
worker's timeline names the version of every attempt (and finishes an echo as skipped_echo)."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import TransientError
from pipelines.registry import DEFAULT_FLOWS_DIR
from pipelines.registry import FlowRegistry as YamlRegistry
from runtime.config import Settings
from runtime.flows import FlowRegistry
from runtime.messages import Message, new_message_id
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.worker import EntityWorker
from runtime.yaml_flows import DeployedFlows

pytestmark = pytest.mark.unit


def _user_flows(root: Path) -> Path:
    """A flow folder with a copy of customer_sync and its shop mapping (the user's)."""
    (root / "mappings").mkdir(parents=True)
    shutil.copy(DEFAULT_FLOWS_DIR / "customer_sync.yaml", root / "customer_sync.yaml")
    shutil.copy(DEFAULT_FLOWS_DIR / "mappings" / "ax_customer_to_ps_customer.yaml", root / "mappings")
    return root


def _edit_group_lookup(root: Path, value: str) -> None:
    path = root / "mappings" / "ax_customer_to_ps_customer.yaml"
    path.write_text(path.read_text().replace('values: {RETAIL: "3"', f'values: {{RETAIL: "{value}"'))


@pytest.fixture
def env(tmp_path: Path, store_url: str) -> Any:
    folder = _user_flows(tmp_path / "flows")
    settings = Settings.model_validate({"data_dir": str(tmp_path / "data"), "flow_dirs": [str(folder)]})
    store = AsyncStore(Store(store_url))
    yield settings, store, folder
    store.close()


def _deploy(store: AsyncStore, folder: Path, name: str) -> str:
    flow = YamlRegistry([folder]).get(name)
    store.sync.record_flow_version(flow.name, flow.version_id, json.dumps(flow.record()))
    return flow.version_id


async def test_never_deployed_flows_run_their_folder_version_recorded_as_deployed(env: Any) -> None:
    settings, store, folder = env
    registry = FlowRegistry()
    deployed = DeployedFlows(registry, settings, store, ttl_s=0)
    routes = deployed.load()
    assert "customer customer.updated -> customer_sync" in routes
    on_disk = YamlRegistry([folder]).get("customer_sync").version_id
    assert registry.resolve("customer", "customer.updated").loaded.version_id == on_disk
    assert store.sync.deployed_flows()["customer_sync"]["version"] == on_disk  # recorded on first use
    _edit_group_lookup(folder, "9")  # an edit on disk alone does not run
    assert not await deployed.refresh()
    assert registry.resolve("customer", "customer.updated").loaded.version_id == on_disk


async def test_a_new_deploy_reaches_the_registry_within_the_ttl_without_a_restart(env: Any) -> None:
    settings, store, folder = env
    registry = FlowRegistry()
    deployed = DeployedFlows(registry, settings, store, ttl_s=3600)
    deployed.load()
    first = registry.resolve("customer", "customer.updated").loaded
    _edit_group_lookup(folder, "9")
    new = _deploy(store, folder, "customer_sync")
    assert new != first.version_id
    assert not await deployed.refresh()  # within the TTL: no store query at all
    deployed.ttl_s = 0
    assert await deployed.refresh()
    now = registry.resolve("customer", "customer.updated").loaded
    assert now.version_id == new
    assert now.mappings["ax_customer_to_ps_customer"].lookups["customer_group"].values["RETAIL"] == "9"
    assert not await deployed.refresh()  # nothing deployed since: the routes stay
    assert registry.resolve("customer", "customer.updated").loaded is now
    # a roll-back to the first version is a deploy too
    store.sync.record_flow_version("customer_sync", first.version_id, json.dumps(first.record()))
    assert await deployed.refresh()
    assert registry.resolve("customer", "customer.updated").loaded.version_id == first.version_id
    # Python flow modules registered before keep their routes, once each
    assert sum(1 for r in registry.routes() if r["event"] == "customer.updated") == 1


class EchoWorld:
    """Operations of the customer flow answering from fixed records (extract) and failing or
    succeeding on writes as told; counts writes."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.writes = 0

    async def call(self, system: str, operation: str, payload: Any, *, mode: str | None,
                   context: Mapping[str, Any], step: str | None = None) -> Any:
        if operation == "customers.get":
            return {"id": "5", "firstname": "Ann", "lastname": "Lee", "email": "ann@example.com",
                    "id_default_group": "3", "id_lang": "1", "active": "1", "addresses": []}
        if self.fail:
            raise TransientError("AX is busy")
        self.writes += 1
        return {"AccountNum": payload.get("AccountNum")}


async def test_the_timeline_names_the_flow_version_and_an_echo_ends_skipped_echo(env: Any) -> None:
    settings, store, folder = env
    registry = FlowRegistry()
    world = EchoWorld(fail=True)
    deployed = DeployedFlows(registry, settings, store, operations=world, ttl_s=0)  # type: ignore[arg-type]
    deployed.load()
    registry.set_refresher(deployed.refresh)
    version = registry.resolve("customer", "customer.updated").loaded.version_id
    worker = EntityWorker("customer", store, registry, RetryPolicy(0.01, 0.02, 5, random.Random(1)), lease_s=30)

    def msg(n: int) -> Message:
        return Message(id=new_message_id(), entity="customer", key="5", source="prestashop",
                       event="customer.updated", payload={"id": "5"}, idempotency_key=f"k{n}")

    first = msg(1)
    await store.append(first)
    await worker.nudge("5")
    failed = [e for e in await store.timeline(first.id) if e["kind"] == "attempt_failed"]
    assert failed and failed[0]["detail"]["flow_version"] == version
    world.fail = False
    await asyncio.sleep(0.05)  # the retry's backoff (RetryPolicy base 0.01 s, cap 0.02 s)
    await worker.nudge("5")
    done = [e for e in await store.timeline(first.id) if e["kind"] == "attempt_succeeded"]
    assert done and done[0]["detail"]["flow_version"] == version and world.writes == 1
    # a new deploy runs from the next message on, named in its timeline; the same shop content
    # again is not written twice (unchanged), and it is no echo: the bridge never wrote to the shop
    _edit_group_lookup(folder, "9")
    new = _deploy(store, folder, "customer_sync")
    second = msg(2)
    await store.append(second)
    await worker.nudge("5")
    events = await store.timeline(second.id)
    finished = [e for e in events if e["kind"] in ("attempt_succeeded", "skipped_echo")]
    assert [e["kind"] for e in finished] == ["attempt_succeeded"]
    assert finished[0]["detail"]["flow_version"] == new
    assert "load-ax:unchanged" in finished[0]["detail"]["steps"] and world.writes == 1
