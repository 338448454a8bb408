"""Run records in the store (migration 6), read back through ``GET /api/v1/bulk-runs`` and
``presta-ax sync status``; a failed record in the dead-letter queue; no Ray, no sandboxes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from starlette.testclient import TestClient

from runtime.app import build_app
from runtime.store import AsyncStore, Store
from runtime.store.bulk_runs import open_bulk_store

TOKEN = "bulk-admin-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]


def _run(run_id: str, status: str, started: float) -> dict:
    return {"run_id": run_id, "kind": "catalog", "signature": "catalog:ax-to-ps:100", "status": status,
            "started_at": started, "listed": 10, "records_done": 10, "chunks_done": 1, "writes_per_s": 2.5,
            "counts": {"created": 7, "updated": 1, "unchanged": 2, "failed": 0, "held": 0}, "flow": "ax_product_to_ps"}


def test_runs_reach_the_api_and_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    bulk = open_bulk_store(url)
    bulk.save_run(_run("catalog-1", "done", 1.0))
    bulk.save_run(_run("catalog-2", "running", 2.0))
    assert bulk.open_run("catalog", "catalog:ax-to-ps:100")["run_id"] == "catalog-2"  # a rerun continues this
    assert bulk.open_run("catalog", "catalog:ax-to-ps:50") is None
    dead = bulk.dead_letter(entity="product", key="A0042", source="ax", event="bulk.catalog", flow="ax_product_to_ps",
                            error={"type": "ValidationError", "message": "price must be positive"},
                            payload={"key": "A0042", "bulk_run": "catalog-2"})
    assert bulk.dead_letter(entity="product", key="A0042", source="ax", event="bulk.catalog",
                            flow="ax_product_to_ps", error={"message": "again"},
                            payload={"key": "A0042", "bulk_run": "catalog-2"}) == dead  # once per record and run
    msg = bulk.get(dead)
    assert msg is not None and msg.status == "dead" and msg.last_error["message"] == "again"  # the latest reason
    bulk.close()

    store = AsyncStore(Store(url))
    app = build_app(store, webhook_secrets=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], admin_token=TOKEN,
                    nudge=lambda e, k, c: None)
    with TestClient(app) as client:
        assert client.get("/api/v1/bulk-runs").status_code == 401
        items = client.get("/api/v1/bulk-runs", headers={"Authorization": f"Bearer {TOKEN}"}).json()["items"]
        assert [r["run_id"] for r in items] == ["catalog-2", "catalog-1"]
        one = client.get("/api/v1/bulk-runs/catalog-1", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert one["counts"]["created"] == 7 and one["status"] == "done"
        assert client.get("/api/v1/bulk-runs/nope", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
        bad = client.get("/api/v1/bulk-runs?limit=0", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bad.status_code == 400
    store.close()

    config = tmp_path / "integration.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path), "store": {"url": url}}))
    out = subprocess.run([sys.executable, "-m", "runtime.cli", "sync", "status", "catalog-2", "--json", "--config",
                          str(config)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["status"] == "running"
    missing = subprocess.run([sys.executable, "-m", "runtime.cli", "sync", "status", "nope", "--config", str(config)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "no bulk run 'nope'" in missing.stdout
