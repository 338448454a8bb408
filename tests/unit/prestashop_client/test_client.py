"""The client against the in-memory protocol fake (httpx.MockTransport)."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
from lxml import etree

from connectors.errors import (
    AuthError,
    DuplicateError,
    NotFoundError,
    TransientError,
    ValidationError,
)
from connectors.prestashop import F

pytestmark = pytest.mark.unit

KEY = "UCCLLQ9N2ARSHWCXLT74KUKSSK34BFKX"


def sent_fields(request: httpx.Request) -> dict[str, str | None]:
    root = etree.fromstring(request.content)
    return {f.tag: f.text for f in root[0] if len(f) == 0}


async def test_basic_auth_user_is_the_key_and_id_shop_is_sent(shop, make_client):
    shop.add("customers", {"id": 1, "email": "a@example.com"})
    client = make_client(id_shop=2)
    rec = await client.get("customers", 1)
    assert rec == {"id": "1", "email": "a@example.com"}
    req = shop.requests[-1]
    assert req.headers["authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert req.url.params["id_shop"] == "2"
    assert client.psws_version == "8.2.0"
    assert KEY not in repr(client)


async def test_key_in_query_for_hosts_that_strip_authorization(shop, make_client):
    shop.add("customers", {"id": 1, "email": "a@example.com"})
    client = make_client(key_in_query=True)
    await client.get("customers", 1)
    req = shop.requests[-1]
    assert "authorization" not in req.headers and req.url.params["ws_key"] == KEY


async def test_wrong_key_is_auth_error(shop, make_client):
    shop.hook = lambda r: httpx.Response(401, text="401 Unauthorized")
    with pytest.raises(AuthError):
        await make_client().get("customers", 1)


async def test_missing_record_is_not_found(client):
    with pytest.raises(NotFoundError, match="GET customers/9 with HTTP 404"):
        await client.get("customers", 9)


async def test_network_failure_is_transient(shop, make_client):
    def boom(request):
        raise httpx.ConnectError("refused", request=request)

    shop.hook = boom
    with pytest.raises(TransientError, match="network"):
        await make_client().list("orders")


async def test_list_filters_sort_and_iter_all_pages(shop, client):
    for i in range(1, 26):
        shop.add("customers", {"id": i, "lastname": "Doe" if i % 2 else "Roe"})
    rows = await client.list("customers", display=["id", "lastname"], filters={"lastname": F.eq("Doe")},
                             sort=["id_DESC"], limit=3)
    assert [r["id"] for r in rows] == ["25", "23", "21"]
    shop.requests.clear()
    ids = [r["id"] async for r in client.iter_all("customers", page_size=10)]
    assert ids == [str(i) for i in range(1, 26)]
    assert [r.url.params["limit"] for r in shop.requests] == ["0,10", "10,10", "20,10"]
    assert all(r.url.params["sort"] == "[id_ASC]" for r in shop.requests)


async def test_create_sends_every_language_and_refuses_bad_input_locally(shop, client):
    saved = await client.create("categories", {"name": "Shoes", "active": True, "link_rewrite": {1: "shoes"}})
    assert saved["id"] == "1"
    body = shop.requests[-1].content.decode()
    assert '<name><language id="1"><![CDATA[Shoes]]></language><language id="2"><![CDATA[Shoes]]></language></name>' in body
    # a language the caller left out gets the default language's text instead of a blank
    assert '<link_rewrite><language id="1"><![CDATA[shoes]]></language><language id="2"><![CDATA[shoes]]>' in body
    assert "<active><![CDATA[1]]></active>" in body
    count = len(shop.requests)
    with pytest.raises(ValidationError, match="did you mean 'lastname'"):
        await client.create("customers", {"lastnme": "Doe"})
    with pytest.raises(ValidationError, match="read-only"):
        await client.create("products", {"quantity": 3})
    with pytest.raises(ValidationError, match="error 91"):
        await client.create("customers", {"id": 4, "lastname": "Doe"})
    with pytest.raises(ValidationError, match="error 101"):
        await client.create("stock_availables", {"id_product": 1})
    assert len(shop.requests) == count  # none of these reached the shop


async def test_update_merges_so_nothing_is_wiped(shop, client):
    shop.add("products", {
        "id": 7, "manufacturer_name": "ACME", "quantity": "12", "position_in_category": "0",
        "reference": "REF-7", "price": "10.000000", "active": "1", "date_add": "2024-01-01 10:00:00",
        "name": {1: "Mug", 2: "Tasse"},
        "associations": {"categories": [{"id": "2"}], "stock_availables": [{"id": "3", "id_product_attribute": "0"}]},
    })
    saved = await client.update("products", 7, {"price": 12.5, "name": {2: "Grande tasse"}})
    put = shop.requests[-1]
    assert put.method == "PUT" and put.url.path.endswith("/products/7")
    fields = sent_fields(put)
    assert fields["id"] == "7" and fields["price"] == "12.5" and fields["reference"] == "REF-7"
    assert fields["date_add"] == "2024-01-01 10:00:00"
    assert "quantity" not in fields and "manufacturer_name" not in fields  # read-only: error 93
    assert "position_in_category" not in fields  # virtual setter, not changed
    assert b"<associations>" not in put.content  # unchanged associations are never re-sent
    assert saved["name"] == {1: "Mug", 2: "Grande tasse"}
    assert shop.data["products"][7]["reference"] == "REF-7" and shop.data["products"][7]["active"] == "1"


async def test_patch_sends_only_changes_and_completes_languages(shop, client):
    shop.add("products", {"id": 3, "price": "1.000000", "name": {1: "Pen", 2: "Stylo"}})
    await client.patch("products", 3, {"price": "2.5"})
    req = shop.requests[-1]
    assert req.method == "PATCH" and sent_fields(req) == {"id": "3", "price": "2.5"}
    await client.patch("products", 3, {"name": {1: "Blue pen"}})
    assert [r.method for r in shop.requests[-2:]] == ["GET", "PATCH"]
    assert shop.data["products"][3]["name"] == {1: "Blue pen", 2: "Stylo"}


async def test_ps_method_override_tunnels_put_and_delete_through_post(shop, make_client):
    shop.add("customers", {"id": 2, "lastname": "Doe", "passwd": "x" * 60})
    client = make_client(ps_method_override=True)
    await client.update("customers", 2, {"lastname": "Roe"})
    assert shop.requests[-1].method == "POST" and shop.requests[-1].url.params["ps_method"] == "PUT"
    await client.delete("customers", 2)
    assert shop.requests[-1].method == "POST" and shop.requests[-1].url.params["ps_method"] == "DELETE"
    assert 2 not in shop.data["customers"]


async def test_delete_several_is_all_or_nothing(shop, client):
    for i in (1, 2, 3):
        shop.add("manufacturers", {"id": i, "name": f"M{i}"})
    await client.delete("manufacturers", [1, 2])
    assert shop.requests[-1].url.params["id"] == "[1,2]" and list(shop.data["manufacturers"]) == [3]
    with pytest.raises(NotFoundError, match="error 87"):
        await client.delete("manufacturers", [3, 9])


async def test_order_creation_answered_in_plain_text(shop, client):
    shop.hook = lambda r: httpx.Response(
        200, text="Cart cannot be loaded or an order has already been placed using this cart"
    ) if r.method == "POST" else None
    with pytest.raises(DuplicateError, match="already been placed"):
        await client.create("orders", {"id_cart": 5, "module": "ps_checkpayment"})


async def test_json_reads_use_display_full_and_handle_quirks(shop, make_client):
    client = make_client(output_format="JSON", langs=[1])

    def json_shop(request: httpx.Request):
        assert request.url.params["output_format"] == "JSON"
        if request.url.path.endswith("/products/4"):
            assert request.url.params["display"] == "full"  # else falsy fields vanish
            return httpx.Response(200, json={"products": [{"id": 4, "active": "0", "name": "Mug"}]})
        return httpx.Response(200, json=[])

    shop.hook = json_shop
    assert await client.get("products", 4) == {"id": "4", "active": "0", "name": {1: "Mug"}}
    assert await client.list("products", filters={"id": F.eq(99)}) == []


async def test_each_request_is_a_client_span_without_secrets(shop):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from connectors.prestashop import Client, ClientConfig

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    shop.add("customers", {"id": 1, "email": "a@example.com"})
    client = Client(ClientConfig(base_url="https://shop.example", api_key=KEY, key_in_query=True),
                    transport=httpx.MockTransport(shop.handler), tracer_provider=provider)
    await client.get("customers", 1)
    with pytest.raises(NotFoundError):
        await client.get("customers", 2)
    ok, missing = exporter.get_finished_spans()
    assert ok.name == "prestashop GET customers" and ok.attributes["http.response.status_code"] == 200
    assert ok.attributes["url.path"] == "/api/customers/1"
    assert missing.status.status_code.name == "ERROR" and missing.attributes["http.response.status_code"] == 404
    for span in (ok, missing):
        assert KEY not in str(dict(span.attributes)) and "a@example.com" not in str(dict(span.attributes))


async def test_in_client_retries_honour_retry_after_for_idempotent_requests(shop, make_client):
    shop.add("customers", {"id": 1, "email": "a@example.com"})
    failures = {"left": 2}

    def flaky(request: httpx.Request):
        if failures["left"]:
            failures["left"] -= 1
            return httpx.Response(429, headers={"Retry-After": "0"})
        return None

    shop.hook = flaky
    client = make_client(max_retries=3)
    assert (await client.get("customers", 1))["id"] == "1"
    assert len(shop.requests) == 3
    failures["left"] = 1
    with pytest.raises(TransientError):  # POST is never retried by the client
        await client.create("manufacturers", {"name": "M"})
    assert make_client().config.max_retries == 0
    failures["left"] = 5
    with pytest.raises(TransientError, match="HTTP 429"):
        await make_client(max_retries=1).get("customers", 1)


async def test_prefer_patch_falls_back_to_merge_put_when_the_key_lacks_patch(shop, make_client):
    shop.add("manufacturers", {"id": 1, "name": "A", "active": "1"})
    client = make_client(prefer_patch=True)
    await client.update("manufacturers", 1, {"name": "B"})
    assert [r.method for r in shop.requests] == ["PATCH"]
    refusal = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n<errors>\n'
        "<error>\n<code><![CDATA[25]]></code>\n<message><![CDATA[Method PATCH is not allowed for the resource "
        "manufacturers with this authentication key]]></message>\n</error>\n</errors>\n</prestashop>\n"
    )
    shop.hook = lambda r: httpx.Response(405, text=refusal) if r.method == "PATCH" else None
    shop.requests.clear()
    await client.update("manufacturers", 1, {"name": "C"})
    await client.update("manufacturers", 1, {"name": "D"})
    assert [r.method for r in shop.requests] == ["PATCH", "GET", "PUT", "GET", "PUT"]  # PATCH tried once
    stored = shop.data["manufacturers"][1]
    assert (stored["name"], stored["active"]) == ("D", "1")


async def test_languages_put_the_shop_default_first_when_configurations_is_readable(shop, make_client):
    for lid in (1, 2, 3):
        shop.add("languages", {"id": lid, "active": "0" if lid == 3 else "1"})
    config = ('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
              "<configurations>\n<configuration>\n\t<value><![CDATA[2]]></value>\n</configuration>\n"
              "</configurations>\n</prestashop>\n")
    shop.hook = lambda r: httpx.Response(200, text=config) if r.url.path.endswith("/configurations") else None
    assert await make_client(langs=None).languages() == [2, 1]
    shop.hook = lambda r: httpx.Response(401, text="denied") if r.url.path.endswith("/configurations") else None
    assert await make_client(langs=None).languages() == [1, 2]  # inactive 3 left out, id order


async def test_key_in_query_never_reaches_httpx_logs(shop, make_client, caplog):
    # httpx logs each request's full URL at INFO; with ws_key in the query that URL holds the key.
    shop.add("customers", {"id": 1, "email": "a@example.com"})
    client = make_client(key_in_query=True)
    with caplog.at_level(logging.DEBUG):
        await client.get("customers", 1)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("httpx", "httpcore"))]
    assert any("ws_key=***" in line for line in lines)
    assert not any(KEY in line for line in lines)
    assert shop.requests[-1].url.params["ws_key"] == KEY  # the shop still gets the key
