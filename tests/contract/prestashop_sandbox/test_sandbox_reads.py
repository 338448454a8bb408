"""Lists, display, filter, sort, limit, date=1, language, schemas and JSON (reference §3, §4, §5)."""

from __future__ import annotations

import httpx
import pytest

from tests.contract.prestashop_sandbox.helpers import XLINK, errors, obj, root

pytestmark = pytest.mark.contract


def ids(text: str, list_node: str) -> list[int]:
    node = root(text).find(list_node)
    assert node is not None
    return [int(item.get("id") or item.findtext("id") or 0) for item in node]


def test_minimal_list_has_ids_and_links(client: httpx.Client, shop_url: str) -> None:
    node = root(client.get("/api/customers", params={"limit": "2"}).text).find("customers")
    assert node is not None
    assert [(c.get("id"), c.get(XLINK), len(c)) for c in node] == [
        ("1", f"{shop_url}/api/customers/1", 0), ("2", f"{shop_url}/api/customers/2", 0)]


def test_single_object_fields_in_canonical_order_with_cdata_and_links(client: httpx.Client, shop_url: str) -> None:
    r = client.get("/api/addresses/1")
    address = obj(r.text, "address")
    tags = [c.tag for c in address]
    assert tags[:7] == ["id", "id_customer", "id_manufacturer", "id_supplier", "id_warehouse", "id_country", "id_state"]
    assert tags[-2:] == ["date_add", "date_upd"]
    assert "<id><![CDATA[1]]></id>" in r.text
    assert address.find("id_customer").get(XLINK).startswith(f"{shop_url}/api/customers/")  # type: ignore[union-attr]
    assert address.find("id_manufacturer").get(XLINK) is None  # type: ignore[union-attr]  # id_ with 0: no link
    assert "<vat_number><![CDATA[]]></vat_number>" in r.text


def test_multilingual_fields_and_associations(client: httpx.Client, shop_url: str) -> None:
    product = obj(client.get("/api/products/3").text, "product")
    langs = product.find("name").findall("language")  # type: ignore[union-attr]
    assert [(lg.get("id"), lg.get(XLINK)) for lg in langs] == [
        ("1", f"{shop_url}/api/languages/1"), ("2", f"{shop_url}/api/languages/2")]
    assert langs[0].text != langs[1].text
    assoc = product.find("associations")
    assert assoc is not None
    cats = assoc.find("categories")
    assert cats is not None and cats.get("nodeType") == "category" and cats.get("api") == "categories"
    assert cats.find("category").get(XLINK).startswith(f"{shop_url}/api/categories/")  # type: ignore[union-attr]
    combos = assoc.find("combinations")
    assert combos is not None and len(combos) == 3  # every third seeded product has S/M/L
    stock = assoc.find("stock_availables")
    assert stock is not None and len(stock) == 4
    images = assoc.find("images")
    assert images is not None and len(images) == 0 and images.get("api") == "images"
    assert product.find("quantity").get("notFilterable") == "true"  # type: ignore[union-attr]


def test_product_quantity_is_sum_of_combination_stock(client: httpx.Client) -> None:
    product = obj(client.get("/api/products/3").text, "product")
    rows = root(client.get("/api/stock_availables", params={"filter[id_product]": "3", "display": "full"}).text)
    by_combo = {s.findtext("id_product_attribute"): int(s.findtext("quantity") or 0) for s in rows.iter("stock_available")}
    assert int(product.findtext("quantity") or -1) == by_combo["0"] == sum(v for k, v in by_combo.items() if k != "0")


def test_display_selects_fields_in_canonical_order(client: httpx.Client) -> None:
    node = root(client.get("/api/customers", params={"display": "[email,id,lastname]", "limit": "1"}).text).find("customers")
    customer = node.find("customer")  # type: ignore[union-attr]
    assert customer is not None and customer.attrib == {}
    assert [c.tag for c in customer] == ["id", "lastname", "email"]


def test_display_association_subfields(client: httpx.Client) -> None:
    r = client.get("/api/orders", params={"display": "[id,order_rows[product_id,product_quantity]]", "limit": "1"})
    order = root(r.text).find("orders/order")
    assert order is not None
    rows = order.find("associations/order_rows")
    assert rows is not None and rows.get("virtualEntity") == "true"
    assert [c.tag for c in rows[0]] == ["product_id", "product_quantity"]


def test_display_errors(client: httpx.Client) -> None:
    r = client.get("/api/customers", params={"display": "[id,nope]"})
    assert r.status_code == 400 and errors(r.text)[0][0] == 35
    assert 'Unable to display this field "nope"' in errors(r.text)[0][1]
    r = client.get("/api/customers", params={"display": "id,email"})
    assert r.status_code == 400 and errors(r.text)[0][0] == 36


