"""The designer's admin API (runtime.app.designer_api) over the Starlette app (no Ray), with a real
store and a user flow folder holding a copy of the shipped order flow and its mappings."""

from __future__ import annotations

import difflib
import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from pipelines.registry import DEFAULT_FLOWS_DIR
from runtime.app import build_app
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

TOKEN = "designer-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FLOW = "ps_order_to_ax"
M = "ps_order_to_ax_sales_order"
URL = f"/api/v1/designer/flows/{FLOW}"
NEW_RULE = {"op": "set_rule", "mapping": M, "field": "ContactPersonId",
            "rule": {"from": "address_delivery.phone", "default": "none"}}


def _flow_dir(root: Path, with_mappings: bool = True) -> Path:
    flows = root / "flows"
    (flows / "mappings").mkdir(parents=True)
    shutil.copy(DEFAULT_FLOWS_DIR / f"{FLOW}.yaml", flows)
    if with_mappings:
        for name in (M, "ps_customer_to_ax_customer", "ps_order_to_ps_order_history"):
            shutil.copy(DEFAULT_FLOWS_DIR / "mappings" / f"{name}.yaml", flows / "mappings")
    return flows


@pytest.fixture
def env(tmp_path: Path) -> Any:
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'designer.db'}"))
    flows = _flow_dir(tmp_path)
    app = build_app(store, webhook_secrets=["whsec_MTIzNDU2Nzg5MDEyMzQ1Ng=="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None, flow_dirs=[flows])
    with TestClient(app) as client:
        yield client, flows, store
    store.close()


def _base(client: TestClient) -> dict[str, str]:
    return {f["file"]: f["hash"] for f in client.get(URL, headers=AUTH).json()["files"]}


def test_every_designer_route_needs_the_token(env: Any) -> None:
    client, _, _ = env
    for method, path in (("GET", "/api/v1/designer/schema"), ("GET", URL), ("POST", f"{URL}/check"),
                         ("POST", f"{URL}/save"), ("GET", f"{URL}/deploy-preview"), ("POST", f"{URL}/deploy"),
                         ("GET", "/api/v1/designer/fields/prestashop/orders")):
        assert client.request(method, path).status_code == 401, path


def test_a_flow_is_read_as_its_files_spec_mappings_with_field_tables_and_sample(env: Any) -> None:
    client, flows, _ = env
    body = client.get(URL, headers=AUTH).json()
    files = {f["file"]: f for f in body["files"]}
    assert set(files) == {f"{FLOW}.yaml", f"mappings/{M}.yaml", "mappings/ps_customer_to_ax_customer.yaml",
                          "mappings/ps_order_to_ps_order_history.yaml"}
    assert files[f"{FLOW}.yaml"]["text"] == (flows / f"{FLOW}.yaml").read_text(encoding="utf-8")
    assert [s["id"] for s in body["flow"]["steps"]][:3] == ["extract", "guard", "map-customer"]
    order = body["mappings"][M]
    assert order["spec"]["fields"]["PurchOrderFormNum"] == {"from": "reference", "required": True}
    source = {f["name"] for f in order["fields"]["source"]}
    target = {f["name"]: f for f in order["fields"]["target"]}
    assert {"reference", "customer.email", "address_delivery.city"} <= source
    assert "CustAccount" in target and "TableDlvAddr.City" in target and "SalesLine.ItemId" in target
    assert body["sample"]["record"]["reference"]
    assert str(flows) not in str(body["files"][0]["file"])  # display names, not machine paths
    unknown = client.get("/api/v1/designer/flows/ps_ordr_to_ax", headers=AUTH)
    assert unknown.status_code == 404 and "Did you mean 'ps_order_to_ax'" in unknown.json()["detail"]


def test_schema_and_field_tables(env: Any) -> None:
    client, _, _ = env
    schema = client.get("/api/v1/designer/schema", headers=AUTH).json()
    assert schema["step"]["properties"]["kind"]["enum"] == schema["step_kinds"]
    assert "from" in schema["rule"]["properties"] and "lookup" in schema["rule"]["properties"]
    assert "set_rule" in schema["ops"]
    orders = client.get("/api/v1/designer/fields/prestashop/orders", headers=AUTH).json()
    assert {"reference", "id_customer"} <= {f["name"] for f in orders["fields"]}
    sales = client.get("/api/v1/designer/fields/ax/SalesOrderService.SalesTable", headers=AUTH).json()
    by_name = {f["name"]: f for f in sales["fields"]}
    assert by_name["PurchOrderFormNum"]["required"] is True and by_name["CustAccount"]["max_length"] == 20
    assert client.get("/api/v1/designer/fields/ax/NoService.X", headers=AUTH).status_code == 404
    assert client.get("/api/v1/designer/fields/sap/orders", headers=AUTH).status_code == 404


def test_check_reports_lint_problems_with_a_full_path_suggestion_and_writes_nothing(env: Any) -> None:
    client, flows, _ = env
    before = (flows / "mappings" / f"{M}.yaml").read_text(encoding="utf-8")
    edit = {"op": "set_rule", "mapping": M, "field": "ContactPersonId", "rule": {"from": "address_delivery.phnoe"}}
    body = client.post(f"{URL}/check", headers=AUTH, json={"edits": [edit]}).json()
    [problem] = [p for p in body["problems"] if p["severity"] == "error"]
    assert problem["file"] == f"mappings/{M}.yaml" and problem["path"] == "fields.ContactPersonId.from"
    assert problem["suggestion"] == "address_delivery.phone"
    assert "+  ContactPersonId: address_delivery.phnoe" in body["diffs"][0]["diff"]
    assert (flows / "mappings" / f"{M}.yaml").read_text(encoding="utf-8") == before


def test_test_run_runs_the_edited_flow_on_the_shipped_sample(env: Any) -> None:
    client, _, _ = env
    body = client.post(f"{URL}/test", headers=AUTH, json={"edits": [NEW_RULE]}).json()
    steps = {s["id"]: s for s in body["steps"]}
    assert body["ok"] is True and steps["load-order"]["status"] == "skipped"
    assert steps["map-order"]["output"]["ContactPersonId"] == "none"  # the sample's address has no phone
    unedited = client.post(f"{URL}/test", headers=AUTH, json={}).json()
    assert "ContactPersonId" not in {s["id"]: s for s in unedited["steps"]}["map-order"]["output"]
    assert unedited["version_id"] != body["version_id"]
    bad = client.post(f"{URL}/test", headers=AUTH, json={"sample": [1]})
    assert bad.status_code == 400 and "sample" in bad.json()["detail"]


def test_save_changes_only_the_edited_lines_of_the_shipped_order_mapping(env: Any) -> None:
    """The round trip: one edit to the default order flow's mapping; the file on disk differs from
    the shipped original only by the added line; comments and formatting elsewhere are kept."""
    client, flows, _ = env
    original = (DEFAULT_FLOWS_DIR / "mappings" / f"{M}.yaml").read_text(encoding="utf-8")
    r = client.post(f"{URL}/save", headers=AUTH, json={"edits": [NEW_RULE], "base": _base(client)})
    assert r.status_code == 200, r.text
    assert r.json()["saved"] == [f"mappings/{M}.yaml"]
    saved = (flows / "mappings" / f"{M}.yaml").read_text(encoding="utf-8")
    diff = [d for d in difflib.ndiff(original.splitlines(), saved.splitlines()) if d[:1] in "+-"]
    assert diff == ["+   ContactPersonId: {from: address_delivery.phone, default: none}"]
    assert (flows / f"{FLOW}.yaml").read_text(encoding="utf-8") == (DEFAULT_FLOWS_DIR / f"{FLOW}.yaml").read_text(
        encoding="utf-8")
    # the bridge reads the saved file: the flow has a new version with the rule
    body = client.get(URL, headers=AUTH).json()
    assert body["mappings"][M]["spec"]["fields"]["ContactPersonId"]["default"] == "none"
    assert body["version_id"] == r.json()["version_id"]


def test_save_refuses_stale_edits_invalid_edits_and_lint_errors(env: Any) -> None:
    client, flows, _ = env
    base = _base(client)
    stale = {**base, f"mappings/{M}.yaml": "sha256:0000000000000000"}
    r = client.post(f"{URL}/save", headers=AUTH, json={"edits": [NEW_RULE], "base": stale})
    assert r.status_code == 409 and "changed on disk" in r.json()["detail"]
    r = client.post(f"{URL}/save", headers=AUTH, json={"edits": [{"op": "remove_step", "step": "vaildate"}],
                                                       "base": base})
    assert r.status_code == 422 and "Did you mean 'validate'" in r.json()["detail"]
    bad = {**NEW_RULE, "rule": {"from": "address_delivery.phnoe"}}
    r = client.post(f"{URL}/save", headers=AUTH, json={"edits": [bad], "base": base})
    assert r.status_code == 422 and r.json()["problems"][0]["suggestion"] == "address_delivery.phone"
    assert client.post(f"{URL}/save", headers=AUTH, json={"base": base}).status_code == 400
    assert (flows / "mappings" / f"{M}.yaml").read_text(encoding="utf-8") == (
        DEFAULT_FLOWS_DIR / "mappings" / f"{M}.yaml").read_text(encoding="utf-8")


def test_a_default_mapping_is_saved_as_a_copy_in_the_user_folder_never_in_place(tmp_path: Path) -> None:
    shipped = DEFAULT_FLOWS_DIR / "mappings" / f"{M}.yaml"
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'd.db'}"))
    flows = _flow_dir(tmp_path, with_mappings=False)  # the flow file only: mappings come from the defaults
    app = build_app(store, webhook_secrets=["whsec_MTIzNDU2Nzg5MDEyMzQ1Ng=="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None, flow_dirs=[flows])
    try:
        with TestClient(app) as client:
            r = client.post(f"{URL}/save", headers=AUTH, json={"edits": [NEW_RULE], "base": _base(client)})
            assert r.status_code == 200, r.text
            assert client.get(URL, headers=AUTH).json()["mappings"][M]["spec"]["fields"]["ContactPersonId"]
    finally:
        store.close()
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == digest
    assert "ContactPersonId" in (flows / "mappings" / f"{M}.yaml").read_text(encoding="utf-8")


def test_deploy_shows_the_diff_first_and_deploys_only_the_previewed_version(env: Any) -> None:
    client, _, store = env
    first = client.get(f"{URL}/deploy-preview", headers=AUTH).json()
    assert first["deployed_version"] is None and first["changed"] is True
    assert client.post(f"{URL}/deploy", headers=AUTH, json={"version_id": first["version_id"]}).json()["deployed"]
    same = client.get(f"{URL}/deploy-preview", headers=AUTH).json()
    assert same["changed"] is False and same["diff"] == ""
    client.post(f"{URL}/save", headers=AUTH, json={"edits": [NEW_RULE], "base": _base(client)})
    preview = client.get(f"{URL}/deploy-preview", headers=AUTH).json()
    added = [line for line in preview["diff"].splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert preview["changed"] is True and preview["deployed_version"] == first["version_id"]
    assert any("ContactPersonId" in line for line in added)
    r = client.post(f"{URL}/deploy", headers=AUTH, json={"version_id": first["version_id"]})
    assert r.status_code == 409  # not what the files hold now
    assert client.post(f"{URL}/deploy", headers=AUTH, json={}).status_code == 400
    r = client.post(f"{URL}/deploy", headers=AUTH, json={"version_id": preview["version_id"]})
    assert r.json()["status"] == "deployed"
    assert store.sync.flow_versions(FLOW)[0]["version"] == preview["version_id"]


def test_a_flow_whose_mapping_file_is_broken_is_reported_not_hidden(env: Any) -> None:
    client, flows, _ = env
    path = flows / "mappings" / f"{M}.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("fields:\n", "fields:\n  [broken\n", 1), encoding="utf-8")
    r = client.get(URL, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"] == "invalid_flow"
    assert any(p.startswith(f"mappings/{M}.yaml:") for p in r.json()["problems"])
    assert str(flows) not in r.text  # files by their place in the flow folder, not the machine's path
