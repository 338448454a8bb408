"""On Ray + Serve with both sandboxes over HTTP: the shop's echo of the bridge's own write-back
ends ``skipped_echo`` with nothing written back to AX, and a flow deployed while the bridge runs
reaches the running entity actor without a restart (the next message's timeline names it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
from pydantic import SecretStr

from connectors.dynamics_ax import AxConfig, EntityKey
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from runtime.actors import actor_name
from runtime.messages import Message, new_message_id
from runtime.store import Store
from tests.contract.runtime_operations.support import PS_KEY, sandbox_flow_dir
from tests.e2e.support import SECRET, TOKEN, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    """The shop (customer webhooks signed with the e2e secret, sent to the bridge) and AX."""
    shop = SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=8,
                         webhook_url=f"http://127.0.0.1:{serve_port}/webhooks/prestashop",
                         webhook_secret=SecretStr(SECRET), webhook_entities=["customers"],
                         webhook_backoff_s=0.2, webhook_backoff_max_s=1.0)
    with run_ps(shop) as ps_url, run_ax(AxSandboxConfig(seed=9, items=3, customers=2, open_orders=0)) as ax_url:
        yield ps_url, ax_url


def _customer_messages(store: Store, key: str) -> list[Message]:
    return sorted(store.list_messages(entity="customer", key=key), key=lambda m: m.seq)


def _finished(store: Store, message_id: str) -> dict[str, Any] | None:
    for e in store.timeline(message_id):
        if e["kind"] in ("attempt_succeeded", "skipped_echo", "skipped_stale", "dead"):
            return e
    return None


async def test_the_shops_echo_is_skipped_and_a_deploy_reaches_the_running_actor(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    flows = sandbox_flow_dir(tmp_path)
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[], flow_dirs=[str(flows)])
    store = Store(bridge.settings.store_url())
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax:
        customer = await shop.create("customers", {"lastname": "Loop", "firstname": "Lia", "email": "lia@example.com",
                                                   "passwd": "loop-pass-1", "id_default_group": 3, "active": 1})
        key = str(customer["id"])
        account = f"PS-{key}"

        async def all_finished(n: int) -> bool:
            msgs = _customer_messages(store, key)
            return len(msgs) >= n and all(m.status == "done" for m in msgs)

        await wait_until(lambda: all_finished(1), timeout_s=60)  # customer.created -> AX customer
        assert (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0].account_num == account
        first_version = _finished(store, _customer_messages(store, key)[0].id)["detail"]["flow_version"]
        assert first_version.startswith("sha256:")

        # AX blocks the customer; the change is journaled as an AX poll would, and the bridge
        # writes it to the shop; the shop announces that write with a customer.updated webhook
        await ax.service("customer").update(EntityKey.of(AccountNum=account), {"Blocked": "All"},
                                            idempotency_key="e2e-block-1")
        ax_before = (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0]
        store.append(Message(id=new_message_id(), entity="customer", key=account, source="ax",
                             event="customer.updated", payload={"AccountNum": account},
                             idempotency_key=f"ax:test:{account}:1"))

        async def echo_done() -> bool:
            msgs = [m for m in _customer_messages(store, key) if m.event == "customer.updated"]
            return bool(msgs) and all(m.status == "done" for m in msgs) and \
                (await shop.get("customers", int(key)))["active"] == "0"

        await wait_until(echo_done, timeout_s=60)
        (echo,) = [m for m in _customer_messages(store, key) if m.event == "customer.updated"]
        finished = _finished(store, echo.id)
        assert finished["kind"] == "skipped_echo", finished
        assert finished["detail"]["reason"].startswith("The shop's echo of our own write-back: the mapped content "
                                                       "equals what the bridge wrote at ")
        assert finished["detail"]["flow_version"] == first_version
        assert (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0] == ax_before

        # a new version of the flow, deployed through the running bridge's admin API
        handle = ray.get_actor(actor_name("customer"), namespace=bridge.settings.namespace)
        processed_before = (await handle.stats.remote())["processed"]
        _set_blocked_for_inactive(flows / "mappings" / "ps_customer_to_ax_customer.yaml", "Invoice")
        async with httpx.AsyncClient(base_url=bridge.url, timeout=10,
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            r = await http.post("/api/v1/flows/customer_sync/deploy")
        assert r.status_code == 200 and r.json()["status"] == "deployed", r.text
        new_version = r.json()["version_id"]
        assert new_version != first_version

        await asyncio.sleep(1.5)  # the actors look for a new deploy at most once a second (DeployedFlows.ttl_s)
        await shop.update("customers", int(key), {"active": 0, "lastname": "Loopy"})  # a real shop change

        async def changed_done() -> bool:
            msgs = [m for m in _customer_messages(store, key) if m.event == "customer.updated"]
            return len(msgs) >= 2 and all(m.status == "done" for m in msgs)

        await wait_until(changed_done, timeout_s=60)
        last = [m for m in _customer_messages(store, key) if m.event == "customer.updated"][-1]
        finished = _finished(store, last.id)
        assert finished["kind"] == "attempt_succeeded" and finished["detail"]["flow_version"] == new_version
        # the new mapping ran: an inactive shop customer is now blocked for invoicing only
        assert (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0].blocked == "Invoice"
        stats = await handle.stats.remote()
        assert stats["processed"] > processed_before  # the same actor, never restarted
    store.close()


def _set_blocked_for_inactive(path: Path, value: str) -> None:
    """Edit the mapping as a user would: an inactive shop customer becomes ``value`` in AX."""
    from ruamel.yaml import YAML

    yaml = YAML()
    data = yaml.load(path.read_text())
    data["lookups"]["blocked"]["values"]["0"] = value
    with path.open("w") as f:
        yaml.dump(data, f)
