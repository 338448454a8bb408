"""The products' look-ups by reference, made in a batch per read part before any write
(pipelines/bulk/lookup.py), against the PrestaShop sandbox over real HTTP.

* the OR filter (``filter[reference]=[A|B|C]``) split over several requests answers exactly what
  one look-up per record would: the lowest id whose reference equals the ItemId exactly (the
  shop compares case-insensitively), None for those the shop does not have;
* a write attempt that failed after the batch said "not found" does not trust it again: the
  retry looks the product up itself and finds the one the failed attempt may have created
  (here made by hand, as a create whose answer was lost), instead of creating it twice;
* a whole run: products that reached the shop without their cross-reference (a crash between
  the two) are found and not created again, and the shop sees one look-up request per read part,
  not one per record.
"""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.faults import Faults
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from pipelines.bulk.lookup import batches, lookup_products
from pipelines.bulk.task import TaskEnv, _ChunkWriter
from pipelines.operations import SystemOperations
from runtime.store.bulk_runs import open_bulk_store
from tests.bulk.conftest import PS_KEY, sandboxes

pytestmark = pytest.mark.timeout(180)


def _product(reference: str) -> dict[str, Any]:
    return {"reference": reference, "name": {1: f"Product {reference}"}, "price": "10.00",
            "link_rewrite": {1: reference.lower()}, "active": "1"}


def test_batches_keep_the_order_and_stay_within_the_url_budget() -> None:
    keys = [f"ITEM-{i:05d}" for i in range(100)]  # 10 characters each
    cut = list(batches(keys, max_chars=109))  # 10 keys and 9 pipes = 109 characters
    assert [k for b in cut for k in b] == keys
    assert [len(b) for b in cut] == [10] * 10
    assert all(len("|".join(b)) <= 109 for b in cut)
    assert list(batches(["A" * 50, "B", "C"], max_chars=20)) == [["A" * 50], ["B", "C"]]
    assert list(batches([], max_chars=20)) == []


@pytest.mark.contract
def test_the_batched_lookup_answers_as_one_lookup_per_record(tmp_path: Path) -> None:
    config = SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=0)
    with run_ps(config) as url:
        ps = ClientConfig(base_url=url, api_key=PS_KEY)

        async def go() -> tuple[dict[str, Any], int, list[dict[str, Any]]]:
            async with Client(ps) as client:
                made = {}
                for ref in ("LK-001", "LK-002", "LK-002", "lk-003", "LK-004"):
                    made.setdefault(ref, []).append(str((await client.create("products", _product(ref)))["id"]))
                groups = [[({}, {"variant": False, "ax_item_id": ref, "ps_product_id": None})]
                          for ref in ("LK-001", "LK-002", "LK-003", "LK-005", "LK-006")]
                groups.append([({}, {"variant": False, "ax_item_id": "LK-004", "ps_product_id": "77"})])  # xref
                ops = SystemOperations(ps, None, None, ps_client=client)
                requests = await lookup_products(ops, groups, max_chars=15)  # 6 characters each: 2 per request
                return made, requests, [g[0][1] for g in groups]

        made, requests, contexts = asyncio.run(go())
    assert requests == 3  # 5 keys, 2 per request
    by_ref = {c["ax_item_id"]: c for c in contexts}
    assert by_ref["LK-001"]["ps_product_row"]["id"] == made["LK-001"][0]
    assert by_ref["LK-002"]["ps_product_row"]["id"] == min(made["LK-002"], key=int)  # the lowest id
    assert by_ref["LK-002"]["ps_product_row"]["price"]  # display=full: what the update diffs against
    assert by_ref["LK-003"]["ps_product_row"] is None  # the shop's "lk-003" is not item LK-003
    assert by_ref["LK-005"]["ps_product_row"] is None and by_ref["LK-006"]["ps_product_row"] is None
    assert "ps_product_row" not in by_ref["LK-004"]  # it has a cross-reference: its write looks it up


@pytest.mark.contract
def test_a_retried_create_looks_again_instead_of_trusting_the_batch(tmp_path: Path) -> None:
    config = SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=0)
    store = open_bulk_store(f"sqlite:///{tmp_path / 'journal.db'}")
    with run_ps(config) as url:
        ps = ClientConfig(base_url=url, api_key=PS_KEY)

        async def go() -> tuple[dict[str, Any], list[str]]:
            async with Client(ps) as client:
                ops = SystemOperations(ps, None, store, ps_client=client)
                env = TaskEnv(run_id="r1", kind="catalog", flow_name="ax_product_to_ps", flow_dirs=[],
                              prestashop=ps, ax=None, store_factory=functools.partial(open_bulk_store, ""),
                              backoff_s=0.01)
                writer = _ChunkWriter(env, ops, store, {})
                # the batch said "not found"; then a create reached the shop but its answer was
                # lost (made here by hand), and the next attempt is refused with a 503
                context: dict[str, Any] = {"ps_product_row": None, "bulk_key": "RT-1"}
                lost = await client.create("products", _product("RT-1"))
                async with httpx.AsyncClient(auth=(PS_KEY, "")) as raw:
                    (await raw.put(url + "/_sandbox/faults", json=Faults(unavailable_next=1, only_methods=["POST"])
                                   .model_dump())).raise_for_status()
                result = await writer._call("prestashop", "products.upsert", _product("RT-1"), None, context)
                rows = await client.list("products", display=["id", "reference"], filters={"reference": "[RT-1]"})
                return {"result": result, "lost": str(lost["id"])}, [str(r["id"]) for r in rows]

        out, ids = asyncio.run(go())
    store.close()
    assert ids == [out["lost"]]  # one product: the retry found the one the lost create made
    assert out["result"]["existed"] is True and out["result"]["id"] == out["lost"]


@pytest.mark.e2e
def test_a_run_finds_products_created_without_their_cross_reference(ray_session: None, tmp_path: Path) -> None:
    items = 120
    with sandboxes(tmp_path, items, variants=0) as systems:
        async def precreate() -> list[str]:
            from connectors.dynamics_ax import Client as AxClient

            async with AxClient(systems.ax) as ax, Client(systems.ps) as ps:
                page = await ax.service("item").get_keys(page_size=items)
                item_ids = sorted(k.value for k in page.keys)[::4]  # every fourth item reached the shop already
                for item_id in item_ids:
                    await ps.create("products", _product(item_id))
                return item_ids

        before = asyncio.run(precreate())
        systems.shop_requests(clear=True)
        run = systems.run("catalog", chunk_size=40, read_part_size=20, concurrency=4)
        assert run["status"] == "done" and run["counts"]["failed"] == 0, run
        requests = systems.shop_requests()
        creates = Counter(r["resource"] for r in requests if r["method"] == "POST" and r["status"] is None)
        assert creates == {"products": items - len(before)}  # the products already there were not made again
        refs = Counter(p["reference"] for p in systems.shop("products", "[reference]"))
        assert len(refs) == items and set(refs.values()) == {1}
        lookups = [r for r in requests if r["method"] == "GET" and r["resource"] == "products"
                   and not r["path"].rstrip("/").split("/")[-1].isdigit()]  # lists, not an update's GET of one
        assert len(lookups) == items // 20  # one look-up per read part of 20 items, none per record
