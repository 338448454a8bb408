"""Helpers of the exactly-once tests (tests/e2e/test_exactly_once.py, tests/chaos/test_exactly_once_faults.py).

* :func:`exactly_once_sandboxes` starts the shop (its order webhooks signed with the e2e secret,
  sent to the bridge) and AX (a port with "Include exceptions in fault", so a business fault
  reads as AX's own sentence);
* :func:`start_bridge` deploys a bridge on both with the adapted sandbox flows;
* :func:`ax_orders` counts from **AX's own data** (a find on ``PurchOrderFormNum``), never from
  the bridge's journal; :func:`ax_customers` likewise by account;
* :func:`order_messages`, :func:`settled`, :func:`wait_done` read the journal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from runtime.store import Store
from tests.contract.runtime_operations.support import PS_KEY, sandbox_flow_dir
from tests.e2e.support import SECRET, wait_until

#: the bridge's test limits: short leases and dispatch ticks, the real retry code
LIMITS: dict[str, Any] = {"lease_s": 3, "dispatch_interval_s": 0.3,
                          "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}}


@contextlib.contextmanager
def exactly_once_sandboxes(serve_port: int, **ax_options: Any) -> Iterator[tuple[str, str]]:
    shop = SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=3,
                         webhook_url=f"http://127.0.0.1:{serve_port}/webhooks/prestashop",
                         webhook_secret=SecretStr(SECRET), webhook_entities=["orders"],
                         webhook_backoff_s=0.2, webhook_backoff_max_s=1.0)
    ax = AxSandboxConfig(seed=4, items=5, customers=3, open_orders=1, include_exceptions_in_fault=True,
                         **ax_options)
    with run_ps(shop) as ps_url, run_ax(ax) as ax_url:
        yield ps_url, ax_url


def systems(ps_url: str, ax_url: str, **ax_extra: Any) -> dict[str, Any]:
    return {"prestashop": {"base_url": ps_url, "api_key": PS_KEY},
            "ax": {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT",
                   **ax_extra}}


def start_bridge(bridge_factory: Any, tmp_path: Path, ps_url: str, ax_url: str, *,
                 limits: dict[str, Any] | None = None, customer_polls: bool = True,
                 **ax_extra: Any) -> tuple[Any, Store]:
    """A bridge on the demo's sandbox flows. ``customer_polls=False`` leaves out the shop poll
    triggers of ``customer_sync``: the test's order then is the only writer of its AX customer
    (otherwise the customer poller may create it concurrently, consuming an injected fault)."""
    flows = sandbox_flow_dir(tmp_path)
    if not customer_polls:
        flow = flows / "customer_sync.yaml"
        text = flow.read_text(encoding="utf-8")
        polls = [line for line in text.splitlines(keepends=True)
                 if line.strip().startswith("- {type: poll, source: prestashop")]
        assert polls, "customer_sync has no shop poll trigger to leave out"
        flow.write_text("".join(line for line in text.splitlines(keepends=True) if line not in polls),
                        encoding="utf-8")
    bridge = bridge_factory(systems=systems(ps_url, ax_url, **ax_extra), flows=[], limits=limits or LIMITS,
                            flow_dirs=[str(flows)])
    return bridge, Store(bridge.settings.store_url())


async def ax_orders(ax: AxClient, reference: str) -> list[Any]:
    """Every AX sales order (regular or journal) whose PurchOrderFormNum is ``reference``."""
    return [o for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", reference)])
            if o.purch_order_form_num == reference]


async def ax_customers(ax: AxClient, account: str) -> list[Any]:
    return [c for c in await ax.find("customer", [eq("CustTable", "AccountNum", account)])
            if c.account_num == account]


def order_messages(store: Store, key: str, event: str = "order.created") -> list[Any]:
    return [m for m in store.list_messages(entity="order", key=key) if m.event == event]


async def wait_done(store: Store, keys: list[str], timeout_s: float = 60.0) -> None:
    """Until every ``order.created`` message of each key is finished (done or dead) and each key has one."""
    async def finished() -> bool:
        for key in keys:
            msgs = order_messages(store, key)
            if not msgs or any(m.status not in ("done", "dead") for m in msgs):
                return False
        return True
    await wait_until(finished, timeout_s=timeout_s)


async def settled(store: Store, entity: str = "order", timeout_s: float = 30.0) -> None:
    """Until no message of ``entity`` is new, processing or retrying."""
    async def quiet() -> bool:
        counts = store.counts().get(entity, {})
        return not any(counts.get(s) for s in ("new", "processing", "retry"))
    await wait_until(quiet, timeout_s=timeout_s)


def load_order_results(store: Store, message_id: str) -> dict[str, Any]:
    """What the ``load-order`` step reported in the message's last successful attempt."""
    events = [e for e in store.timeline(message_id) if e["kind"] == "attempt_succeeded"]
    assert events, f"message {message_id} never succeeded"
    return dict(events[-1]["detail"]["results"]["load-order"])
