"""Writes and error classes against the sandbox over HTTP."""

from __future__ import annotations

import pytest

from connectors.errors import (
    AuthError,
    DuplicateError,
    NotFoundError,
    PermanentError,
    TransientError,
    ValidationError,
)
from connectors.prestashop import F

pytestmark = pytest.mark.contract

LIMITED_KEY = "LIMITEDKEY0123456789ABCDEFGHIJKL"  # granted GET/HEAD on customers only (see conftest)
NOPATCH_KEY = "NOPATCHKEY0123456789ABCDEFGHIJKL"  # manufacturers without PATCH (see conftest)

CUSTOMER = {"lastname": "Contract", "firstname": "Tess", "passwd": "s3cret-pass", "id_default_group": 3,
            "active": True, "newsletter": False, "note": "keep me", "company": "ACME"}


def customer(email: str) -> dict:
    return {**CUSTOMER, "email": email}


async def test_create_read_update_delete_a_customer(shop):
    created = await shop.create("customers", customer("crud@example.com"))
    cid = created["id"]
    assert created["email"] == "crud@example.com" and created["passwd"] != "s3cret-pass"  # hashed
    before = await shop.get("customers", cid)
    after = await shop.update("customers", cid, {"lastname": "Renamed"})
    assert after["lastname"] == "Renamed"
    stored = await shop.get("customers", cid)
    changed = {k for k in before if before[k] != stored[k]}
    assert changed <= {"lastname", "date_upd"} and "lastname" in changed  # nothing wiped
    assert stored["note"] == "keep me" and stored["company"] == "ACME" and stored["date_add"] == before["date_add"]
    await shop.delete("customers", cid)
    with pytest.raises(NotFoundError):
        await shop.get("customers", cid)


async def test_put_merge_never_wipes_languages_associations_or_optional_fields(shop):
    product = await shop.get("products", 3)
    assert product["associations"]["categories"] and product["active"] == "1"
    await shop.update("products", 3, {"price": "77.5", "name": {2: "Nom modifié"}})
    stored = await shop.get("products", 3)
    assert stored["price"].startswith("77.5") and stored["name"] == {1: product["name"][1], 2: "Nom modifié"}
    for field in ("active", "reference", "description", "link_rewrite", "id_category_default", "date_add"):
        assert stored[field] == product[field], field
    assert stored["associations"]["categories"] == product["associations"]["categories"]
    assert stored["quantity"] == product["quantity"]


async def test_raw_replace_shows_why_merge_is_needed(shop):
    created = await shop.create("customers", customer("replace@example.com"))
    await shop.replace("customers", {"id": created["id"], "lastname": "Only", "firstname": "Required",
                                     "email": "replace@example.com", "passwd": created["passwd"]})
    stored = await shop.get("customers", created["id"])
    assert stored["note"] == "" and stored["company"] == ""  # PrestaShop's PUT reset what was left out


async def test_patch_changes_only_what_it_sends(shop):
    before = await shop.get("products", 4)
    await shop.patch("products", 4, {"reference": "PATCHED-4", "name": {1: "Patched name"}})
    stored = await shop.get("products", 4)
    assert stored["reference"] == "PATCHED-4"
    assert stored["name"] == {1: "Patched name", 2: before["name"][2]}  # other language kept
    assert stored["price"] == before["price"] and stored["description"] == before["description"]


async def test_delete_several_is_all_or_nothing(shop):
    a = await shop.create("manufacturers", {"name": "Maker A", "active": True})
    b = await shop.create("manufacturers", {"name": "Maker B", "active": True})
    with pytest.raises(NotFoundError) as info:
        await shop.delete("manufacturers", [int(a["id"]), 999_999])
    assert info.value.code == 87
    assert (await shop.get("manufacturers", a["id"]))["name"] == "Maker A"
    await shop.delete("manufacturers", [int(a["id"]), int(b["id"])])
    rows = await shop.list("manufacturers", filters={"id": F.any_of(a["id"], b["id"])})
    assert rows == []


async def test_hosting_options_key_in_query_and_ps_method(make_client):
    async with make_client(key_in_query=True, ps_method_override=True) as client:
        created = await client.create("manufacturers", {"name": "Tunnelled", "active": True})
        await client.update("manufacturers", created["id"], {"name": "Tunnelled 2"})
        assert (await client.get("manufacturers", created["id"]))["name"] == "Tunnelled 2"
        await client.delete("manufacturers", created["id"])
        with pytest.raises(NotFoundError):
            await client.get("manufacturers", created["id"])


