"""The date_upd poller (against the protocol fake) and the webhook adapters."""

from __future__ import annotations

import json

import pytest

from connectors.errors import ConfigError, ValidationError
from connectors.prestashop import (
    MemoryCursorStore,
    Poller,
    PollState,
    SignatureError,
    parse_ps_webhooks,
    parse_signed,
)
from connectors.prestashop.signing import signature_headers

pytestmark = pytest.mark.unit

T0 = "2024-05-01 10:00:00"
T1 = "2024-05-01 10:00:01"
T2 = "2024-05-01 10:00:02"


async def test_records_sharing_a_second_are_neither_missed_nor_repeated(shop, client):
    shop.add("orders", {"id": 1, "date_upd": "2024-04-30 09:00:00"})
    for i in (2, 3, 4):
        shop.add("orders", {"id": i, "date_upd": T0})
    store = MemoryCursorStore()
    poller = Poller(client, "orders", store, display=["id", "date_upd"], page_size=2)
    first = await poller.poll()
    assert [c.id for c in first] == [1, 2, 3, 4]
    assert store.state == PollState(cursor=T0, seen_ids=[2, 3, 4])
    # order 1 is saved again later *within the same second* as the cursor (smaller id than
    # the ones seen), and order 5 in the next second
    shop.data["orders"][1]["date_upd"] = T0
    shop.add("orders", {"id": 5, "date_upd": T1})
    second = await poller.poll()
    assert [(c.id, c.date_upd) for c in second] == [(1, T0), (5, T1)]
    assert store.state == PollState(cursor=T1, seen_ids=[5])
    assert await poller.poll() == []
    # every request asked for date=1 (PrestaShop refuses date filters without it)
    assert all(r.url.params.get("date") == "1" for r in shop.requests)


async def test_a_full_page_at_the_cursor_second_does_not_stall(shop, client):
    for i in range(1, 8):
        shop.add("customers", {"id": i, "date_upd": T1})
    shop.add("customers", {"id": 8, "date_upd": T2})
    poller = Poller(client, "customers", MemoryCursorStore(), display="full", page_size=3)
    assert [c.id for c in await poller.poll()] == [1, 2, 3, 4, 5, 6, 7, 8]


async def test_consumer_stopping_mid_page_sees_the_page_again(shop, client):
    for i in (1, 2, 3):
        shop.add("orders", {"id": i, "date_upd": T0})
    store = MemoryCursorStore()
    poller = Poller(client, "orders", store, display=["id", "date_upd"], page_size=10)
    async for change in poller.changes():
        assert change.id == 1
        break  # crash/stop before the page is committed
    assert store.state is None
    assert [c.id for c in await poller.poll()] == [1, 2, 3]


def test_poller_configuration_errors(client):
    with pytest.raises(ConfigError, match="no date_upd"):
        Poller(client, "stock_availables", MemoryCursorStore())
    with pytest.raises(ConfigError, match="must include 'id' and 'date_upd'"):
        Poller(client, "orders", MemoryCursorStore(), display=["id"])


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signed_webhook_verifies_and_normalises():
    body = json.dumps({"type": "order.created", "timestamp": 1700000000, "data": {"id": 5, "reference": "XKBKNABJK"}}).encode()
    headers = signature_headers(SECRET, "msg_1", body, timestamp=1700000000)
    event = parse_signed(body, headers, [SECRET], now=1700000010)
    assert (event.type, event.entity, event.key, event.event_id, event.timestamp) == (
        "order.created", "order", "5", "msg_1", 1700000000)
    assert event.data["reference"] == "XKBKNABJK"
    iso = json.dumps({"type": "stock.updated", "timestamp": "2023-11-14T22:13:20Z", "data": {"id": 8}}).encode()
    iso_event = parse_signed(iso, signature_headers(SECRET, "msg_9", iso, timestamp=1700000000), [SECRET],
                             now=1700000000)
    assert (iso_event.entity, iso_event.key, iso_event.timestamp) == ("stock", "8", 1700000000)
    with pytest.raises(SignatureError) as info:
        parse_signed(body + b" ", headers, [SECRET], now=1700000010)
    assert info.value.reason == "mismatch"
    with pytest.raises(SignatureError) as info:
        parse_signed(body, headers, [SECRET], now=1700009999)
    assert info.value.reason == "stale"
    with pytest.raises(SignatureError):
        parse_signed(body, headers, [], now=1700000010)


