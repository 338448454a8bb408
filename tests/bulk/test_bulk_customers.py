"""``presta-ax sync customers`` both ways, ``--since``, and the source-version check of a catalog
run against a real-time update that landed first.

AX customers -> an empty-ish shop and back: every customer lands once on the other side, the
bridge's own writes coming back are not written again, a rerun writes nothing either way, and a
run ``--since`` lists only what changed since then (AX change tracking, the shop's ``date_upd``).
Writes to the shop are counted from its own request log; to AX, from AX's customer list."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax import EntityKey
from connectors.dynamics_ax.query import range_
from connectors.prestashop import Client as PsClient
from runtime.store.bulk_runs import open_bulk_store
from runtime.store.versions import version_newer_or_equal
from tests.bulk.conftest import Systems, sandboxes

pytestmark = pytest.mark.e2e


async def _ax_accounts(systems: Systems) -> dict[str, str]:
    """AX's customers: ``{AccountNum: primary e-mail}``."""
    async with AxClient(systems.ax) as ax:
        keys = [k async for page in ax.service("customer").iter_keys(page_size=500) for k in page.keys]
        docs = await ax.service("customer").read(keys)
    out = {}
    for d in docs:
        party = d.get("DirParty")
        party = party[0] if isinstance(party, list) else party or {}
        contacts = party.get("DirPartyContactInfoView") or []
        out[str(d["AccountNum"])] = next((str(c.get("Locator")) for c in contacts if c.get("Type") == "Email"), "")
    return out


async def _shop_customers(systems: Systems, new: int) -> list[str]:
    async with PsClient(systems.ps) as shop:
        ids = []
        for n in range(new):
            made = await shop.create("customers", {"firstname": "Shop", "lastname": f"Buyer{chr(65 + n)}", "passwd": "Secret-123456",
                                                   "email": f"buyer{n}@shop.example", "id_default_group": 3,
                                                   "active": 1, "id_lang": 1})
            ids.append(str(made["id"]))
        return ids


def test_customers_both_ways_rerun_and_since(ray_session: None, tmp_path: Path) -> None:
    n_ax, n_shop = 12, 5
    with sandboxes(tmp_path, 3, variants=0, customers=n_ax) as systems:
        before = {str(c["id"]) for c in systems.shop("customers", "[id]")}
        accounts = asyncio.run(_ax_accounts(systems))
        assert len(accounts) == n_ax
        made = asyncio.run(_shop_customers(systems, n_shop))

        systems.shop_requests(clear=True)
        first = systems.run("customers", chunk_size=5)
        assert first["status"] == "done" and first["counts"]["failed"] == 0, first
        assert first["counts"]["created"] == n_ax
        shop = systems.shop("customers", "[id,email]")
        emails = sorted(c["email"] for c in shop if str(c["id"]) not in before and str(c["id"]) not in made)
        assert emails == sorted(accounts.values())  # each AX customer once, with its e-mail
        systems.shop_requests(clear=True)
        again = systems.run("customers", chunk_size=5)
        assert again["counts"]["writes"] == 0 and systems.shop_writes() == []
        assert again["counts"]["unchanged"] == n_ax

        back = systems.run("customers", direction="ps-to-ax", chunk_size=5)
        assert back["status"] == "done" and back["counts"]["failed"] == 0, back
        assert back["listed"] == len(before) + n_ax + n_shop
        after = asyncio.run(_ax_accounts(systems))
        created = {a: e for a, e in after.items() if a not in accounts}
        # the shop's own customers reached AX once each; the AX customers keep their content
        assert sorted(created.values()) == sorted([f"buyer{n}@shop.example" for n in range(n_shop)] +
                                                  [c["email"] for c in shop if str(c["id"]) in before])
        assert {a: after[a] for a in accounts} == accounts
        assert back["counts"]["created"] == len(created)
        again = systems.run("customers", direction="ps-to-ax", chunk_size=5)
        assert again["counts"]["writes"] == 0 and again["counts"]["unchanged"] == back["listed"]
        assert asyncio.run(_ax_accounts(systems)) == after
        # back the other way: the first run may align fields whose round trip is not the
        # identity (docs/bulk-sync.md, "Limits"); then both directions are settled
        assert systems.run("customers", chunk_size=5)["counts"]["failed"] == 0
        systems.shop_requests(clear=True)
        assert systems.run("customers", chunk_size=5)["counts"]["writes"] == 0 and systems.shop_writes() == []
        assert systems.run("customers", direction="ps-to-ax", chunk_size=5)["counts"]["writes"] == 0
        assert asyncio.run(_ax_accounts(systems)) == after

        # --since on AX: AX changed nothing since t0 (a full run lists every account)
        t0 = dt.datetime.now(dt.UTC)
        systems.shop_requests(clear=True)
        since_ax = systems.run("customers", since=t0, chunk_size=5)
        assert since_ax["status"] == "done" and since_ax["listed"] == 0 and since_ax["counts"]["writes"] == 0
        assert systems.shop_writes() == []

        # --since on the shop: one customer renamed after t1
        time.sleep(1.1)
        t1 = dt.datetime.now(dt.UTC)
        time.sleep(1.1)
        renamed = made[0]
        asyncio.run(_rename(systems, renamed, "Renamed"))
        one = systems.run("customers", direction="ps-to-ax", since=t1, chunk_size=5)
        assert one["listed"] == 1 and one["counts"]["updated"] == 1 and one["counts"]["writes"] == 1
        store = open_bulk_store(systems.store_url)
        account = store.get_xref("customer", ps_id=renamed)
        store.close()
        assert account is not None
        assert asyncio.run(_ax_last_name(systems, account["ax_id"])) == "Renamed"


