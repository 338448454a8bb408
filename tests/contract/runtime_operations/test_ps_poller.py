"""The runtime's PrestaShop poller against the shop sandbox over HTTP, on a real store (both
backends): where the first pass starts, a durable cursor, records sharing one second, the events
it names, and one message for a change found by both the webhook and the poller.

The sandbox's clock is frozen per test (``/_sandbox/clock``) so that records share a second on
purpose; the poller's clock is set to the same instant (the shop's clock is UTC)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from itertools import count

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from connectors.prestashop.signing import signature_headers
from runtime.app import build_app
from runtime.messages import Message, new_message_id
from runtime.pollers_ps import OVERLAP_S, PsPoller, ps_cursor_name
from runtime.store import AsyncStore, Store
from runtime.tracing import setup_tracing
from tests.contract.runtime_operations.support import PS_KEY

pytestmark = pytest.mark.contract

SECRET = "whsec_cG9sbGVyLXRlc3Qtc2VjcmV0LXBvbGxlcg=="
_emails = count(1)


def epoch(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC).timestamp()


class Shop:
    """The sandbox shop: its webservice, its clock, and the customers made here."""

    def __init__(self, client: Client, control: httpx.AsyncClient) -> None:
        self.client = client
        self.control = control

    async def at(self, stamp: str) -> None:
        r = await self.control.put("/_sandbox/clock", json={"frozen": stamp})
        assert r.status_code == 200 and r.json()["now"] == stamp

    async def customer(self) -> dict:
        n = next(_emails)
        return dict(await self.client.create("customers", {
            "lastname": "Poll", "firstname": "Pat", "email": f"poll{n}@example.com", "passwd": "poll-pass-1",
            "id_default_group": 3, "active": 1}))

    async def touch(self, customer_id: int, lastname: str) -> dict:
        return dict(await self.client.update("customers", customer_id, {"lastname": lastname}))


@pytest.fixture
async def shop() -> AsyncIterator[Shop]:
    """A fresh small shop per test (and per store backend): each sees only its own records."""
    with run_ps(SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=0)) as url:
        async with Client(ClientConfig(base_url=url, api_key=PS_KEY)) as client, \
                httpx.AsyncClient(base_url=url, auth=(PS_KEY, "")) as control:
            yield Shop(client, control)


@pytest.fixture
def journal(store_url: str) -> Iterator[AsyncStore]:
    store = AsyncStore(Store(store_url))
    yield store
    store.close()


def poller(journal: AsyncStore, shop: Shop, now: str, resource: str = "customers", **kw) -> PsPoller:
    return PsPoller(journal, shop.client, resource, clock=lambda: epoch(now), **kw)


def messages(journal: AsyncStore, key: object) -> list:
    return journal.sync.list_messages(entity="customer", key=str(key))


async def test_the_first_pass_starts_an_overlap_before_now_and_the_cursor_is_durable(
        journal: AsyncStore, shop: Shop) -> None:
    spans = InMemorySpanExporter()
    setup_tracing(None, processors=[SimpleSpanProcessor(spans)])
    assert OVERLAP_S == 120.0
    await shop.at("2031-01-01 09:50:00")
    old = await shop.customer()  # before the window: a bulk sync's business
    await shop.at("2031-01-01 09:58:30")
    recent = await shop.customer()  # inside the window (120 s before 10:00:00)
    await shop.at("2031-01-01 10:00:00")
    assert await poller(journal, shop, "2031-01-01 10:00:00").poll() == 1
    assert messages(journal, old["id"]) == []
    (found,) = messages(journal, recent["id"])
    assert (found.event, found.source, found.source_version) == ("customer.created", "prestashop",
                                                                 "2031-01-01 09:58:30")
    assert found.idempotency_key == f"prestashop:customer:{recent['id']}:2031-01-01 09:58:30"
    assert found.payload["found_by"] == "poll" and found.payload["id"] == int(recent["id"])
    assert "email" not in found.payload  # no personal data: the flow reads the record itself
    poll_traces = {s.context.trace_id for s in spans.get_finished_spans() if s.name == "poll"}
    assert found.traceparent and int(found.traceparent.split("-")[1], 16) in poll_traces
    state = journal.sync.get_cursor(ps_cursor_name("customers"))
    assert state["watch_since"] == "2031-01-01 09:58:00"

    # a new poller (a restarted bridge) resumes from the stored cursor: only the new change
    await shop.at("2031-01-01 10:00:07")
    await shop.touch(int(old["id"]), "Older")
    assert await poller(journal, shop, "2031-01-01 10:05:00").poll() == 1
    (update,) = messages(journal, old["id"])
    assert update.event == "customer.updated"  # added before the watch began
    assert len(messages(journal, recent["id"])) == 1
    assert await poller(journal, shop, "2031-01-01 10:05:00").poll() == 0


async def test_a_quiet_shop_is_not_replayed_on_the_first_pass(journal: AsyncStore, shop: Shop) -> None:
    await shop.at("2032-01-01 08:00:00")
    quiet = [await shop.customer() for _ in range(3)]  # the shop's newest records, all in one second
    # the bridge starts long after: nothing is in its window, and the newest second is taken as seen
    assert await poller(journal, shop, "2032-01-01 12:00:00", page_size=2).poll() == 0
    state = journal.sync.get_cursor(ps_cursor_name("customers"))
    assert state["cursor"] == "2032-01-01 08:00:00"
    assert sorted(state["seen_ids"]) == sorted(int(c["id"]) for c in quiet)
    await shop.at("2032-01-01 12:00:01")
    fresh = await shop.customer()
    assert await poller(journal, shop, "2032-01-01 12:00:02").poll() == 1
    assert [m.event for m in messages(journal, fresh["id"])] == ["customer.created"]


async def test_records_sharing_one_second_are_neither_missed_nor_repeated(journal: AsyncStore, shop: Shop) -> None:
    second = "2033-01-01 10:00:00"
    await shop.at(second)
    first = [await shop.customer() for _ in range(3)]
    assert await poller(journal, shop, second, page_size=2).poll() == 3
    # saved later within the same second, after the cursor reached it
    later = [await shop.customer() for _ in range(2)]
    assert await poller(journal, shop, second, page_size=2).poll() == 2
    assert await poller(journal, shop, second, page_size=2).poll() == 0
    for customer in first + later:
        assert [m.event for m in messages(journal, customer["id"])] == ["customer.created"]


async def test_a_record_never_heard_of_is_created_and_one_already_journaled_is_updated(
        journal: AsyncStore, shop: Shop) -> None:
    await shop.at("2034-01-01 10:00:00")
    watched = poller(journal, shop, "2034-01-01 10:00:00")
    assert await watched.poll() == 0  # the watch begins
    await shop.at("2034-01-01 10:00:02")
    missed = await shop.customer()  # its creation webhook never came
    heard = await shop.customer()  # its creation webhook came:
    journal.sync.append(Message(id=new_message_id(), entity="customer", key=str(heard["id"]), source="prestashop",
                                event="customer.created", payload={"id": int(heard["id"])},
                                idempotency_key="prestashop:webhook:evt_heard"))
    await shop.at("2034-01-01 10:00:05")
    for customer in (missed, heard):  # both change again before the next pass
        await shop.touch(int(customer["id"]), "Changed")
    assert await watched.poll() == 2
    assert [m.event for m in messages(journal, missed["id"])] == ["customer.created"]
    assert [m.event for m in messages(journal, heard["id"])] == ["customer.updated", "customer.created"]


class Ingress:
    """The bridge's Serve app (webhooks) over httpx.ASGITransport, on the same store."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def post(self, event_type: str, record: dict, wid: str) -> httpx.Response:
        # what the shop's module sends: the record's fields (the sandbox emitter's shape)
        data = {"resource": "customers", "id": int(record["id"]), "date_upd": record["date_upd"],
                "date_add": record["date_add"], "lastname": record["lastname"]}
        body = json.dumps({"type": event_type, "timestamp": 1, "data": data}).encode()
        headers = {"content-type": "application/json", **signature_headers(SECRET, wid, body)}
        return await self.client.post("/webhooks/prestashop", content=body, headers=headers)