def test_display_may_select_virtual_price_fields(client: httpx.Client) -> None:
    # reference §3.1: a price[NAME] field of the request is accepted in display=[...]
    params = {"display": "[id,final_price]", "price[final_price][use_tax]": "1", "filter[id]": "[1|2]"}
    products = root(client.get("/api/products", params=params).text).findall("products/product")
    assert [[c.tag for c in p] for p in products] == [["id", "final_price"], ["id", "final_price"]]
    assert all(float(p.findtext("final_price") or 0) > 0 for p in products)
    # a price field not named in display is not printed, like any other field
    only_id = client.get("/api/products/1", params={"display": "[id]", "price[final_price][use_tax]": "1"})
    assert [c.tag for c in root(only_id.text).find("products/product")] == ["id"]
    # without the price parameter the name is unknown
    r = client.get("/api/products", params={"display": "[id,final_price]"})
    assert r.status_code == 400 and errors(r.text)[0][0] == 35
    as_json = client.get("/api/products", params={**params, "output_format": "JSON"}).json()
    assert [sorted(p) for p in as_json["products"]] == [["final_price", "id"], ["final_price", "id"]]


def test_display_on_single_object(client: httpx.Client) -> None:
    r = client.get("/api/customers/1", params={"display": "[id,email]"})
    customer = root(r.text).find("customers/customer")
    assert customer is not None and [c.tag for c in customer] == ["id", "email"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", [3]), ("[3]", [3]), ("[2|4|6]", [2, 4, 6]), ("[3,5]", [3, 4, 5]), ("[5,3]", [3, 4, 5]),
     # PHP's sort() orders numeric bounds as numbers: [9,12] is BETWEEN 9 AND 12, not an empty range
     ("[9,12]", [9, 10, 11, 12]), ("[12,9]", [9, 10, 11, 12]),
     (">[13]", [14, 15]), ("<[3]", [1, 2]), ("![1|2|3]", list(range(4, 16)))],
)
def test_filter_operators_on_ids(client: httpx.Client, value: str, expected: list[int]) -> None:
    r = client.get("/api/customers", params={"filter[id]": value})
    assert r.status_code == 200
    assert ids(r.text, "customers") == expected


def test_filter_like_is_case_insensitive(client: httpx.Client) -> None:
    everyone = root(client.get("/api/customers", params={"display": "[id,email]"}).text)
    emails = {int(c.findtext("id") or 0): c.findtext("email") or "" for c in everyone.iter("customer")}
    r = client.get("/api/customers", params={"filter[email]": "%[EXAMPLE.COM]"})
    assert ids(r.text, "customers") == sorted(emails)
    r = client.get("/api/customers", params={"filter[email]": "[" + emails[2].split(".")[0] + "]%"})
    assert 2 in ids(r.text, "customers")


def test_filter_on_multilingual_field(client: httpx.Client) -> None:
    r = client.get("/api/order_states", params={"filter[name]": "[Shipped]"})
    assert ids(r.text, "order_states") == [4]
    r = client.get("/api/order_states", params={"filter[name]": "[Expédié]"})
    assert ids(r.text, "order_states") == [4]


def test_filter_errors(client: httpx.Client) -> None:
    r = client.get("/api/customers", params={"filter[emial]": "x"})
    assert r.status_code == 400
    [(code, message)] = errors(r.text)
    assert code == 32 and 'Did you mean: "email"' in message
    r = client.get("/api/customers", params={"filter[email]": ""})
    assert errors(r.text) == [(33, 'The filter "email" is malformed.')]
    r = client.get("/api/products", params={"filter[quantity]": "1"})
    assert r.status_code == 400 and errors(r.text)[0][0] == 34


def test_dates_need_date_1(client: httpx.Client) -> None:
    r = client.get("/api/customers", params={"filter[date_upd]": ">[2020-01-01 00:00:00]"})
    assert r.status_code == 400 and errors(r.text)[0][0] == 32
    r = client.get("/api/customers", params={"sort": "[date_upd_ASC]"})
    assert r.status_code == 400 and errors(r.text)[0][0] == 38
    r = client.get("/api/customers", params={"date": "1", "filter[date_upd]": ">[2020-01-01 00:00:00]",
                                              "sort": "[date_upd_ASC,id_DESC]", "limit": "3"})
    assert r.status_code == 200
    assert ids(r.text, "customers") == [15, 14, 13]  # all seeded in the same second: id_DESC decides


