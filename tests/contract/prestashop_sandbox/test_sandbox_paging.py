"""Paging a list of more than 1,000 records with limit=offset,count (no total is ever returned)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from connectors.prestashop.sandbox import run_in_thread
from tests.contract.prestashop_sandbox.conftest import FULL_KEY, make_config
from tests.contract.prestashop_sandbox.helpers import root

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def big_shop() -> Iterator[str]:
    with run_in_thread(make_config(seed=2100)) as url:  # 2,100 products, 1,050 customers
        yield url


def test_pages_cover_every_customer_once(big_shop: str) -> None:
    seen: list[int] = []
    with httpx.Client(base_url=big_shop, auth=(FULL_KEY, "")) as c:
        offset = 0
        while True:
            r = c.get("/api/customers", params={"sort": "[id_ASC]", "limit": f"{offset},250"})
            assert "total" not in r.text.lower() and not any("count" in h for h in r.headers)
            page = [int(e.get("id") or 0) for e in root(r.text).find("customers")]  # type: ignore[union-attr]
            seen += page
            if len(page) < 250:
                break
            offset += 250
        assert len(seen) == 1050 and seen == list(range(1, 1051))
        full = c.get("/api/products", params={"display": "[id,reference]", "limit": "1000,5", "sort": "[id_DESC]"})
        refs = [p.findtext("reference") for p in root(full.text).iter("product")]
        assert refs == [f"SKU-{i:05d}" for i in range(1100, 1095, -1)]
