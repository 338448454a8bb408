"""Customers made by a bulk run are known again by their cross-reference, in both directions,
and a ps-to-ax run keeps AX's write operations within its own limit.

Shop customers -> AX (ps-to-ax) creates one AX account each and links it; the next ax-to-ps run
finds the shop customer of each such account through that link and creates no shop customer;
a second ps-to-ax run creates no AX account. AX's own count of calls in flight
(``/_sandbox/state`` ``peak_in_flight``, over every SOAP call of the run) shows the AX limit:
with ``ax_concurrency=1``, 16 records in flight per task and 20 ms per AX call, AX never served two
calls at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from runtime.store.bulk_runs import open_bulk_store
from tests.bulk.conftest import Systems, sandboxes
from tests.bulk.test_bulk_customers import _ax_accounts, _shop_customers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def _ax_peak(systems: Systems) -> int:
    return int(httpx.get(systems.ax_url + "/_sandbox/state", timeout=30).json()["peak_in_flight"])


def test_shop_customers_reach_ax_once_and_come_back_as_the_same_shop_customers(ray_session: None,
                                                                                tmp_path: Path) -> None:
    n_shop = 6
    with sandboxes(tmp_path, 2, variants=0, customers=2) as systems:
        made = asyncio.run(_shop_customers(systems, n_shop))
        shop_before = {str(c["id"]): c["email"] for c in systems.shop("customers", "[id,email]")}
        accounts_before = asyncio.run(_ax_accounts(systems))
        assert _ax_peak(systems) == 1  # the helper reads AX one call at a time
        # each AX call takes 20 ms (4 IIS workers): unlimited, the run's calls would overlap
        httpx.post(systems.ax_url + "/_sandbox/faults", json={"latency_ms": 20}, timeout=30).raise_for_status()

        out = systems.run("customers", direction="ps-to-ax", chunk_size=4, concurrency=8, ax_concurrency=1,
                          record_concurrency=16)
        assert out["status"] == "done" and out["counts"]["failed"] == 0, out
        assert out["limiter"]["system"] == "ax" and out["limiter"]["max"] == 1
        assert _ax_peak(systems) == 1  # 16 records in flight, one AX write operation at a time
        httpx.delete(systems.ax_url + "/_sandbox/faults", timeout=30).raise_for_status()
        accounts = asyncio.run(_ax_accounts(systems))
        created = {a: e for a, e in accounts.items() if a not in accounts_before}
        # every shop customer reached AX once (the shop's seeded ones included), nothing else
        assert sorted(created.values()) == sorted(shop_before.values())
        store = open_bulk_store(systems.store_url)
        try:
            links = {ps: store.get_xref("customer", ps_id=ps) for ps in shop_before}
        finally:
            store.close()
        assert all(link is not None for link in links.values())
        assert sorted(str(link["ax_id"]) for link in links.values() if link) == sorted(created)

        # AX -> shop: the accounts the bulk run created are the shop customers they came from
        systems.shop_requests(clear=True)
        back = systems.run("customers", chunk_size=4)
        assert back["status"] == "done" and back["counts"]["failed"] == 0, back
        assert back["counts"]["created"] == len(accounts_before)  # only AX's own customers are new to the shop
        shop_after = {str(c["id"]): c["email"] for c in systems.shop("customers", "[id,email]")}
        new_ids = set(shop_after) - set(shop_before)
        assert sorted(shop_after[i] for i in new_ids) == sorted(accounts_before.values())
        assert {i: shop_after[i] for i in shop_before} == shop_before  # the same customers, same e-mails
        posts = [w for w in systems.shop_writes("customers") if w["method"] == "POST"
                 and w["path"].strip("/") == "customers"]
        assert len(posts) == len(accounts_before)

        # and ps-to-ax again: the shop customers made from AX accounts are those accounts
        again = systems.run("customers", direction="ps-to-ax", chunk_size=4, ax_concurrency=1)
        assert again["status"] == "done" and again["counts"]["failed"] == 0, again
        assert again["counts"]["created"] == 0
        assert set(asyncio.run(_ax_accounts(systems))) == set(accounts)
        assert all(m in shop_after for m in made)
