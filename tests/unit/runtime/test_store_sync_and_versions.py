"""The store's sync-state hashes, conflict log and deployed flow versions, on both backends."""

from __future__ import annotations

import pytest

from runtime.store import Store

pytestmark = pytest.mark.unit


@pytest.fixture
def store(store_url: str) -> Store:
    s = Store(store_url, grace_s=0.0)
    yield s
    s.close()


def test_a_hash_is_stamped_with_its_time_and_kept_when_not_given(store: Store) -> None:
    store.put_sync_state("customer", "5", source_version="2026-01-01 10:00:00")
    assert store.get_sync_state("customer", "5")["ps_hash_at"] is None
    store.put_sync_state("customer", "5", ps_hash="c:aaa")
    first = store.get_sync_state("customer", "5")
    assert first["ps_hash"] == "c:aaa" and first["ps_hash_at"] is not None and first["ax_hash_at"] is None
    store.put_sync_state("customer", "5", source_version="2026-01-01 10:00:05")  # no hash: the hash stays
    again = store.get_sync_state("customer", "5")
    assert (again["ps_hash"], again["ps_hash_at"]) == ("c:aaa", first["ps_hash_at"])
    assert again["source_version"] == "2026-01-01 10:00:05"
    store.put_sync_state("customer", "PS-5", ax_hash="c:bbb")
    assert store.get_sync_state("customer", "PS-5")["ax_hash_at"] is not None


def test_conflicts_are_logged_with_both_values_and_listed_newest_first(store: Store) -> None:
    assert store.list_conflicts() == []
    n = store.add_conflicts([
        {"entity": "customer", "key": "5", "flow": "customer_sync", "message_id": "M1", "field": "lastname",
         "winner": "prestashop", "rule": "owner: prestashop", "ps_value": "New", "ax_value": "Old",
         "ps_version": "2026-01-01 10:00:00", "ax_version": 7},
        {"entity": "customer", "key": "5", "field": "id_default_group", "winner": "ax", "rule": "owner: ax",
         "ps_value": {"nested": [1, "2"]}, "ax_value": None},
    ])
    store.add_conflicts([{"entity": "order", "key": "9", "field": "x", "winner": "ax", "rule": "r"}])
    assert n == 2
    rows = store.list_conflicts("customer")
    assert [r["field"] for r in rows] == ["id_default_group", "lastname"]
    assert rows[1] | {"at": 0, "id": 0} == {
        "id": 0, "at": 0, "entity": "customer", "key": "5", "flow": "customer_sync", "message_id": "M1",
        "field": "lastname", "winner": "prestashop", "rule": "owner: prestashop", "ps_value": "New",
        "ax_value": "Old", "ps_version": "2026-01-01 10:00:00", "ax_version": "7"}
    assert rows[0]["ps_value"] == {"nested": [1, "2"]} and rows[0]["ax_value"] is None
    assert [r["key"] for r in store.list_conflicts(key="9")] == ["9"]
    assert len(store.list_conflicts(limit=1)) == 1


def test_the_latest_deploy_is_the_deployed_version_and_a_roll_back_works(store: Store) -> None:
    assert store.deployed_flows() == {} and store.flow_versions_stamp() == (0, 0.0)
    assert store.record_flow_version("f", "v1", '{"n": 1}')
    stamp1 = store.flow_versions_stamp()
    assert store.record_flow_version("f", "v2", '{"n": 2}')
    assert store.deployed_flows()["f"]["version"] == "v2"
    stamp2 = store.flow_versions_stamp()
    assert stamp2 != stamp1
    assert not store.record_flow_version("f", "v2", '{"n": 2}')  # already the deployed one
    assert store.flow_versions_stamp() == stamp2
    assert store.record_flow_version("f", "v1", '{"n": 1}')  # roll back to v1
    deployed = store.deployed_flows()["f"]
    assert (deployed["version"], deployed["content"]) == ("v1", '{"n": 1}')
    assert store.flow_versions_stamp() != stamp2
    assert [v["version"] for v in store.flow_versions("f")] == ["v1", "v2"]


def test_a_folder_version_is_recorded_only_for_a_flow_never_deployed(store: Store) -> None:
    assert store.record_flow_version_if_none("g", "disk1", "{}")
    assert not store.record_flow_version_if_none("g", "disk2", "{}")  # g has a version: nothing changes
    assert not store.record_flow_version_if_none("g", "disk1", "{}")
    assert store.deployed_flows()["g"]["version"] == "disk1"
    store.record_flow_version("h", "deployed", "{}")
    assert not store.record_flow_version_if_none("h", "disk", "{}")
    assert store.deployed_flows()["h"]["version"] == "deployed"
