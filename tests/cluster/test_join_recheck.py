"""The cluster checks again when a node joins (runtime.cluster_checks.JoinWatch), on the harness'
three-host cluster: the watch is told the start-up check saw every node but one worker, so that
worker is the node that joined since; its first look runs the checks on every node, the second
(no node joined since) runs none."""

from __future__ import annotations

import pytest

from tests.cluster.bridge_support import write_config
from tests.cluster.conftest import Cluster
from tests.cluster.ray_nodes import run_probe
from tests.contract.runtime_operations.support import PS_KEY

pytestmark = [pytest.mark.cluster]


def test_a_node_that_joins_gets_the_start_up_checks(cluster: Cluster) -> None:
    shared = cluster.hosts.scratch / "shared-recheck"
    store = cluster.pg_admin_url.rsplit("/", 1)[0] + "/recheck"  # never opened: only checked
    good = write_config(shared, "good", store_url=store, sandbox_ip=cluster.head.ip, namespace="pax-recheck")
    assert run_probe(cluster.head, cluster.head.ip, "recheck", str(good)) == [None, None]

    bad = write_config(shared, "bad", store_url=store, sandbox_ip="127.0.0.1", namespace="pax-recheck")
    first, second = run_probe(cluster.head, cluster.head.ip, "recheck", str(bad))
    assert first is not None and "This Ray cluster has 3 nodes" in first
    assert "systems.prestashop.base_url: http://127.0.0.1:8081 is a loopback address" in first
    assert PS_KEY not in first
    assert second is None  # nothing joined since the first look
