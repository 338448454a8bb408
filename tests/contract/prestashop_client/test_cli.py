"""``presta-ax prestashop ...`` commands (the Typer sub-app) against the sandbox."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from connectors.prestashop.cli import prestashop_app

pytestmark = pytest.mark.contract

KEY = "SANDBOXKEY0123456789ABCDEFGHIJKL"


@pytest.fixture
def run(sandbox_url, monkeypatch):
    monkeypatch.setenv("PRESTASHOP_API_KEY", KEY)
    monkeypatch.setenv("PRESTASHOP_URL", sandbox_url)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(prestashop_app, list(args), catch_exceptions=False)

    return invoke


def test_ping_get_and_list(run):
    result = run("ping")
    assert result.exit_code == 0 and "8.2.0" in result.output and KEY not in result.output
    result = run("get", "customers", "1")
    assert result.exit_code == 0 and json.loads(result.output)["id"] == "1"
    result = run("list", "customers", "--display", "[id,lastname]", "--filter", "id=[1|2|3]", "--sort", "[id_DESC]")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in lines] == ["3", "2", "1"] and set(lines[0]) == {"id", "lastname"}
    result = run("list", "products", "--display", "[id]", "--limit", "2", "--json")
    assert [json.loads(line)["id"] for line in result.output.splitlines()] == ["1", "2"]


def test_errors_exit_non_zero_with_a_sentence(run, monkeypatch):
    result = run("get", "customers", "999999")
    assert result.exit_code == 1 and "NotFoundError" in result.output
    monkeypatch.setenv("PRESTASHOP_API_KEY", "WRONGKEY0123456789ABCDEFGHIJKLMN")
    result = run("ping")
    assert result.exit_code == 2 and "AuthError" in result.output and "WRONGKEY" not in result.output


def test_poll_keeps_its_cursor_in_a_state_file(run, tmp_path):
    state = tmp_path / "orders.json"
    first = run("poll", "orders", "--state-file", str(state), "--since", "2000-01-01 00:00:00")
    assert first.exit_code == 0
    changes = [json.loads(line) for line in first.output.splitlines()]
    assert changes and all(c["resource"] == "orders" for c in changes)
    saved = json.loads(state.read_text())
    assert saved["cursor"] == max(c["date_upd"] for c in changes) and saved["seen_ids"]
    again = run("poll", "orders", "--state-file", str(state))
    assert again.exit_code == 0 and again.output == ""


def test_key_file_must_be_private(run, tmp_path, monkeypatch):
    monkeypatch.delenv("PRESTASHOP_API_KEY")
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    key_file.chmod(0o644)
    result = run("ping", "--key-file", str(key_file))
    assert result.exit_code != 0 and "chmod 600" in result.output
    key_file.chmod(0o600)
    assert run("ping", "--key-file", str(key_file)).exit_code == 0
