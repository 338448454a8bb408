"""One flow run reads a shop object once until it writes (connectors/prestashop/read_memo.py),
counted in the sandbox's own request log over HTTP."""

from __future__ import annotations

import asyncio

import pytest

from connectors.prestashop.read_memo import read_memo

pytestmark = pytest.mark.contract


def _gets(control, path: str) -> int:
    return sum(1 for r in control.get("/_sandbox/requests").json()["requests"]
               if r["method"] == "GET" and r["path"].rstrip("/").endswith(path))


async def test_a_repeated_read_in_a_scope_goes_out_once_and_a_write_forgets_it(shop, control) -> None:
    control.delete("/_sandbox/requests")
    with read_memo():
        first = await shop.get("customers", 1)
        first["lastname"] = "changed by the caller"  # the caller's copy; the memory keeps the bytes
        again = await shop.get("customers", 1)
        assert again["lastname"] != "changed by the caller" and again["id"] == first["id"]
        assert _gets(control, "customers/1") == 1
        await shop.get("customers", 1, display=["id", "email"])  # another query: its own read
        # a write through the client empties the memory: the next read sees the shop again
        note = f"memo {again['id']}"
        await shop.update("customers", 1, {"note": note})
        after = await shop.get("customers", 1)
        assert after["note"] == note
    # read, other display, read after the write (the update's own read before its PUT was the
    # first read, remembered: nothing was written in between)
    assert _gets(control, "customers/1") == 3
    # outside a scope nothing is remembered, and concurrent scopes do not share
    await shop.get("customers", 1)
    await shop.get("customers", 1)
    assert _gets(control, "customers/1") == 5

    async def one_run() -> None:
        with read_memo():
            await shop.get("customers", 2)
            await shop.get("customers", 2)

    control.delete("/_sandbox/requests")
    await asyncio.gather(one_run(), one_run())
    assert _gets(control, "customers/2") == 2