async def test_validation_errors_carry_the_shop_code(shop):
    with pytest.raises(ValidationError) as info:
        await shop.create("customers", {**customer("not-an-email"), "lastname": "Doe"})
    assert info.value.code in (84, 85) and "email" in info.value.message.lower()
    with pytest.raises(ValidationError) as info:
        await shop.create("addresses", {"id_customer": 1, "id_country": 8, "alias": "x" * 40, "lastname": "Doe",
                                        "firstname": "Jo", "address1": "1 rue", "city": "Paris"})
    assert info.value.code == 85 and "alias" in info.value.message
    with pytest.raises(ValidationError) as info:
        await shop.create("customers", {"firstname": "No", "email": "nolast@example.com", "passwd": "x12345678"})
    assert info.value.code == 41 and "lastname" in info.value.message


async def test_duplicate_customer_email_is_a_duplicate(shop):
    await shop.create("customers", customer("dup@example.com"))
    with pytest.raises(DuplicateError) as info:
        await shop.create("customers", customer("dup@example.com"))
    assert info.value.code == 140


async def test_server_side_protocol_errors(shop):
    body = b'<prestashop><stock_available><id_product>1</id_product></stock_available></prestashop>'
    with pytest.raises(PermanentError) as info:
        await shop.request("POST", "stock_availables", content=body)
    assert info.value.code == 101
    with pytest.raises(PermanentError) as info:
        await shop.request("GET", "custmers")
    assert info.value.code == 27 and "customers" in info.value.message
    with pytest.raises(ValidationError) as info:
        await shop.request("POST", "customers", content=b"<prestashop><customer><id>5</id></customer></prestashop>")
    assert info.value.code == 91
    with pytest.raises(NotFoundError) as info:
        await shop.request("PUT", "customers/999999",
                           content=b"<prestashop><customer><id>999999</id></customer></prestashop>")
    assert info.value.code == 92


async def test_auth_errors(make_client):
    async with make_client(api_key="WRONGKEY0123456789ABCDEFGHIJKLMN") as bad:
        with pytest.raises(AuthError) as info:
            await bad.get("customers", 1)
        assert info.value.code == 21  # 20 then 21: the last error decides
        assert "WRONGKEY" not in info.value.message
    async with make_client(api_key=LIMITED_KEY) as limited:
        assert (await limited.get("customers", 1))["id"] == "1"
        with pytest.raises(AuthError) as info:
            await limited.get("products", 1)
        assert info.value.code == 26
        with pytest.raises(PermanentError) as info:
            await limited.create("customers", customer("limited@example.com"))
        assert info.value.code == 25


async def test_injected_faults_are_transient(shop, control):
    control.put("/_sandbox/faults", json={"rate_limit_rps": 0.001, "rate_limit_burst": 1})
    await shop.list("customers", limit=1)  # uses the one token of the burst
    with pytest.raises(TransientError) as info:
        await shop.list("customers", limit=1)
    # the sandbox says when the next token comes (1 / 0.001 rps); the client carries it over
    assert info.value.retry_after is not None and info.value.retry_after > 1 and "HTTP 429" in info.value.message
    assert f"Retry after {info.value.retry_after:g} s" in info.value.message
    control.put("/_sandbox/faults", json={"php_notice_rate": 1.0})
    with pytest.raises(TransientError) as info:
        await shop.get("customers", 1)
    assert info.value.code == 8 and "PHP Notice" in info.value.message
    control.put("/_sandbox/faults", json={"php_notice_rate": 1.0, "php_notice_style": "html"})
    with pytest.raises(TransientError) as info:
        await shop.get("customers", 1)
    assert "Notice : Undefined index: id_shop" in info.value.message
    control.put("/_sandbox/faults", json={"outage_s": 60})
    with pytest.raises(TransientError) as info:
        await shop.get("customers", 1)
    # Retry-After of the maintenance page: the rest of the outage window
    assert "HTTP 503" in info.value.message and 0 < (info.value.retry_after or 0) <= 60
    control.delete("/_sandbox/faults")
    assert (await shop.get("customers", 1))["id"] == "1"


async def test_prefer_patch_with_and_without_the_patch_right(make_client):
    async with make_client(prefer_patch=True) as full:
        created = await full.create("manufacturers", {"name": "Patchy", "active": 1,
                                                     "description": {1: "Desc", 2: "Déscription"}})
        saved = await full.update("manufacturers", created["id"], {"name": "Patchy 2"})
        assert saved["name"] == "Patchy 2" and saved["description"] == {1: "Desc", 2: "Déscription"}
    async with make_client(api_key=NOPATCH_KEY, prefer_patch=True) as old_key:
        with pytest.raises(PermanentError) as info:
            await old_key.patch("manufacturers", created["id"], {"name": "x"})
        assert info.value.code == 25
        saved = await old_key.update("manufacturers", created["id"], {"name": "Patchy 3"})  # falls back to PUT
        assert saved["name"] == "Patchy 3" and saved["description"] == {1: "Desc", 2: "Déscription"}
