"""Flow registry: default flows, user overrides, content versions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connectors.errors import ConfigError
from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry, load_flow_bundle

pytestmark = pytest.mark.unit

DEFAULT_FLOWS = {
    "ps_order_to_ax",
    "customer_sync",
    "ax_product_to_ps",
    "ax_stock_to_ps",
    "ax_price_to_ps",
    "ax_fulfilment_to_ps",
    "ps_order_cancel_to_ax",
}


def test_the_seven_default_flows_load_with_their_mappings() -> None:
    flows = FlowRegistry().flows()
    assert set(flows) == DEFAULT_FLOWS
    order = flows["ps_order_to_ax"]
    assert set(order.mappings) == {
        "ps_customer_to_ax_customer",
        "ps_order_to_ax_sales_order",
        "ps_order_to_ps_order_history",
    }
    record = order.record()
    assert record["version_id"].startswith("sha256:") and record["triggers"][0]["event"] == "order.created"
    assert [s["kind"] for s in record["steps"]][:2] == ["extract", "guard"]


def test_version_follows_meaning_not_formatting(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_FLOWS_DIR / "ax_stock_to_ps.yaml", tmp_path / "ax_stock_to_ps.yaml")
    (tmp_path / "mappings").mkdir()
    mapping = (DEFAULT_FLOWS_DIR / "mappings" / "ax_onhand_to_ps_stock.yaml").read_text()
    (tmp_path / "mappings" / "ax_onhand_to_ps_stock.yaml").write_text(mapping)
    base = load_flow_bundle(tmp_path / "ax_stock_to_ps.yaml").version_id
    assert base == load_flow_bundle(DEFAULT_FLOWS_DIR / "ax_stock_to_ps.yaml").version_id
    (tmp_path / "mappings" / "ax_onhand_to_ps_stock.yaml").write_text(
        "# a comment\n" + mapping.replace(": ", ":  ")
    )
    assert load_flow_bundle(tmp_path / "ax_stock_to_ps.yaml").version_id == base
    (tmp_path / "mappings" / "ax_onhand_to_ps_stock.yaml").write_text(
        mapping.replace("[MAIN, WEB]", "[MAIN]")
    )
    assert load_flow_bundle(tmp_path / "ax_stock_to_ps.yaml").version_id != base


def test_a_user_copy_wins_over_the_default(tmp_path: Path) -> None:
    text = (DEFAULT_FLOWS_DIR / "ax_price_to_ps.yaml").read_text().replace("version: 1", "version: 2")
    (tmp_path / "my_prices.yaml").write_text(text)
    flows = FlowRegistry([tmp_path]).flows()
    assert flows["ax_price_to_ps"].spec.version == 2
    assert len(flows) == len(DEFAULT_FLOWS)


def test_unknown_flow_names_suggest() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'ax_stock_to_ps'"):
        FlowRegistry().get("ax_stock_to_pss")


def test_missing_mapping_is_reported_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(
        "flow: f\nentity: x\ntriggers: [{type: bulk}]\nsteps:\n"
        "  - {id: m, kind: map, mapping: nothing_here, output: o}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_flow_bundle(tmp_path / "f.yaml")
    assert err.value.problems == [
        f"{tmp_path / 'f.yaml'}:5: steps[0].mapping: no mapping named 'nothing_here' was found"
    ]
