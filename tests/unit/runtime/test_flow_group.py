"""Several declarative flows on one event (runtime.flow_group): all run, in order, through the
worker without Ray; a Python flow registered first still takes the event alone."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest

from connectors.errors import PermanentError
from runtime.flow_group import FlowGroup
from runtime.flows import FlowRegistry, FunctionFlow
from runtime.messages import Message, new_message_id
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.worker import EntityWorker

pytestmark = pytest.mark.unit


@dataclass
class _Loaded:
    version_id: str


class Declarative:
    """A flow as the YAML flows look to the registry: a name, a ``loaded`` spec, ``run``."""

    def __init__(self, name: str, outcome: dict[str, Any] | Exception) -> None:
        self.name, self.outcome, self.loaded, self.calls = name, outcome, _Loaded(f"sha256:{name}"), 0

    async def run(self, ctx: Any, message: Message) -> dict[str, Any]:
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return dict(self.outcome)


ECHO = {"status": "skipped_echo", "reason": "The shop's echo of our own write-back: ...", "echo_of": 1.0}
DROPPED = {"status": "dropped", "step": "guard", "reason": "not Canceled"}
DONE = {"status": "done", "results": {}}


def _updated(key: str) -> Message:
    return Message(id=new_message_id(), entity="order", key=key, source="prestashop", event="order.updated",
                   payload={"id": key}, idempotency_key=new_message_id())


@pytest.fixture
def store(store_url: str):
    s = AsyncStore(Store(store_url, grace_s=0.0))
    yield s
    s.close()


def _worker(store: Any, registry: FlowRegistry) -> EntityWorker:
    return EntityWorker("order", store, registry, RetryPolicy(0.01, 0.02, 3, random.Random(1)), lease_s=30)


async def test_every_declarative_flow_of_an_event_runs_and_an_echo_with_drops_is_skipped_echo(store) -> None:
    registry = FlowRegistry()
    orders, cancel = Declarative("ps_order_to_ax", ECHO), Declarative("ps_order_cancel_to_ax", DROPPED)
    registry.register("order", "order.created", orders)
    registry.register("order", "order.updated", orders)
    registry.register("order", "order.updated", cancel)
    assert registry.resolve("order", "order.created") is orders  # one flow: itself
    group = registry.resolve("order", "order.updated")
    assert isinstance(group, FlowGroup) and group.name == "ps_order_to_ax+ps_order_cancel_to_ax"
    mid = store.sync.append(_updated("5"))[0]
    assert await _worker(store, registry).nudge("5") == 1
    assert (orders.calls, cancel.calls) == (1, 1)
    msg = await store.get(mid)
    assert msg.status == "done" and msg.flow == "ps_order_to_ax+ps_order_cancel_to_ax"
    last = store.sync.timeline(mid)[-1]
    assert last["kind"] == "skipped_echo"
    assert last["detail"]["reason"] == ECHO["reason"]
    assert last["detail"]["flows"]["ps_order_cancel_to_ax"]["status"] == "dropped"
    assert last["detail"]["flow_version"] == \
        "ps_order_to_ax=sha256:ps_order_to_ax;ps_order_cancel_to_ax=sha256:ps_order_cancel_to_ax"


async def test_a_flow_that_acts_makes_the_group_done_and_a_failure_fails_the_message(store) -> None:
    registry = FlowRegistry()
    registry.register("order", "order.updated", Declarative("a", ECHO))
    registry.register("order", "order.updated", Declarative("b", DONE))
    mid = store.sync.append(_updated("6"))[0]
    await _worker(store, registry).nudge("6")
    last = store.sync.timeline(mid)[-1]
    assert last["kind"] == "attempt_succeeded" and last["detail"]["status"] == "done"
    registry = FlowRegistry()
    registry.register("order", "order.updated", Declarative("a", DROPPED))
    registry.register("order", "order.updated", Declarative("b", PermanentError("AX shipped it")))
    mid = store.sync.append(_updated("7"))[0]
    await _worker(store, registry).nudge("7")
    msg = await store.get(mid)
    assert msg.status == "dead" and msg.last_error["message"] == "AX shipped it"


async def test_a_python_flow_registered_first_keeps_the_event_alone() -> None:
    registry = FlowRegistry()

    async def handler(ctx: Any, message: Message) -> None:
        return None
    python = FunctionFlow("custom", handler)
    registry.register("order", "order.updated", python)
    registry.register("order", "order.updated", Declarative("a", ECHO))
    registry.register("order", "order.updated", Declarative("b", DROPPED))
    assert registry.resolve("order", "order.updated") is python
