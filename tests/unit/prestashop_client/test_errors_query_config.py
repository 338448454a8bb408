"""The error table, query building and the client configuration."""

from __future__ import annotations

import pytest
from pydantic import ValidationError as PydanticValidationError

from connectors.errors import (
    AuthError,
    ConfigError,
    DuplicateError,
    NotFoundError,
    PermanentError,
    TransientError,
    ValidationError,
)
from connectors.prestashop import ClientConfig, F
from connectors.prestashop.errors import error_from_response, parse_retry_after, plain_text_write_error
from connectors.prestashop.query import list_params

pytestmark = pytest.mark.unit

KEY = "UCCLLQ9N2ARSHWCXLT74KUKSSK34BFKX"


def error_xml(code: int, message: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            f"<errors>\n<error>\n<code><![CDATA[{code}]]></code>\n<message><![CDATA[{message}]]></message>\n"
            "</error>\n</errors>\n</prestashop>\n")


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (401, b"401 Unauthorized", AuthError, None),
        (401, error_xml(18, "Invalid authentication key format").encode(), AuthError, 18),
        (403, error_xml(132, "No permission for this key on this shop").encode(), AuthError, 132),
        (404, b"", NotFoundError, None),
        (404, error_xml(87, "Id(s) not exists: 4").encode(), NotFoundError, 87),
        (405, error_xml(101, "Method POST is not allowed for the resource stock_availables").encode(),
         PermanentError, 101),
        (400, error_xml(41, 'parameter "lastname" required').encode(), ValidationError, 41),
        (400, error_xml(93, 'parameter "quantity" not writable.').encode(), ValidationError, 93),
        (400, error_xml(32, "This filter does not exist.").encode(), PermanentError, 32),
        (500, error_xml(140, "Customer email already exists").encode(), DuplicateError, 140),
        (500, error_xml(133, "stock depends on stock").encode(), ValidationError, 133),
        (500, error_xml(8, "[PHP Notice #8] Undefined index (x.php, line 3)").encode(), TransientError, 8),
        (503, error_xml(22, "The PrestaShop webservice is disabled.").encode(), ConfigError, 22),
        (503, b"", TransientError, None),
        (429, b"", TransientError, None),
        (418, b"", PermanentError, None),
    ],
)
def test_one_table_maps_status_and_codes(status, body, cls, code):
    err = error_from_response(status, {}, body, where="GET customers/5")
    assert type(err) is cls
    assert err.code == code
    assert "GET customers/5" in err.message and err.message.endswith((".", "s."))


def test_php_notice_page_is_transient_with_first_line():
    body = b"<br />\n<b>Notice</b>:  Undefined index: id_lang in /var/www/modules/x.php on line 12<br />\n<br/>more"
    err = error_from_response(500, {"Content-Type": "text/html"}, body, where="PUT products/3")
    assert isinstance(err, TransientError)
    assert "Notice : Undefined index: id_lang in /var/www/modules/x.php on line 12" in err.message


def test_retry_after_is_honoured():
    err = error_from_response(429, {"Retry-After": "7"}, b"", where="GET orders")
    assert isinstance(err, TransientError) and err.retry_after == 7.0 and "Retry after 7 s" in err.message
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None


def test_json_error_bodies_and_redaction():
    err = error_from_response(400, {}, b'{"errors":[{"code":41,"message":"parameter \\"email\\" required"}]}',
                              where="POST customers")
    assert isinstance(err, ValidationError) and 'parameter "email" required' in err.message
    leaked = error_from_response(500, {}, error_xml(127, "XML error : <passwd>hunter2</passwd>").encode(),
                                 where="POST customers")
    assert "hunter2" not in leaked.message and "not valid XML" in leaked.message


def test_plain_text_answers_of_validate_order():
    dup = plain_text_write_error(b"Cart cannot be loaded or an order has already been placed using this cart",
                                 where="POST orders")
    assert isinstance(dup, DuplicateError)
    other = plain_text_write_error(b"Error processing order. Secure key does not match.", where="POST orders")
    assert type(other) is PermanentError and "Secure key" in other.message


def test_list_params_operators_and_date():
    params = list_params(
        display=["id", "date_upd"],
        filters={"id": F.any_of(1, 2), "date_upd": F.gt("2024-05-01 10:00:00"), "lastname": F.contains("Do")},
        sort=["date_upd_ASC", "id_ASC"], limit=(100, 50), language=[1, 2],
    )
    assert params == [
        ("display", "[id,date_upd]"), ("filter[id]", "[1|2]"), ("filter[date_upd]", ">[2024-05-01 10:00:00]"),
        ("filter[lastname]", "%[Do]%"), ("sort", "[date_upd_ASC,id_ASC]"), ("limit", "100,50"),
        ("date", "1"), ("language", "[1|2]"),
    ]
    assert ("date", "1") not in list_params(filters={"id": 3})
    assert list_params(filters={"id": 3}) == [("filter[id]", "[3]")]
    assert F.between(1, 9) == "[1,9]" and F.none_of("a", "b") == "![a|b]" and F.lt(5) == "<[5]"
    assert F.startswith("AB") == "[AB]%" and F.endswith("Z") == "%[Z]"


def test_list_params_refuse_what_the_syntax_cannot_carry():
    with pytest.raises(ValidationError, match="cannot escape"):
        F.eq("a|b")
    with pytest.raises(ValidationError, match="numbers or dates"):
        F.between("a", "b")
    with pytest.raises(ValidationError, match="_ASC or _DESC"):
        list_params(sort="id")
    with pytest.raises(ValidationError, match="error 33"):
        list_params(filters={"id": ""})


def test_config_masks_key_and_normalises_url():
    cfg = ClientConfig(base_url="https://shop.example/", api_key=KEY, id_shop=2, key_in_query=True)
    assert cfg.base_url == "https://shop.example/api/"
    assert KEY not in repr(cfg) and KEY not in str(cfg.model_dump())
    assert cfg.common_params() == {"id_shop": "2", "ws_key": KEY}
    assert ClientConfig(base_url="http://h/shop/api", api_key=KEY).base_url == "http://h/shop/api/"


def test_config_errors_do_not_echo_the_key():
    with pytest.raises(PydanticValidationError) as info:
        ClientConfig(base_url="https://shop.example", api_key="short-secret-key")
    assert "short-secret-key" not in str(info.value)
    with pytest.raises(PydanticValidationError, match="must not carry credentials"):
        ClientConfig(base_url=f"https://{KEY}@shop.example", api_key=KEY)
