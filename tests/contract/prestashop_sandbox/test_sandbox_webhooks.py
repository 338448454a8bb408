"""The webhook emitter: signed Standard Webhooks, in order, retried while the receiver is down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.prestashop.sandbox import run_in_thread
from connectors.prestashop.sandbox.server import free_port
from connectors.prestashop.signing import verify
from tests.contract.prestashop_sandbox.conftest import FULL_KEY, make_config

pytestmark = pytest.mark.contract

SECRET = "whsec_c2FuZGJveC13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5"


class Receiver:
    """A real HTTP receiver that fails the first ``fail_first`` deliveries with 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.calls = 0
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def hook(self, request: Request) -> Response:
        self.calls += 1
        body = await request.body()
        if self.calls <= self.fail_first:
            return Response("busy", status_code=503)
        self.received.append((dict(request.headers), body))
        return Response(status_code=202)

    def events(self) -> list[dict[str, object]]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver_port() -> int:
    return free_port()


def serve(receiver: Receiver, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    app = Starlette(routes=[Route("/hook", receiver.hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread


def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def shop_config(port: int) -> object:
    return make_config(seed=0, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_secret=SecretStr(SECRET),
                       webhook_backoff_s=0.05, webhook_backoff_max_s=0.2, webhook_max_attempts=50)


CUSTOMER = ("<prestashop><customer><passwd>hook-pass</passwd><lastname>Hook</lastname><firstname>Ada</firstname>"
            "<email>{email}</email><id_default_group>3</id_default_group><active>1</active></customer></prestashop>")


@pytest.fixture
def receiver_up(receiver_port: int) -> Iterator[Receiver]:
    receiver = Receiver(fail_first=2)
    server, thread = serve(receiver, receiver_port)
    yield receiver
    server.should_exit = True
    thread.join(5)


def test_signed_events_retry_after_failures(receiver_up: Receiver, receiver_port: int) -> None:
    with run_in_thread(shop_config(receiver_port)) as url, httpx.Client(base_url=url, auth=(FULL_KEY, "")) as c:  # type: ignore[arg-type]
        assert c.post("/api/customers", content=CUSTOMER.format(email="one@example.com")).status_code == 201
        assert c.post("/api/customers", content=CUSTOMER.format(email="two@example.com")).status_code == 201
        # the emitter counts a delivery once it has read the answer, a moment after the receiver saw it
        wait_for(lambda: c.get("/_sandbox/webhooks").json()["delivered"] == 2)
        status = c.get("/_sandbox/webhooks").json()
    assert receiver_up.calls == 4  # two 503s, then both delivered
    assert status["delivered"] == 2 and status["retries"] == 2 and status["failed"] == 0
    ids = []
    for headers, body in receiver_up.received:
        ids.append(verify([SECRET], headers, body))
        assert headers["content-type"] == "application/json"
    assert len(set(ids)) == 2
    events = receiver_up.events()
    assert [e["type"] for e in events] == ["customer.created", "customer.created"]
    assert [e["data"]["email"] for e in events] == ["one@example.com", "two@example.com"]  # type: ignore[index]
    assert all("passwd" not in e["data"] and "secure_key" not in e["data"] for e in events)  # type: ignore[operator]


def test_tampered_body_does_not_verify(receiver_up: Receiver, receiver_port: int) -> None:
    from connectors.prestashop.signing import SignatureError

    with run_in_thread(shop_config(receiver_port)) as url, httpx.Client(base_url=url, auth=(FULL_KEY, "")) as c:  # type: ignore[arg-type]
        c.post("/api/customers", content=CUSTOMER.format(email="tamper@example.com"))
        wait_for(lambda: len(receiver_up.received) == 1)
    headers, body = receiver_up.received[0]
    with pytest.raises(SignatureError):
        verify([SECRET], headers, body.replace(b"tamper", b"temper"))
    with pytest.raises(SignatureError):
        verify(["whsec_d3Jvbmctc2VjcmV0"], headers, body)


def test_receiver_down_then_up_gets_everything(receiver_port: int) -> None:
    receiver = Receiver()
    with run_in_thread(shop_config(receiver_port)) as url, httpx.Client(base_url=url, auth=(FULL_KEY, "")) as c:  # type: ignore[arg-type]
        c.post("/api/customers", content=CUSTOMER.format(email="down@example.com"))
        wait_for(lambda: c.get("/_sandbox/webhooks").json()["retries"] >= 2)  # connection refused, retried
        server, thread = serve(receiver, receiver_port)
        try:
            wait_for(lambda: len(receiver.received) == 1)
        finally:
            server.should_exit = True
            thread.join(5)
    assert receiver.events()[0]["type"] == "customer.created"


def test_order_event_after_validate_order(receiver_up: Receiver, receiver_port: int) -> None:
    receiver_up.fail_first = 0
    with run_in_thread(shop_config(receiver_port)) as url, httpx.Client(base_url=url, auth=(FULL_KEY, "")) as c:  # type: ignore[arg-type]
        # the seedless shop has no products: create one, give it stock, then order it
        product = c.post("/api/products", content="<prestashop><product><price>10</price><active>1</active><id_tax_rules_group>1</id_tax_rules_group>"
                         '<name><language id="1">Pen</language><language id="2">Stylo</language></name></product></prestashop>')
        pid = product.text.split("<id><![CDATA[")[1].split("]]>")[0]
        customer = c.post("/api/customers", content=CUSTOMER.format(email="order@example.com")).text
        cid = customer.split("<id><![CDATA[")[1].split("]]>")[0]
        key = customer.split("<secure_key><![CDATA[")[1].split("]]>")[0]
        address = c.post("/api/addresses", content=(
            f"<prestashop><address><id_customer>{cid}</id_customer><id_country>8</id_country><alias>Home</alias>"
            "<lastname>Hook</lastname><firstname>Ada</firstname><address1>2 rue</address1><city>Lyon</city>"
            "</address></prestashop>")).text
        aid = address.split("<id><![CDATA[")[1].split("]]>")[0]
        cart = c.post("/api/carts", content=(
            f"<prestashop><cart><id_currency>1</id_currency><id_lang>1</id_lang><id_customer>{cid}</id_customer>"
            f"<id_address_delivery>{aid}</id_address_delivery><id_address_invoice>{aid}</id_address_invoice>"
            f"<id_carrier>1</id_carrier><secure_key>{key}</secure_key><associations><cart_rows><cart_row>"
            f"<id_product>{pid}</id_product><id_product_attribute>0</id_product_attribute>"
            f"<id_address_delivery>{aid}</id_address_delivery><quantity>1</quantity></cart_row></cart_rows>"
            "</associations></cart></prestashop>")).text
        cart_id = cart.split("<id><![CDATA[")[1].split("]]>")[0]
        r = c.post("/api/orders", content=(
            f"<prestashop><order><id_address_delivery>{aid}</id_address_delivery><id_address_invoice>{aid}"
            f"</id_address_invoice><id_cart>{cart_id}</id_cart><id_currency>1</id_currency><id_lang>1</id_lang>"
            f"<id_customer>{cid}</id_customer><id_carrier>1</id_carrier><module>ps_wirepayment</module>"
            "<payment>Bank wire</payment><total_paid>12.00</total_paid><total_paid_real>0</total_paid_real>"
            "<total_products>10</total_products><total_products_wt>12</total_products_wt>"
            "<conversion_rate>1</conversion_rate></order></prestashop>"))
        assert r.status_code == 201
        wait_for(lambda: any(e["type"] == "order.created" for e in receiver_up.events()))
    orders = [e for e in receiver_up.events() if e["type"] == "order.created"]
    assert len(orders) == 1
    data = orders[0]["data"]
    assert data["current_state"] == "11" and len(data["reference"]) == 9  # type: ignore[index]
    assert data["associations"]["order_rows"][0]["product_id"] == pid  # type: ignore[index]
    types = [e["type"] for e in receiver_up.events()]
    assert types.index("order.created") > types.index("stock.updated")  # sent once the order is complete


def test_ps_webhooks_module_format(receiver_up: Receiver, receiver_port: int) -> None:
    receiver_up.fail_first = 0
    config = make_config(seed=0, webhook_url=f"http://127.0.0.1:{receiver_port}/hook", webhook_format="ps_webhooks")
    with run_in_thread(config) as url, httpx.Client(base_url=url, auth=(FULL_KEY, "")) as c:
        cid = c.post("/api/customers", content=CUSTOMER.format(email="module@example.com")).text
        cid = cid.split("<id><![CDATA[")[1].split("]]>")[0]
        c.delete(f"/api/customers/{cid}")
        wait_for(lambda: len(receiver_up.received) == 2)
    (headers, _), _ = receiver_up.received
    assert "webhook-signature" not in headers and headers["accept"] == "application/json"
    add, delete = receiver_up.events()
    assert (add["action"], add["entity"], delete["action"]) == ("add", "Customer", "delete")
    assert add["data"]["email"] == "module@example.com" and "passwd" not in add["data"]  # type: ignore[index,operator]
