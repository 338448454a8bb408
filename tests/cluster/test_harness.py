"""The harness itself: three hosts that reach each other (and PostgreSQL) only by their IPs,
each with its own folders, and a Ray cluster of one node per host."""

from __future__ import annotations

import sys

import psycopg

from tests.cluster.conftest import Cluster
from tests.cluster.ray_nodes import HEAD_RESOURCE, WORKER_RESOURCE


def test_three_hosts_one_ray_node_each_and_postgres_by_ip(cluster: Cluster) -> None:
    a, b, c = cluster.hosts.hosts
    assert len({a.ip, b.ip, c.ip}) == 3 and all(h.ip.startswith("198.18.") for h in (a, b, c))
    assert len({a.data, b.data, c.data}) == 3
    nodes = {n["ip"]: n for n in cluster.nodes()}
    assert set(nodes) == {a.ip, b.ip, c.ip}
    assert HEAD_RESOURCE in nodes[a.ip]["resources"] and HEAD_RESOURCE not in nodes[b.ip]["resources"]
    assert WORKER_RESOURCE in nodes[b.ip]["resources"] and WORKER_RESOURCE in nodes[c.ip]["resources"]
    # PostgreSQL listens on A's IP only: reachable from B by IP, not on B's own loopback
    code = ("import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close(); print('ok')")
    assert b.run([sys.executable, "-c", code, cluster.pg_admin_url]).stdout.strip() == "ok"
    local = cluster.pg_admin_url.replace(a.ip, "127.0.0.1")
    assert b.run([sys.executable, "-c", code, local], check=False).returncode != 0
    with psycopg.connect(cluster.pg_admin_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
