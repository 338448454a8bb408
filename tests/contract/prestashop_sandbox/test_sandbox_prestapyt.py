"""Compatibility with prestapyt 0.11 (PyPI), an independent PrestaShop webservice client.

prestapyt talks to the sandbox exactly as it talks to a real shop (requests, Basic auth, raw XML);
nothing here goes through this project's own client.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from connectors.prestashop.sandbox import run_in_thread
from tests.contract.prestashop_sandbox.conftest import FULL_KEY, READ_KEY, make_config

prestapyt = pytest.importorskip("prestapyt")
pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    with run_in_thread(make_config(seed=8)) as url:
        yield url + "/api"


@pytest.fixture
def ps(api_url: str) -> prestapyt.PrestaShopWebServiceDict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # prestapyt warns that 8.2.0 is newer than it was tested with
        return prestapyt.PrestaShopWebServiceDict(api_url, FULL_KEY)


def quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_crud_and_search_with_prestapyt(ps: prestapyt.PrestaShopWebServiceDict) -> None:
    blank = quiet(ps.get, "customers", options={"schema": "blank"})
    customer = blank["customer"]
    customer.update({"passwd": "from-prestapyt", "lastname": "Pyt", "firstname": "Presta",
                     "email": "prestapyt@example.com", "active": "1", "id_default_group": "3"})
    customer.pop("associations", None)
    created = quiet(ps.add, "customers", {"customer": customer})
    cid = int(created["prestashop"]["customer"]["id"])
    assert cid > 0

    got = quiet(ps.get, "customers", cid)["customer"]
    assert got["email"] == "prestapyt@example.com" and len(got["passwd"]) == 60

    found = quiet(ps.search, "customers", options={"filter[email]": "[prestapyt@example.com]"})
    assert found == [cid]
    assert quiet(ps.search, "customers", options={"filter[email]": "[nobody@example.com]"}) == []
    limited = quiet(ps.search, "customers", options={"limit": "2", "sort": "[id_DESC]"})
    assert limited == [cid, cid - 1]

    quiet(ps.partial_edit, "customers", cid, {"customer": {"lastname": "Edited"}})
    edited = quiet(ps.get, "customers", cid)["customer"]
    assert edited["lastname"] == "Edited" and edited["email"] == "prestapyt@example.com"

    quiet(ps.delete, "customers", resource_ids=cid)
    with pytest.raises(prestapyt.PrestaShopWebServiceError) as err:
        quiet(ps.get, "customers", cid)
    assert err.value.error_code in (None, 404) or "404" in str(err.value)


def test_multilingual_fields_parse_like_a_real_shop(ps: prestapyt.PrestaShopWebServiceDict) -> None:
    product = quiet(ps.get, "products", 1)["product"]
    names = product["name"]["language"]
    assert [n["attrs"]["id"] for n in names] == ["1", "2"]
    assert all(n["value"] for n in names)


def test_partial_edit_of_product_hits_read_only_error_93(ps: prestapyt.PrestaShopWebServiceDict) -> None:
    # prestapyt issue #60/#90: GET output contains read-only fields that PUT refuses.
    with pytest.raises(prestapyt.PrestaShopWebServiceError) as err:
        quiet(ps.partial_edit, "products", 1, {"product": {"reference": "NEW-REF"}})
    assert err.value.error_code == 400
    assert str(err.value) == "'parameter \"manufacturer_name\" not writable. Please remove this attribute of this XML'"


def test_errors_and_auth(api_url: str, ps: prestapyt.PrestaShopWebServiceDict) -> None:
    with pytest.raises(prestapyt.PrestaShopWebServiceError) as err:
        quiet(ps.add, "customers", {"customer": {"lastname": "NoMail"}})
    assert err.value.error_code == 400 and "required" in str(err.value)
    readonly = quiet(prestapyt.PrestaShopWebServiceDict, api_url, READ_KEY)
    with pytest.raises(prestapyt.PrestaShopAuthenticationError):
        quiet(readonly.get, "products", 1)
    assert quiet(readonly.head, "customers") is not None
