"""Create -> merge-update -> delete for the writable resources the bridge uses, XML in, XML or JSON out."""

from __future__ import annotations

import pytest

from connectors.errors import NotFoundError
from connectors.prestashop import schema, view

pytestmark = pytest.mark.contract

# resource -> (a valid new record, a change, the field that must survive the change untouched)
CASES = {
    "customers": ({"lastname": "Round", "firstname": "Trip", "email": "roundtrip@example.com",
                   "passwd": "round-trip-1", "id_default_group": 3, "company": "Keep Ltd"},
                  {"firstname": "Tripp"}, "company"),
    "addresses": ({"id_customer": 1, "id_country": 8, "alias": "Office", "lastname": "Round", "firstname": "Trip",
                   "address1": "2 rue", "postcode": "75002", "city": "Paris", "phone": "+33 1 23 45 67 89"},
                  {"address2": "Bat. B"}, "phone"),
    "categories": ({"name": {1: "Garden", 2: "Jardin"}, "link_rewrite": {1: "garden", 2: "jardin"},
                    "active": 1, "id_parent": 2, "description": {1: "Outdoor", 2: "Dehors"}},
                   {"name": {1: "Gardening"}}, "description"),
    "manufacturers": ({"name": "Round Maker", "active": 1, "description": {1: "Makes things", 2: "Fabrique"}},
                      {"name": "Round Maker 2"}, "description"),
    "combinations": ({"id_product": 1, "minimal_quantity": 1, "reference": "COMBO-RT", "price": "2.5"},
                     {"reference": "COMBO-RT2"}, "price"),
    "specific_prices": ({"id_shop": 0, "id_cart": 0, "id_product": 2, "id_currency": 0, "id_country": 0,
                         "id_group": 0, "id_customer": 0, "price": "-1", "from_quantity": 5, "reduction": "0.15",
                         "reduction_tax": 1, "reduction_type": "percentage", "from": "2030-01-01 00:00:00",
                         "to": "2030-12-31 23:59:59"},
                        {"reduction": "0.2"}, "from_quantity"),
    "tax_rule_groups": ({"name": "Round VAT", "active": 1}, {"name": "Round VAT 2"}, "active"),
    "carriers": ({"name": "Round Carrier", "active": 1, "delay": {1: "2 days", 2: "2 jours"}, "url": ""},
                 {"name": "Round Carrier 2"}, "delay"),
    "states": ({"id_zone": 1, "id_country": 8, "iso_code": "RT", "name": "Round State", "active": 1},
               {"name": "Round State 2"}, "iso_code"),
}


@pytest.mark.parametrize("resource", sorted(CASES))
async def test_create_update_delete(shop, resource):
    record, change, kept = CASES[resource]
    created = await shop.create(resource, record)
    rid = created["id"]
    before = await shop.get(resource, rid)
    await shop.update(resource, rid, change)
    after = await shop.get(resource, rid, json=True)  # read back in JSON: the same record either way
    res = schema(resource)
    for name, value in change.items():
        if name in res.lang_fields:
            assert after[name] == {**before[name], **value}
        elif res.fields[name].type == "float":  # stored as DECIMAL(20,6): "0.200000"
            assert float(after[name]) == float(value)
        else:
            assert after[name] == str(value)
    assert after[kept] == before[kept]
    view(resource, after)  # the typed view accepts what the shop returns
    await shop.delete(resource, rid)
    with pytest.raises(NotFoundError):
        await shop.get(resource, rid)


async def test_json_configured_client_reads_json_and_writes_xml(make_client):
    async with make_client(output_format="JSON") as client:
        created = await client.create("manufacturers", {"name": "Json Maker", "active": 1})
        got = await client.get("manufacturers", created["id"])
        assert got["name"] == "Json Maker" and got["active"] == "1"
        await client.update("manufacturers", created["id"], {"active": 0})
        rows = await client.list("manufacturers", display=["id", "active"], filters={"id": f"[{created['id']}]"})
        assert rows == [{"id": created["id"], "active": "0"}]
        assert await client.list("manufacturers", filters={"name": "[No such maker]"}) == []
