"""The harness itself: three hosts that reach each other, the switch (and PostgreSQL) only by
their IPs, each with its own folders, a Ray cluster of one node per host, and no address or link
of the harness in the root (machine's) namespace."""

from __future__ import annotations

import subprocess
import sys

import psycopg

from tests.cluster.conftest import Cluster
from tests.cluster.ray_nodes import HEAD_RESOURCE, WORKER_RESOURCE

#: run in a host: exit 0 when every IP answers on TCP port 9 (a refusal is an answer: the host is
#: there), else print the ones that did not
_REACH = """import socket, sys
bad = []
for ip in sys.argv[1:]:
    try:
        socket.create_connection((ip, 9), timeout=3).close()
    except ConnectionRefusedError:
        pass
    except OSError as exc:
        bad.append(f"{ip}: {exc}")
print("; ".join(bad) or "ok")
"""


def test_nothing_of_the_harness_in_the_root_namespace_and_every_host_reaches_the_others(cluster: Cluster) -> None:
    hosts = cluster.hosts
    addrs = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    assert [ln for ln in addrs.splitlines() if " 198.18." in ln] == []
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert [ln for ln in links.splitlines() if hosts.tag in ln] == []
    switch = subprocess.run(["ip", "-n", hosts.switch, "-o", "-4", "addr"], capture_output=True, text=True,
                            check=True).stdout
    assert f" {hosts.gateway}/24 " in switch
    everyone = [h.ip for h in hosts.hosts] + [hosts.gateway]
    for host in hosts.hosts:
        others = [ip for ip in everyone if ip != host.ip]
        assert host.run([sys.executable, "-c", _REACH, *others]).stdout.strip() == "ok", host


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
    with cluster.hosts.client(), psycopg.connect(cluster.pg_admin_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
