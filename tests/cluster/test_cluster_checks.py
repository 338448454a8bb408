"""runtime.cluster_checks without a cluster: which settings are refused on a multi-node Ray cluster,
with the setting named and no secret shown; and what makes a folder "not shared"."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.cluster_checks import PROBE_FILE, _token, folder_problems, setting_problems
from runtime.config import Settings

pytestmark = pytest.mark.unit

PG = "postgresql://bridge:s3cret-pw@10.0.0.5:5432/bridge"
KEY = "CLUSTERKEY0123456789ABCDEFGHIJKL"


def _settings(**raw: object) -> Settings:
    base: dict[str, object] = {"store": {"url": PG}}
    base.update(raw)
    return Settings.model_validate(base)


def test_a_good_cluster_configuration_has_no_problem() -> None:
    s = _settings(systems={"prestashop": {"base_url": "http://shop.internal", "api_key": KEY},
                           "ax": {"base_url": "http://10.0.0.9/MicrosoftDynamicsAXAif60", "port_name": "WebShop",
                                  "company": "DAT"}})
    assert setting_problems(s, 3) == []


def test_one_node_accepts_what_a_cluster_refuses() -> None:
    s = Settings.model_validate({"systems": {"prestashop": {"base_url": "http://127.0.0.1:8081", "api_key": KEY}}})
    assert setting_problems(s, 1) == []
    assert len(setting_problems(s, 2)) == 2


@pytest.mark.parametrize("store, expected", [
    (None, "store.url: not set, so the store is SQLite in data_dir"),
    ("sqlite:///var/lib/presta-ax/journal.db", "store.url: SQLite is a file on one host"),
    ("postgresql://bridge:pw@localhost:5432/bridge", "store.url: the PostgreSQL host 'localhost' is this host's loopback"),
])
def test_a_store_only_one_host_reaches_is_refused(store: str | None, expected: str) -> None:
    (problem,) = setting_problems(Settings.model_validate({"store": {"url": store}}), 2)
    assert problem.startswith(expected)
    assert "pw" not in problem


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081", "http://localhost:8081/", "http://[::1]:8081",
                                 "https://127.0.1.1", "http://0.0.0.0:80", "http://shop.localhost"])
def test_a_loopback_system_url_is_refused_naming_the_setting(url: str) -> None:
    s = _settings(systems={"prestashop": {"base_url": url, "api_key": KEY}})
    (problem,) = setting_problems(s, 3)
    assert problem.startswith("systems.prestashop.base_url: ") and "is a loopback address" in problem


def test_loopback_urls_are_shown_without_credentials() -> None:
    s = _settings(systems={"ax": {"base_url": "http://svc:hunter2@127.0.0.1:8082/MicrosoftDynamicsAXAif60?token=x1",
                                  "port_name": "WebShop", "company": "DAT"}},
                  alerting={"webhook_url": "http://localhost:9000/hook?key=abc"})
    problems = setting_problems(s, 2)
    assert [p.split(":")[0] for p in problems] == ["systems.ax.base_url", "alerting.webhook_url"]
    text = "\n".join(problems)
    assert "hunter2" not in text and "token=" not in text and "key=abc" not in text
    assert "http://127.0.0.1:8082 is a loopback address" in text


def test_a_folder_missing_or_different_on_a_node_is_not_shared() -> None:
    named = {"data_dir": "/srv/data", "flow_dirs[0]": "/srv/flows"}
    same = {"/srv/data": "m1", "/srv/flows": "d1"}
    assert folder_problems(named, {"10.0.0.1": same, "10.0.0.2": dict(same)}) == []
    problems = folder_problems(named, {"10.0.0.1": same, "10.0.0.2": {"/srv/data": "missing", "/srv/flows": "d2"}})
    assert problems[0].startswith("data_dir: the folder '/srv/data' is not shared") and "missing on 10.0.0.2" in problems[0]
    assert problems[1].startswith("flow_dirs[0]: the folder '/srv/flows' is not shared")
    assert "different on 10.0.0.1, 10.0.0.2" in problems[1]


def test_a_folder_token_is_its_marker_or_the_digest_of_its_flows(tmp_path: Path) -> None:
    assert _token(tmp_path / "nowhere") == "missing"
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "a.yaml").write_text("name: a\n")
    first = _token(flows)
    (flows / "a.yaml").write_text("name: b\n")
    assert _token(flows) != first  # another copy of the flows on one node is not the same folder
    (flows / PROBE_FILE).write_text("abc\n")
    assert _token(flows) == "abc"
