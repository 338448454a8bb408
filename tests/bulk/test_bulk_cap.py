"""The shop allows 3 writes at a time and answers 503 (Retry-After) beyond; the bulk run may use
up to 12. The shared limiter halves on the first 503s, learns the cap, stays at or under it
afterwards, and the run finishes with every record written once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from connectors.prestashop.sandbox.faults import Faults
from tests.bulk.conftest import sandboxes

pytestmark = pytest.mark.e2e


def test_the_run_learns_the_shops_concurrency_cap(ray_session: None, tmp_path: Path) -> None:
    items, cap = 150, 3
    faults = Faults(write_latency_ms=30, write_max_concurrency=cap, retry_after_s=1)
    with sandboxes(tmp_path, items, variants=0, faults=faults) as systems:
        run = systems.run("catalog", concurrency=12, chunk_size=25)
        assert run["status"] == "done" and run["counts"]["created"] == items and run["counts"]["failed"] == 0
        limiter = run["limiter"]
        assert limiter["halvings"] >= 1  # it went over the cap once and backed off
        assert limiter["peak_in_use"] > cap  # (so the cap was really probed)
        assert limiter["peak_after_halving"] <= cap and limiter["ceiling"] <= cap
        log = systems.shop_requests()
        refused = [r for r in log if r["status"] == 503]
        assert refused and all(r["retry_after"] == "1" for r in refused)
        served_posts = Counter(r["resource"] for r in log if r["method"] == "POST" and r["status"] is None)
        assert served_posts == {"products": items}
        refs = [p["reference"] for p in systems.shop("products", "[reference]")]
        assert len(refs) == len(set(refs)) == items
