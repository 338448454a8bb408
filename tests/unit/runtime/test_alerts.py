"""Alerts: stored, and posted to the configured webhook when severe enough (over real HTTP)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors._serving import free_port, serve_in_thread
from runtime.alerts import Alerter
from runtime.flows import FlowRegistry
from runtime.messages import Message, new_message_id
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.worker import EntityWorker
from tests import flows_for_tests

pytestmark = pytest.mark.unit


@pytest.fixture
def receiver():
    received: list[dict] = []

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"ok": True})

    with serve_in_thread(Starlette(routes=[Route("/hook", hook, methods=["POST"])]), name="alert receiver") as url:
        yield f"{url}/hook", received


async def test_severe_alerts_are_posted_and_all_are_stored(tmp_path: Path, receiver) -> None:
    url, received = receiver
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'a.db'}"))
    alerter = Alerter(store, url, min_severity="warning")
    await alerter.alert("info", "prestashop", "A new shop language appeared.")
    await alerter.alert("error", "prestashop", "PrestaShop refused the webservice key (code 17).")
    assert [a["severity"] for a in store.sync.list_alerts()] == ["error", "info"]
    assert len(received) == 1 and received[0]["severity"] == "error"
    assert received[0]["text"].startswith("[presta-ax error] prestashop:")
    store.close()


async def test_a_receiver_that_is_down_never_fails_the_caller(tmp_path: Path) -> None:
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'b.db'}"))
    alerter = Alerter(store, f"http://127.0.0.1:{free_port()}/hook", timeout_s=1.0)
    await alerter.alert("error", "ax", "AX refused the credentials.")
    assert alerter.delivered == 0 and store.sync.list_alerts()[0]["source"] == "ax"
    store.close()


async def test_a_dead_lettered_message_raises_a_warning_with_ids_not_payload(tmp_path: Path, receiver) -> None:
    url, received = receiver
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'c.db'}", grace_s=0.0))
    registry = FlowRegistry()
    flows_for_tests.register(registry)
    worker = EntityWorker("customer", store, registry, RetryPolicy(rng=random.Random(1)), lease_s=30,
                          alerter=Alerter(store, url, min_severity="warning"))
    mid = store.sync.append(Message(id=new_message_id(), entity="customer", key="C5", source="prestashop",
                                    event="customer.created", idempotency_key="d1",
                                    payload={"id": "C5", "permanent": True, "email": "jane@example.com"}))[0]
    await worker.nudge("C5")
    assert store.sync.get(mid).status == "dead"
    assert len(received) == 1 and received[0]["severity"] == "warning"
    assert mid in received[0]["message"] and "jane@example.com" not in str(received[0])
    store.close()
