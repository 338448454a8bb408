"""Authentication, URL shapes, headers and error bodies compared with reference §1, §2, §4, §6.5."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from tests.contract.prestashop_sandbox.conftest import FULL_KEY, INACTIVE_KEY, NOPERM_KEY, READ_KEY
from tests.contract.prestashop_sandbox.helpers import XLINK, errors, root

pytestmark = pytest.mark.contract

REALM = ('Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. '
         'No password required."')


def test_no_key_is_401_plain_text_with_realm(anon: httpx.Client) -> None:
    r = anon.get("/api/customers")
    assert r.status_code == 401
    assert r.text == "401 Unauthorized"
    assert r.headers["www-authenticate"] == REALM
    assert "psws-version" not in r.headers


@pytest.mark.parametrize(
    ("key", "codes"),
    [("short", [18]), ("Z" * 32, [20, 21]), (INACTIVE_KEY, [20, 21]), (NOPERM_KEY, [21])],
)
def test_bad_keys_give_documented_codes(anon: httpx.Client, key: str, codes: list[int]) -> None:
    r = anon.get("/api/customers", auth=(key, ""))
    assert r.status_code == 401
    assert [c for c, _ in errors(r.text)] == codes
    assert r.headers["www-authenticate"] == REALM


def test_messages_of_unknown_key(anon: httpx.Client) -> None:
    r = anon.get("/api/customers", auth=("Z" * 32, ""))
    assert errors(r.text) == [(20, "Authentification key is not active"),
                              (21, "No permission for this authentication key")]


def test_empty_key_via_query_is_code_17(anon: httpx.Client) -> None:
    r = anon.get("/api/customers", params={"ws_key": "  "})
    assert r.status_code == 401
    assert errors(r.text) == [(17, "Authentication key is empty")]


def test_ws_key_query_and_dispatcher_url_work(anon: httpx.Client) -> None:
    a = anon.get("/api/customers", params={"ws_key": FULL_KEY})
    b = anon.get("/webservice/dispatcher.php", params={"url": "customers", "ws_key": FULL_KEY})
    assert a.status_code == b.status_code == 200
    assert a.text == b.text
    assert root(a.text).find("customers") is not None


def test_headers_on_success(client: httpx.Client) -> None:
    r = client.get("/api/customers/1")
    assert r.status_code == 200
    assert r.headers["psws-version"] == "8.2.0"
    assert r.headers["x-powered-by"] == "PrestaShop Webservice"
    assert r.headers["content-type"].startswith("text/xml")
    assert int(r.headers["access-time"]) > 0
    assert float(r.headers["execution-time"]) >= 0
    assert r.headers["content-sha1"] == hashlib.sha1(r.content).hexdigest()


def test_local_content_sha1_gives_304(client: httpx.Client) -> None:
    first = client.get("/api/customers/1")
    again = client.get("/api/customers/1", headers={"Local-Content-Sha1": first.headers["content-sha1"]})
    assert again.status_code == 304
    assert again.content == b""


def test_head_has_headers_and_no_body(client: httpx.Client) -> None:
    r = client.head("/api/")
    assert r.status_code == 200
    assert r.headers["psws-version"] == "8.2.0"
    assert r.content == b""


def test_root_listing_is_sorted_with_permissions_and_schemas(client: httpx.Client, shop_url: str) -> None:
    api = root(client.get("/api/").text).find("api")
    assert api is not None and api.get("shopName") == "PrestaShop Sandbox"
    names = [child.tag for child in api]
    assert names == sorted(names)
    customers = api.find("customers")
    assert customers is not None
    assert customers.get(XLINK) == f"{shop_url}/api/customers"
    assert {k: customers.get(k) for k in ("get", "put", "post", "patch", "delete", "head")} == dict.fromkeys(
        ("get", "put", "post", "patch", "delete", "head"), "true")
    assert [s.get("type") for s in customers.findall("schema")] == ["blank", "synopsis"]
    stock = api.find("stock_availables")
    assert stock is not None and stock.get("post") == "false" and stock.get("delete") == "false"


def test_root_listing_only_lists_granted_resources(anon: httpx.Client) -> None:
    api = root(anon.get("/api/", auth=(READ_KEY, "")).text).find("api")
    assert api is not None
    assert [c.tag for c in api] == ["customers"]
    assert api.find("customers").get("put") == "false"  # type: ignore[union-attr]


def test_root_listing_in_json_is_the_php8_fatal(client: httpx.Client) -> None:
    r = client.get("/api/", params={"output_format": "JSON"})
    assert r.status_code == 500
    assert "array_filter" in r.text


def test_unknown_resource_is_27_with_suggestion(client: httpx.Client) -> None:
    r = client.get("/api/custmers")
    assert r.status_code == 400
    [(code, message)] = errors(r.text)
    assert code == 27
    assert message.startswith('Resource of type "custmers" does not exists. Did you mean: "customers"? The full list is: "addresses"')


def test_resource_not_granted_is_26_without_realm(anon: httpx.Client) -> None:
    r = anon.get("/api/products", auth=(READ_KEY, ""))
    assert r.status_code == 401
    assert errors(r.text) == [(26, 'Resource of type "products" is not allowed with this authentication key')]
    assert "www-authenticate" not in r.headers


def test_method_errors(client: httpx.Client, anon: httpx.Client) -> None:
    r = client.post("/api/stock_availables", content="<prestashop/>")
    assert (r.status_code, errors(r.text)) == (405, [(101, "Method POST is not allowed for the resource stock_availables")])
    r = anon.delete("/api/customers/1", auth=(READ_KEY, ""))
    assert (r.status_code, errors(r.text)) == (
        405, [(25, "Method DELETE is not allowed for the resource customers with this authentication key")])
    r = client.request("COPY", "/api/customers")
    assert (r.status_code, errors(r.text)) == (405, [(23, "Method COPY is not valid")])


def test_missing_object_is_404_with_empty_body(client: httpx.Client) -> None:
    for url in ("/api/customers/999999", "/api/customers/abc"):
        r = client.get(url)
        assert r.status_code == 404
        assert r.content == b""


def test_trailing_slash_is_the_list(client: httpx.Client) -> None:
    assert client.get("/api/customers/").text == client.get("/api/customers").text


def test_json_errors_have_numeric_codes(client: httpx.Client) -> None:
    r = client.get("/api/custmers", headers={"Output-Format": "JSON"})
    assert r.status_code == 400
    body = r.json()
    assert body["errors"][0]["code"] == 27
    assert r.headers["content-type"].startswith("application/json")


def test_output_format_must_be_upper_case(client: httpx.Client) -> None:
    assert client.get("/api/customers", params={"output_format": "json"}).headers["content-type"].startswith("text/xml")


def test_shop_context_errors(client: httpx.Client) -> None:
    r = client.get("/api/customers", params={"id_shop": "abc"})
    assert (r.status_code, errors(r.text)) == (404, [(999, "This shop id does not exist")])
    assert client.get("/api/customers", params={"id_shop": "all"}).status_code == 200
    assert client.get("/api/customers", params={"id_shop": "1"}).status_code == 200
