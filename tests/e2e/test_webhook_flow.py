"""End to end on Ray + Serve over real HTTP: ingest, processing by the entity actor, admin API,
refusals, per-key ordering, retry to the dead-letter queue and replay."""

from __future__ import annotations

import random

import httpx
import pytest

from runtime.store import Store
from tests.e2e.support import TOKEN, send_all, signed, wait_until
from tests.flows_for_tests import read_sink

pytestmark = pytest.mark.e2e


def signed_raw(body: bytes) -> dict[str, str]:
    from connectors.prestashop.signing import signature_headers
    from tests.e2e.support import SECRET
    return {"content-type": "application/json", **signature_headers(SECRET, "evt_raw", body)}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_signed_webhook_is_processed_and_shows_done_with_its_timeline(bridge) -> None:
    body, headers = signed("order.created", {"id": 1001, "fail_times": 1})
    async with httpx.AsyncClient(base_url=bridge.url, headers=AUTH, timeout=10) as c:
        r = await c.post("/webhooks/prestashop", content=body, headers=headers)
        assert r.status_code == 202
        mid = r.json()["message_id"]

        async def done() -> bool:
            return (await c.get(f"/api/v1/messages/{mid}")).json()["status"] == "done"
        await wait_until(done)
        detail = (await c.get(f"/api/v1/messages/{mid}")).json()
        kinds = [e["kind"] for e in detail["timeline"]]
        assert kinds == ["received", "attempt_started", "attempt_failed", "attempt_started", "attempt_succeeded"]
        assert detail["flow"] == "test_sink" and detail["attempts"] == 2
        assert detail["timeline"][2]["detail"]["type"] == "TransientError"
        health = (await c.get("/api/v1/health")).json()
        assert health["counts"] == {"order": {"done": 1}}
        again = await c.post("/webhooks/prestashop", content=body, headers=headers)
        assert again.status_code == 200 and again.json()["message_id"] == mid


async def test_refusals_over_http_store_nothing(bridge) -> None:
    body, headers = signed("order.created", {"id": 5})
    cases = [
        ({**headers, "webhook-signature": "v1,AAAA"}, body, 401),
        (signed_raw(body[:-3]), body[:-3], 400),
        (signed("order.melted", {"id": 5})[1], signed("order.melted", {"id": 5})[0], 422),
        ({**headers, "content-type": "application/xml"}, body, 415),
    ]
    big_body, big_headers = signed("order.created", {"id": 5, "pad": "x" * (1024 * 1024)})
    cases.append((big_headers, big_body, 413))
    async with httpx.AsyncClient(base_url=bridge.url, headers=AUTH, timeout=10) as c:
        for hdrs, b, status in cases:
            r = await c.post("/webhooks/prestashop", content=b, headers=hdrs)
            assert r.status_code == status, r.text
            assert r.json()["error"]
        assert (await c.get("/api/v1/health")).json()["counts"] == {}


async def test_200_updates_to_10_keys_apply_per_key_in_journal_order(bridge) -> None:
    # product ids as the shop has them (the ingress refuses a non-numeric id at the door)
    versions = {str(101 + k): list(range(1, 21)) for k in range(10)}
    items = [(key, v) for key in versions for v in versions[key]]
    random.Random(11).shuffle(items)
    payloads = [signed("product.updated", {"id": key, "version": v}) for key, v in items]
    assert set(await send_all(bridge.url, payloads, concurrency=24)) == {202}
    store = Store(bridge.settings.store_url())

    async def settled() -> bool:
        counts = store.counts().get("product", {})
        return counts.get("done", 0) == 200
    await wait_until(settled)
    _, log = read_sink(store)
    for key in versions:
        applied = [(seq, int(v)) for k, seq, v in log if k == key]
        seqs = [s for s, _ in applied]
        assert seqs == sorted(seqs), f"{key} applied out of journal order"
        assert applied[-1][1] == 20, f"{key} ended on version {applied[-1][1]}, not its newest"
        assert [v for _, v in applied] == sorted(v for _, v in applied)  # never an older one after a newer
    store.close()


async def test_permanent_failure_goes_to_the_dlq_and_replay_reruns_it(bridge) -> None:
    body, headers = signed("customer.created", {"id": 77, "permanent": True})
    async with httpx.AsyncClient(base_url=bridge.url, headers=AUTH, timeout=10) as c:
        mid = (await c.post("/webhooks/prestashop", content=body, headers=headers)).json()["message_id"]

        async def dead() -> bool:
            items = (await c.get("/api/v1/dlq")).json()["items"]
            return [m["id"] for m in items] == [mid]
        await wait_until(dead)
        msg = (await c.get(f"/api/v1/messages/{mid}")).json()
        assert msg["attempts"] == 1 and msg["last_error"]["type"] == "ValidationError"
        assert "isEmail" in msg["last_error"]["message"]
        r = await c.post("/api/v1/dlq/replay", json={"ids": [mid]})
        assert r.json()["replayed"] == [mid]

        async def dead_again() -> bool:
            m = (await c.get(f"/api/v1/messages/{mid}")).json()
            return m["status"] == "dead" and "replayed" in [e["kind"] for e in m["timeline"]]
        await wait_until(dead_again)
        r = await c.post("/api/v1/dlq/discard", json={"ids": [mid], "reason": "test"})
        assert r.json()["discarded"] == [mid]
        assert (await c.get("/api/v1/dlq")).json()["items"] == []
