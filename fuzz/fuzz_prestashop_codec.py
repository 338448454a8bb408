"""Fuzz target: the PrestaShop codec (``connectors.prestashop.codec``) on answers of the shop,
XML and JSON, as the client decodes them: one object, a list, a write answer, an error body.
Allowed: the connector's errors (:class:`~connectors.errors.BridgeError`); ``decode_errors``
never raises. Anything else is a crash.

    python fuzz/fuzz_prestashop_codec.py -max_total_time=60 fuzz/corpus/prestashop
"""

from __future__ import annotations

from _harness import Target, main


def build() -> Target:
    import httpx

    from connectors.errors import BridgeError
    from connectors.prestashop import codec
    from connectors.prestashop.client import _json_body

    def test_one_input(data: bytes) -> None:
        codec.decode_errors(data, "text/xml")
        for decode in (lambda: codec.decode_xml_object(data, where="GET customers/1", node="customer"),
                       lambda: codec.decode_xml_list(data, where="GET customers"),
                       lambda: codec.decode_xml_objects(data, where="POST customers")):
            try:
                decode()
            except BridgeError:
                pass
        try:
            parsed = _json_body(httpx.Response(200, content=data), "customers")
        except BridgeError:
            return
        for decode in (lambda: codec.decode_json_object(parsed, "customer", "customers", lang_fields=["name"],
                                                        single_lang_id=1),
                       lambda: codec.decode_json_list(parsed, "customers", lang_fields=["name"])):
            try:
                decode()
            except BridgeError:
                pass

    return test_one_input


if __name__ == "__main__":
    main(build, ["connectors.prestashop.codec", "connectors.prestashop.client"], "prestashop.dict")