async def _rename(systems: Systems, customer: str, last: str) -> None:
    async with PsClient(systems.ps) as shop:
        await shop.update("customers", int(customer), {"lastname": last})


async def _ax_last_name(systems: Systems, account: str) -> Any:
    async with AxClient(systems.ax) as ax:
        doc = (await ax.service("customer").read([EntityKey.of(AccountNum=account)]))[0]
    party = doc.get("DirParty")
    party = party[0] if isinstance(party, list) else party
    person = party.get("PersonName")
    person = person[0] if isinstance(person, list) else person
    return person.get("LastName")


def test_catalog_run_never_overwrites_a_newer_real_time_update(ray_session: None, tmp_path: Path) -> None:
    items = 20
    with sandboxes(tmp_path, items, variants=0) as systems:
        assert systems.run("catalog", chunk_size=10)["counts"]["created"] == items
        async def ids() -> list[str]:
            async with AxClient(systems.ax) as ax:
                return sorted(str(i["ItemId"]) for i in await ax.service("item").find(
                    [range_("InventTable", "ItemId", "A", "Z")]))
        newer, older = asyncio.run(ids())[:2]
        for item in (newer, older):
            httpx.post(systems.ax_url + "/_sandbox/prices", json={"item_id": item, "price": "77.70"},
                       timeout=30).raise_for_status()
        # what the real-time worker records after applying a product message read after this run's read
        store = open_bulk_store(systems.store_url)
        later = f"{time.time() + 3600:.6f}"
        assert store.put_sync_state("product", newer, source_version=later)
        started = f"{time.time():.6f}"
        systems.shop_requests(clear=True)
        run = systems.run("catalog", chunk_size=10)
        assert run["counts"]["stale"] == 1 and run["counts"]["updated"] == 1
        prices = {p["reference"]: p["price"] for p in systems.shop("products", "[reference,price]")}
        assert float(prices[older]) == 77.70 and float(prices[newer]) != 77.70
        assert len(systems.shop_writes("products")) == 1
        # the bulk write claimed its read time: a real-time message read before it is the older one
        state = store.get_sync_state("product", older)
        assert state is not None and version_newer_or_equal(state["source_version"], started)
        assert store.get_sync_state("product", newer)["source_version"] == later
        store.close()

        # --changed: only what AX changed since the last finished run began (change tracking)
        third = asyncio.run(ids())[2]
        httpx.post(systems.ax_url + "/_sandbox/prices", json={"item_id": third, "price": "55.50"},
                   timeout=30).raise_for_status()
        systems.shop_requests(clear=True)
        changed = systems.run("catalog", chunk_size=10, changed=True, overlap_s=0.0)
        assert changed["status"] == "done" and changed["listed"] == 1 and changed["counts"]["updated"] == 1
        assert [w["resource"] for w in systems.shop_writes()] == ["products"]
        prices = {p["reference"]: p["price"] for p in systems.shop("products", "[reference,price]")}
        assert float(prices[third]) == 55.50