@pytest.fixture
async def ingress(journal: AsyncStore) -> AsyncIterator[Ingress]:
    app = build_app(journal, webhook_secrets=[SECRET], admin_token="admin-token-for-tests", nudge=lambda e, k, c: None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge") as client:
        yield Ingress(client)


async def test_a_change_found_by_the_webhook_and_the_poller_is_one_message(
        journal: AsyncStore, shop: Shop, ingress: Ingress) -> None:
    await shop.at("2035-01-01 10:00:00")
    watched = poller(journal, shop, "2035-01-01 10:00:00")
    assert await watched.poll() == 0
    await shop.at("2035-01-01 10:00:01")
    webhook_first = await shop.customer()
    poll_first = await shop.customer()

    # the webhook first, then the poll: the poll adds nothing
    r = await ingress.post("customer.created", webhook_first, "evt_w1")
    assert r.status_code == 202, r.text
    original = r.json()["message_id"]
    # ... the poll first (it lists both), then the webhook: the webhook is the poll's duplicate
    assert await watched.poll() == 1
    (polled,) = messages(journal, poll_first["id"])
    r = await ingress.post("customer.created", poll_first, "evt_p1")
    assert r.status_code == 200 and r.json() == {"message_id": polled.id, "duplicate": True}
    # ... and a redelivery of either webhook id is still a duplicate of what it brought
    again = await ingress.post("customer.created", webhook_first, "evt_w1")
    assert again.status_code == 200 and again.json()["message_id"] == original
    again = await ingress.post("customer.created", poll_first, "evt_p1")
    assert again.status_code == 200 and again.json()["message_id"] == polled.id
    assert [m.id for m in messages(journal, webhook_first["id"])] == [original]
    assert [m.id for m in messages(journal, poll_first["id"])] == [polled.id]

    # a later change of one record: one message more, whichever path comes first
    await shop.at("2035-01-01 10:00:09")
    changed = await shop.touch(int(webhook_first["id"]), "Changed")
    r = await ingress.post("customer.updated", changed, "evt_w2")
    assert r.status_code == 202
    assert await watched.poll() == 0
    updates = [m for m in messages(journal, webhook_first["id"]) if m.event == "customer.updated"]
    assert [m.idempotency_key for m in updates] == [
        f"prestashop:customer:{webhook_first['id']}:2035-01-01 10:00:09"]
    assert journal.sync.counts() == {"customer": {"new": 3}}


async def test_a_reused_webhook_id_is_recognised_under_the_change_key(
        journal: AsyncStore, shop: Shop, ingress: Ingress) -> None:
    await shop.at("2036-01-01 10:00:00")
    one, other = await shop.customer(), await shop.customer()
    first = await ingress.post("customer.created", one, "evt_reused")
    assert first.status_code == 202
    # the same webhook id with another record's body: answered as the duplicate, not journaled
    reused = await ingress.post("customer.created", other, "evt_reused")
    assert reused.status_code == 200 and reused.json()["message_id"] == first.json()["message_id"]
    assert messages(journal, other["id"]) == []
    kinds = [e["kind"] for e in journal.sync.timeline(first.json()["message_id"])]
    assert kinds == ["received", "duplicate_mismatch"]