def test_sort_and_limit(client: httpx.Client) -> None:
    assert ids(client.get("/api/customers", params={"sort": "id_DESC", "limit": "3"}).text, "customers") == [15, 14, 13]
    assert ids(client.get("/api/customers", params={"sort": "[id_ASC]", "limit": "4,3"}).text, "customers") == [5, 6, 7]
    names = [c.findtext("lastname") or "" for c in root(client.get(
        "/api/customers", params={"sort": "[lastname_ASC,id_ASC]", "display": "[id,lastname]"}).text).iter("customer")]
    assert names == sorted(names, key=str.casefold)


def test_sort_and_limit_errors(client: httpx.Client) -> None:
    assert errors(client.get("/api/customers", params={"sort": "[id_UP]"}).text)[0][0] == 37
    assert errors(client.get("/api/customers", params={"sort": "[nope_ASC]"}).text)[0][0] == 38
    assert errors(client.get("/api/customers", params={"limit": "1,2,3"}).text)[0][0] == 39


def test_empty_list(client: httpx.Client) -> None:
    r = client.get("/api/customers", params={"filter[id]": "[999999]"})
    node = root(r.text).find("customers")
    assert node is not None and len(node) == 0
    r = client.get("/api/customers", params={"filter[id]": "[999999]", "output_format": "JSON"})
    assert r.text == "[]"


def test_language_parameter(client: httpx.Client) -> None:
    r = client.get("/api/order_states/4", params={"language": "2"})
    langs = obj(r.text, "order_state").find("name").findall("language")  # type: ignore[union-attr]
    assert [(lg.get("id"), lg.text) for lg in langs] == [("2", "Expédié")]
    assert errors(client.get("/api/order_states/4", params={"language": "9"}).text) == [(81, "language is not available")]
    assert errors(client.get("/api/order_states/4", params={"language": "x"}).text)[0][0] == 79


def test_schemas(client: httpx.Client) -> None:
    blank = obj(client.get("/api/products", params={"schema": "blank"}).text, "product")
    tags = [c.tag for c in blank]
    assert "id" in tags and "manufacturer_name" not in tags and "quantity" not in tags
    assert [lg.get("id") for lg in blank.find("name")] == ["1", "2"]  # type: ignore[union-attr]
    synopsis = obj(client.get("/api/customers", params={"schema": "synopsis"}).text, "customer")
    email = synopsis.find("email")
    assert email is not None and email.attrib == {"required": "true", "maxSize": "255", "format": "isEmail"}
    assert synopsis.find("id") is None
    assert synopsis.find("secure_key").get("readOnly") == "true"  # type: ignore[union-attr]
    r = client.get("/api/products", params={"schema": "full"})
    assert r.status_code == 400 and errors(r.text)[0][0] == 28


def test_json_single_object_drops_falsy_and_uses_strings(client: httpx.Client) -> None:
    body = client.get("/api/customers/1", params={"output_format": "JSON"}).json()
    customer = body["customer"]
    assert customer["id"] == 1
    assert customer["id_default_group"] == "3"
    assert "deleted" not in customer and "note" not in customer  # "0" and "" are dropped
    assert customer["associations"]["groups"] == [{"id": "3"}]


def test_json_display_full_on_single_is_a_list_with_all_fields(client: httpx.Client) -> None:
    body = client.get("/api/customers/1", params={"output_format": "JSON", "display": "full"}).json()
    assert list(body) == ["customers"]
    assert body["customers"][0]["deleted"] == "0"


def test_json_multilingual_collapses_with_one_language(client: httpx.Client) -> None:
    two = client.get("/api/order_states/4", headers={"Io-Format": "JSON"}).json()["order_state"]
    assert two["name"] == [{"id": "1", "value": "Shipped"}, {"id": "2", "value": "Expédié"}]
    one = client.get("/api/order_states/4", params={"output_format": "JSON", "language": "1"}).json()["order_state"]
    assert one["name"] == "Shipped"


def test_json_minimal_list(client: httpx.Client) -> None:
    body = client.get("/api/customers", params={"output_format": "JSON", "limit": "2"}).json()
    assert body == {"customers": [{"id": 1}, {"id": 2}]}


def test_default_order_states_match_a_fresh_install(client: httpx.Client) -> None:
    states = root(client.get("/api/order_states", params={"display": "[id,name,paid,logable]", "language": "1"}).text)
    got = {int(s.findtext("id") or 0): s.find("name").findtext("language") for s in states.iter("order_state")}  # type: ignore[union-attr]
    assert got[1] == "Awaiting check payment" and got[2] == "Payment accepted" and got[6] == "Canceled"
    assert got[8] == "Payment error" and got[11] == "Remote payment accepted" and len(got) == 13
