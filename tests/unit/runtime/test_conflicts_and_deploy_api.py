"""The admin API's conflict log (masked unless asked) and flow deploy, and their CLI commands,
over the Starlette app (no Ray) with a real store."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient
from typer.testing import CliRunner

from runtime.app import build_app
from runtime.cli import app as cli
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

TOKEN = "admin-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONFLICT = {"entity": "customer", "key": "5", "flow": "customer_sync", "message_id": "M1", "field": "lastname",
            "winner": "prestashop", "rule": "owner: prestashop (the field's owner wins)", "ps_value": "Shopside",
            "ax_value": "Axside", "ps_version": "2026-01-02 09:00:00", "ax_version": "90"}


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = AsyncStore(Store(f"sqlite:///{tmp_path / 'api.db'}"))
    yield s
    s.close()


def test_conflicts_are_listed_masked_unless_asked_unmasked(store: Any) -> None:
    store.sync.add_conflicts([CONFLICT, {**CONFLICT, "field": "active", "winner": "ax", "rule": "no owner",
                                         "ps_value": "1", "ax_value": "0", "key": "6"}])
    app = build_app(store, webhook_secrets=["whsec_MTIzNDU2Nzg5MDEyMzQ1Ng=="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None)
    with TestClient(app) as client:
        assert client.get("/api/v1/conflicts").status_code == 401
        body = client.get("/api/v1/conflicts", headers=AUTH).json()
        by_field = {c["field"]: c for c in body["items"]}
        assert body["masked"] is True
        assert by_field["lastname"]["ps_value"] == "***" and by_field["lastname"]["ax_value"] == "***"
        assert by_field["active"]["ps_value"] == "1"  # not a personal field: shown
        assert by_field["lastname"]["winner"] == "prestashop" and by_field["lastname"]["ax_version"] == "90"
        plain = client.get("/api/v1/conflicts?unmasked=true&key=5", headers=AUTH).json()
        assert [(c["ps_value"], c["ax_value"]) for c in plain["items"]] == [("Shopside", "Axside")]
        assert client.get("/api/v1/conflicts?limit=0", headers=AUTH).status_code == 400


def test_a_deploy_through_the_api_lints_and_records_in_the_bridges_store(store: Any, tmp_path: Path) -> None:
    app = build_app(store, webhook_secrets=["whsec_MTIzNDU2Nzg5MDEyMzQ1Ng=="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None)
    with TestClient(app) as client:
        assert client.post("/api/v1/flows/customer_sync/deploy").status_code == 401
        r = client.post("/api/v1/flows/customer_sync/deploy", headers=AUTH)
        assert r.status_code == 200 and r.json()["status"] == "deployed"
        version = r.json()["version_id"]
        assert store.sync.deployed_flows()["customer_sync"]["version"] == version
        assert client.post("/api/v1/flows/customer_sync/deploy", headers=AUTH).json()["status"] == "already deployed"
        missing = client.post("/api/v1/flows/customer_synk/deploy", headers=AUTH)
        assert missing.status_code == 404 and "Did you mean 'customer_sync'" in missing.json()["detail"]
    # a flow whose owners table names no field is refused with the problem
    folder = tmp_path / "flows"
    folder.mkdir()
    src = Path(__file__).resolve().parents[3] / "pipelines" / "flows" / "customer_sync.yaml"
    (folder / "customer_sync.yaml").write_text(src.read_text().replace("  email: prestashop", "  emial: prestashop"))
    bad = build_app(store, webhook_secrets=["whsec_MTIzNDU2Nzg5MDEyMzQ1Ng=="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None, flow_dirs=[folder])
    with TestClient(bad) as client:
        r = client.post("/api/v1/flows/customer_sync/deploy", headers=AUTH)
        assert r.status_code == 422 and "emial" in r.json()["detail"]
    assert store.sync.deployed_flows()["customer_sync"]["version"] == version


class _Server:
    """The admin app on a real port (uvicorn in a thread), for the CLI."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            pass
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def test_the_cli_deploys_through_a_running_bridge_and_lists_conflicts(store: Any, tmp_path: Path) -> None:
    store.sync.add_conflicts([CONFLICT])
    app = build_app(store, webhook_secrets=["whsec_MTIzNDU2Nzg5MDEyMzQ1Ng=="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None)
    cfg = tmp_path / "integration.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\n")  # its own store is another one: never touched
    runner = CliRunner()
    with _Server(app) as url:
        r = runner.invoke(cli, ["flow", "deploy", "customer_sync", "--config", str(cfg), "--url", url,
                                "--token", TOKEN])
        assert r.exit_code == 0, r.output
        assert "deployed (through the running bridge)" in r.output
        assert "customer_sync" in store.sync.deployed_flows()
        listed = runner.invoke(cli, ["conflicts", "list", "--config", str(cfg), "--url", url, "--token", TOKEN])
        assert listed.exit_code == 0, listed.output
        assert "customer 5" in listed.output and "lastname" in listed.output and "winner=prestashop" in listed.output
        assert "Shopside" not in listed.output and "***" in listed.output
        shown = runner.invoke(cli, ["conflicts", "list", "--unmasked", "--json", "--config", str(cfg), "--url", url,
                                    "--token", TOKEN])
        assert json.loads(shown.output)[0]["ps_value"] == "Shopside"
    assert not (tmp_path / "data" / "journal.db").exists()


def test_flow_deploy_finds_a_running_demo_by_its_lease_and_deploys_into_its_journal(tmp_path: Path) -> None:
    from runtime.demo import demo_store_url
    from runtime.dispatch_lease import DISPATCHER_LEASE

    data = tmp_path / "data"
    (data / "demo").mkdir(parents=True)
    demo = AsyncStore(Store(demo_store_url(data)))
    try:
        assert demo.sync.acquire_lease(DISPATCHER_LEASE, "demo-holder", 60, "demo on this host")[0]
        app = build_app(demo, webhook_secrets=["whsec_MTIzNDU2Nzg5MDEyMzQ1Ng=="], admin_token=TOKEN,
                        nudge=lambda e, k, c: None)
        with _Server(app) as url:
            port = url.rsplit(":", 1)[1]
            cfg = tmp_path / "integration.yaml"
            cfg.write_text(f"data_dir: {data}\nserver: {{port: {port}, admin_token: {TOKEN}}}\n")
            r = CliRunner().invoke(cli, ["flow", "deploy", "customer_sync", "--config", str(cfg)])
            assert r.exit_code == 0, r.output
            assert "through the running bridge" in r.output
        assert "customer_sync" in demo.sync.deployed_flows()  # the demo's journal, not the configured one
        assert not (data / "journal.db").exists()
        demo.sync.release_lease(DISPATCHER_LEASE, "demo-holder")
        # no bridge holds a lease any more: the configured store is written directly
        local = CliRunner().invoke(cli, ["flow", "deploy", "customer_sync", "--config", str(cfg)])
        assert local.exit_code == 0 and "through the running bridge" not in local.output
        assert (data / "journal.db").exists()
    finally:
        demo.close()
