"""XML/JSON codec: bodies exactly as the reference shows them."""

from __future__ import annotations

import pytest
from lxml import etree

from connectors.errors import NotFoundError, TransientError, ValidationError
from connectors.prestashop import codec

pytestmark = pytest.mark.unit

ADDRESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">
<address>
\t<id><![CDATA[5]]></id>
\t<id_customer xlink:href="https://shop.example/api/customers/2"><![CDATA[2]]></id_customer>
\t<id_state><![CDATA[0]]></id_state>
\t<alias><![CDATA[Home]]></alias>
\t<vat_number><![CDATA[]]></vat_number>
\t<date_add><![CDATA[2024-05-01 10:12:00]]></date_add>
</address>
</prestashop>
"""

PRODUCT = b"""<?xml version="1.0" encoding="UTF-8"?>
<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">
<product>
\t<id><![CDATA[1]]></id>
\t<name><language id="1" xlink:href="https://shop.example/api/languages/1"><![CDATA[T-shirt]]></language><language id="2" xlink:href="https://shop.example/api/languages/2"><![CDATA[T-shirt FR]]></language></name>
\t<description><language id="1" xlink:href="https://shop.example/api/languages/1"><![CDATA[]]></language><language id="2" xlink:href="https://shop.example/api/languages/2"><![CDATA[]]></language></description>
<associations>
<categories nodeType="category" api="categories">
<category xlink:href="https://shop.example/api/categories/2">
<id><![CDATA[2]]></id>
</category>
</categories>
<images nodeType="image" api="images"/>
</associations>
</product>
</prestashop>
"""


def test_single_object_keeps_values_exactly():
    rec = codec.decode_xml_object(ADDRESS, where="GET addresses/5")
    assert rec == {"id": "5", "id_customer": "2", "id_state": "0", "alias": "Home", "vat_number": "",
                   "date_add": "2024-05-01 10:12:00"}


def test_multilingual_fields_and_associations():
    rec = codec.decode_xml_object(PRODUCT, where="GET products/1")
    assert rec["name"] == {1: "T-shirt", 2: "T-shirt FR"}
    assert rec["description"] == {1: "", 2: ""}
    assert rec["associations"] == {"categories": [{"id": "2"}], "images": []}


def test_single_object_with_display_comes_wrapped_in_its_list_node():
    body = (b'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n<orders>\n<order>\n'
            b"\t<id><![CDATA[5]]></id>\n\t<current_state><![CDATA[2]]></current_state>\n</order>\n</orders>\n"
            b"</prestashop>")
    assert codec.decode_xml_object(body, where="GET orders/5", node="order") == {"id": "5", "current_state": "2"}
    empty = b'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"><orders></orders></prestashop>'
    with pytest.raises(NotFoundError):
        codec.decode_xml_object(empty, where="GET orders/5", node="order")


def test_minimal_list_and_empty_list():
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            b'<customers>\n<customer id="1" xlink:href="https://shop.example/api/customers/1"/>\n'
            b'<customer id="2" xlink:href="https://shop.example/api/customers/2"/>\n</customers>\n</prestashop>\n')
    assert codec.decode_xml_list(body, where="x") == [{"id": "1"}, {"id": "2"}]
    empty = b'<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n<customers>\n</customers>\n</prestashop>'
    assert codec.decode_xml_list(empty, where="x") == []


def test_dtd_and_entities_are_refused():
    evil = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            b"<prestashop><customer><id>&e;</id></customer></prestashop>")
    with pytest.raises(ValidationError, match="DTD"):
        codec.decode_xml_object(evil, where="GET customers/1")


def test_non_xml_body_is_transient():
    with pytest.raises(TransientError, match="not XML"):
        codec.decode_xml_object(b"<html><body>Bad gateway", where="GET customers/1")


def test_error_bodies_xml_and_json():
    xml = (b'<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
           b"<errors>\n<error>\n<code><![CDATA[20]]></code>\n<message><![CDATA[Authentification key is not active]]>"
           b"</message>\n</error>\n<error>\n<code><![CDATA[21]]></code>\n<message><![CDATA[No permission for this "
           b"authentication key]]></message>\n</error>\n</errors>\n</prestashop>\n")
    assert codec.decode_errors(xml) == [(20, "Authentification key is not active"),
                                        (21, "No permission for this authentication key")]
    js = b'{"errors":[{"code":41,"message":"parameter \\"lastname\\" required"}]}'
    assert codec.decode_errors(js) == [(41, 'parameter "lastname" required')]
    assert codec.decode_errors(b"") == []
    assert codec.decode_errors(b"Fatal error: something") == []


def test_json_quirks():
    assert codec.decode_json_list([], "customers") == []
    data = {"customers": [{"id": 1, "active": "1", "associations": {"groups": [{"id": "3"}]}}]}
    assert codec.decode_json_list(data, "customers") == [
        {"id": "1", "active": "1", "associations": {"groups": [{"id": "3"}]}}
    ]
    multi = {"products": [{"id": 4, "name": [{"id": "1", "value": "Mug"}, {"id": "2", "value": "Tasse"}]}]}
    assert codec.decode_json_list(multi, "products", lang_fields=["name"])[0]["name"] == {1: "Mug", 2: "Tasse"}
    single = {"product": {"id": 4, "name": "Mug", "price": "9.000000"}}
    rec = codec.decode_json_object(single, "product", "products", lang_fields=["name"], single_lang_id=1)
    assert rec == {"id": "4", "name": {1: "Mug"}, "price": "9.000000"}
    with_display = {"products": [{"id": 4, "name": "Mug"}]}
    assert codec.decode_json_object(with_display, "product", "products", lang_fields=["name"],
                                    single_lang_id=2)["name"] == {2: "Mug"}


def test_encoding_is_cdata_without_whitespace_and_typed_values():
    from decimal import Decimal

    body = codec.encode_objects(
        "product",
        [{"price": 19.9, "active": True, "on_sale": False, "weight": Decimal("0.500"), "reference": None,
          "name": {1: "Shirt", 2: "Chemise"}, "description": "a ]]> b",
          "associations": {"categories": [{"id": 2}, {"id": 5}]}}],
        {"categories": "category"},
    )
    text = body.decode()
    assert "<price><![CDATA[19.9]]></price>" in text
    assert "<active><![CDATA[1]]></active><on_sale><![CDATA[0]]></on_sale>" in text
    assert "<weight><![CDATA[0.500]]></weight><reference><![CDATA[]]></reference>" in text
    assert '<name><language id="1"><![CDATA[Shirt]]></language><language id="2"><![CDATA[Chemise]]></language></name>' in text
    assert "<associations><categories><category><id><![CDATA[2]]></id></category>" in text
    assert "\n" not in text and "\t" not in text  # no whitespace anywhere between elements
    root = etree.fromstring(body)
    assert root.find("product/description").text == "a ]]> b"  # the split CDATA round-trips


def test_encoding_refuses_bad_names_and_control_characters():
    with pytest.raises(ValidationError, match="not a valid PrestaShop field name"):
        codec.encode_objects("customer", [{"a><b": "x"}], {})
    with pytest.raises(ValidationError, match="control character"):
        codec.encode_objects("customer", [{"note": "bell\x07"}], {})
    with pytest.raises(ValidationError, match="no association"):
        codec.encode_objects("customer", [{"associations": {"nope": [{"id": 1}]}}], {"groups": "group"})


def test_format_scalar_has_no_exponent():
    assert codec.format_scalar(1e-7) == "0.0000001"
    assert codec.format_scalar(12345678.5) == "12345678.5"
    with pytest.raises(ValueError):
        codec.format_scalar(float("nan"))
