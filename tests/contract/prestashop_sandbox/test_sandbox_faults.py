"""Fault injection through /_sandbox/faults, and the frozen clock used for same-second records."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.contract.prestashop_sandbox.conftest import FULL_KEY
from tests.contract.prestashop_sandbox.helpers import errors, root

pytestmark = pytest.mark.contract


SEED = 5  # products in this module's own sandbox (fixtures `shop` and `c` in conftest)


def test_faults_endpoint_needs_a_key_and_validates(shop: str, c: httpx.Client) -> None:
    assert httpx.get(f"{shop}/_sandbox/faults").status_code == 401
    r = c.put("/_sandbox/faults", json={"error_rate": 2})
    assert r.status_code == 400 and "error_rate" in r.json()["error"]
    r = c.put("/_sandbox/faults", json={"no_such_fault": 1})
    assert r.status_code == 400
    assert c.get("/_sandbox/faults").json()["error_rate"] == 0


def test_outage_window_then_recovery(c: httpx.Client) -> None:
    c.put("/_sandbox/faults", json={"outage_s": 60})
    r = c.get("/api/customers")
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    assert "psws-version" not in r.headers  # the host answers, not PrestaShop
    c.delete("/_sandbox/faults")
    assert c.get("/api/customers").status_code == 200


def test_rate_limit_answers_429_with_retry_after(c: httpx.Client) -> None:
    c.put("/_sandbox/faults", json={"rate_limit_rps": 0.05, "rate_limit_burst": 2, "retry_after_s": 3})
    statuses = [c.get("/api/customers").status_code for _ in range(4)]
    assert statuses[:2] == [200, 200] and statuses[2:] == [429, 429]
    r = c.get("/api/customers")
    assert int(r.headers["retry-after"]) >= 1


def test_error_rate_and_php_notices(c: httpx.Client) -> None:
    c.put("/_sandbox/faults", json={"error_rate": 1})
    r = c.get("/api/customers")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    c.put("/_sandbox/faults", json={"php_notice_rate": 1})
    r = c.get("/api/customers")
    assert r.status_code == 500 and errors(r.text)[0][0] == 8 and "[PHP Notice #8]" in errors(r.text)[0][1]
    c.put("/_sandbox/faults", json={"php_notice_rate": 1, "php_notice_style": "html"})
    r = c.get("/api/customers")
    assert r.status_code == 500 and "<b>Notice</b>" in r.text


def test_notice_fault_has_no_side_effect(c: httpx.Client) -> None:
    before = len(root(c.get("/api/customers").text).find("customers"))  # type: ignore[arg-type]
    c.put("/_sandbox/faults", json={"php_notice_rate": 1})
    r = c.post("/api/customers", content="<prestashop><customer><passwd>abcdefgh</passwd><lastname>N</lastname>"
               "<firstname>N</firstname><email>notice@example.com</email></customer></prestashop>")
    assert r.status_code == 500
    c.delete("/_sandbox/faults")
    assert len(root(c.get("/api/customers").text).find("customers")) == before  # type: ignore[arg-type]


def test_concurrency_cap_answers_503(shop: str, c: httpx.Client) -> None:
    c.put("/_sandbox/faults", json={"max_concurrency": 1, "latency_ms": 1000, "latency_distribution": "fixed"})
    statuses: list[int] = []
    barrier = threading.Barrier(3)

    def call() -> None:
        barrier.wait()  # start together, well within the one-second latency of the first request
        statuses.append(httpx.get(f"{shop}/api/customers", auth=(FULL_KEY, ""), timeout=10).status_code)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses).count(200) >= 1 and 503 in statuses


def test_frozen_clock_gives_records_sharing_one_second(c: httpx.Client) -> None:
    c.put("/_sandbox/clock", json={"frozen": "2030-01-02 03:04:05"})
    try:
        for i in range(3):
            c.post("/api/customers", content=(
                "<prestashop><customer><passwd>abcdefgh</passwd><lastname>Same</lastname><firstname>Sec</firstname>"
                f"<email>same{i}@example.com</email></customer></prestashop>"))
        r = c.get("/api/customers", params={"date": "1", "filter[date_upd]": "[2030-01-02 03:04:05,2030-01-02 03:04:05]",
                                            "sort": "[date_upd_ASC,id_ASC]", "display": "[id,date_upd,email]"})
        got = [(e.findtext("date_upd"), e.findtext("email")) for e in root(r.text).iter("customer")]
        assert got == [("2030-01-02 03:04:05", f"same{i}@example.com") for i in range(3)]
        strict = c.get("/api/customers", params={"date": "1", "filter[date_upd]": ">[2030-01-02 03:04:05]"})
        assert len(root(strict.text).find("customers")) == 0  # type: ignore[arg-type]  # '>' is strict
    finally:
        assert c.put("/_sandbox/clock", json={"frozen": ""}).json()["frozen"] is False