def test_signed_webhook_with_bad_payload_is_a_validation_error():
    body = b'{"type": "nonsense", "data": {"id": 1}}'
    headers = signature_headers(SECRET, "msg_2", body, timestamp=1700000000)
    with pytest.raises(ValidationError, match="entity.verb"):
        parse_signed(body, headers, [SECRET], now=1700000000)
    body = b'{"type": "customer.updated", "data": {"email": "x"}}'
    headers = signature_headers(SECRET, "msg_3", body, timestamp=1700000000)
    with pytest.raises(ValidationError, match="no 'id'"):
        parse_signed(body, headers, [SECRET], now=1700000000)


def test_ps_webhooks_format_needs_the_url_token():
    body = json.dumps({"action": "add", "entity": "Customer", "data": {"id": 12, "email": "a@example.com"}}).encode()
    event = parse_ps_webhooks(body, "tok-123", ["tok-123"])
    assert (event.type, event.entity, event.key) == ("customer.created", "customer", "12")
    assert event.event_id.startswith("sha256:") and event.event_id == parse_ps_webhooks(body, "tok-123", ["tok-123"]).event_id
    history = json.dumps({"action": "add", "entity": "OrderHistory", "data": {"id": 40, "id_order": 7}}).encode()
    assert parse_ps_webhooks(history, "tok-123", ["tok-123"]).type == "order.updated"
    assert parse_ps_webhooks(history, "tok-123", ["tok-123"]).key == "7"
    with pytest.raises(SignatureError):
        parse_ps_webhooks(body, "wrong", ["tok-123"])
    with pytest.raises(SignatureError):
        parse_ps_webhooks(body, None, ["tok-123"])
    with pytest.raises(SignatureError, match="not enabled"):
        parse_ps_webhooks(body, "tok-123", [])
    with pytest.raises(ValidationError, match="add, update or delete"):
        parse_ps_webhooks(b'{"action":"x","entity":"Customer","data":{"id":1}}', "tok-123", ["tok-123"])


async def test_file_cursor_store_round_trips_and_refuses_garbage(tmp_path):
    from connectors.prestashop import FileCursorStore

    store = FileCursorStore(tmp_path / "state.json")
    assert await store.load() is None
    await store.save(PollState(cursor=T1, seen_ids=[3, 4]))
    assert await FileCursorStore(tmp_path / "state.json").load() == PollState(cursor=T1, seen_ids=[3, 4])
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left behind
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not a poller state"):
        await FileCursorStore(tmp_path / "bad.json").load()


def test_order_sub_records_normalise_the_same_in_both_formats():
    data = {"id": 3, "id_order": 7, "tracking_number": "1Z9"}
    body = json.dumps({"type": "order_carrier.updated", "timestamp": 1700000000, "data": data}).encode()
    signed = parse_signed(body, signature_headers(SECRET, "msg_5", body, timestamp=1700000000), [SECRET],
                          now=1700000000)
    unsigned = parse_ps_webhooks(json.dumps({"action": "update", "entity": "OrderCarrier", "data": data}).encode(),
                                 "tok", ["tok"])
    for event in (signed, unsigned):
        assert (event.type, event.entity, event.key) == ("shipment.updated", "shipment", "7")
    history = json.dumps({"type": "order_history.created", "data": {"id": 40, "id_order": 9}}).encode()
    event = parse_signed(history, signature_headers(SECRET, "msg_6", history, timestamp=1700000000), [SECRET],
                         now=1700000000)
    assert (event.type, event.key) == ("order.updated", "9")
