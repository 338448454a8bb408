"""The CLI surface: help lists every command; lint reports problems and exits non-zero."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from runtime.cli import app

pytestmark = pytest.mark.unit
runner = CliRunner()


def test_help_lists_every_command() -> None:
    out = runner.invoke(app, ["--help"]).output
    for cmd in ("serve", "demo", "lint", "status", "messages", "dlq", "version", "sandbox", "flow"):
        assert cmd in out
    assert "list" in runner.invoke(app, ["dlq", "--help"]).output


def test_lint_reports_each_problem_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "integration.yaml"
    bad.write_text("server:\n  prot: 1\n  port: 0\n")
    r = runner.invoke(app, ["lint", str(bad)])
    assert r.exit_code == 1
    assert "server.prot: unknown field — did you mean 'port'?" in r.output
    assert "server.port:" in r.output and "2 problem(s)" in r.output
    good = tmp_path / "ok" / "integration.yaml"
    good.parent.mkdir()
    good.write_text("server:\n  port: 8010\n")
    assert runner.invoke(app, ["lint", str(good)]).exit_code == 0


def test_operator_commands_say_when_the_server_is_down(tmp_path: Path) -> None:
    r = runner.invoke(app, ["status", "--url", "http://127.0.0.1:9", "--token", "t"])
    assert r.exit_code == 1 and "Cannot reach the bridge" in r.output


def test_flow_deploy_records_the_content_version_once(tmp_path: Path) -> None:
    cfg = tmp_path / "integration.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\n")
    first = runner.invoke(app, ["flow", "deploy", "ps_order_to_ax", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    assert "deployed" in first.output and "already" not in first.output
    again = runner.invoke(app, ["flow", "deploy", "ps_order_to_ax", "--config", str(cfg)])
    assert "already deployed" in again.output
    from runtime.store import Store

    store = Store(f"sqlite:///{tmp_path / 'data' / 'journal.db'}")
    versions = store.flow_versions("ps_order_to_ax")
    store.close()
    assert len(versions) == 1 and versions[0]["version"].startswith("sha256:")
    assert runner.invoke(app, ["flow", "deploy", "ps_order_to_axe", "--config", str(cfg)]).exit_code == 2


def test_flow_deploy_refuses_a_flow_whose_mapping_has_an_error(tmp_path: Path) -> None:
    from pipelines.registry import DEFAULT_FLOWS_DIR

    flows = tmp_path / "flows"
    (flows / "mappings").mkdir(parents=True)
    (flows / "ps_order_to_ax.yaml").write_text((DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml").read_text())
    mapping = (DEFAULT_FLOWS_DIR / "mappings" / "ps_order_to_ax_sales_order.yaml").read_text()
    broken = mapping.replace("PurchOrderFormNum: {from: reference,", "PurchOrderFormNum: {from: referenc,")
    assert broken != mapping
    (flows / "mappings" / "ps_order_to_ax_sales_order.yaml").write_text(broken)
    cfg = tmp_path / "integration.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\nflow_dirs: [{flows}]\n")
    r = runner.invoke(app, ["flow", "deploy", "ps_order_to_ax", "--config", str(cfg)])
    assert r.exit_code == 1, r.output
    assert "referenc" in r.output and "Not deployed" in r.output
