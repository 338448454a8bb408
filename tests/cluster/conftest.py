"""Fixtures of the multi-host tests (see hosts.py and ray_nodes.py).

* ``hosts``: three hosts A, B, C (network namespaces on one bridge in a switch namespace,
  198.18.N.0/24; the test process reaches them only inside ``hosts.client()``), torn down
  after the session even when a test fails (one cluster for all the multi-host tests: starting
  one costs ~15 s). Skipped with the reason when this machine cannot make
  them (not root, no ``ip netns``); with ``PRESTA_AX_REQUIRE_CLUSTER=1`` (CI) that fails instead.
* ``cluster``: PostgreSQL in A (on A's IP), the Ray head in A (resource ``presta_ax_head``) and a
  worker node in B and in C (resource ``presta_ax_worker``), 1 CPU each; waits until the head
  sees all three nodes. A test that kills a host starts its Ray node again before it ends.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from tests.cluster.hosts import Host, Hosts, start_postgres, unavailable
from tests.cluster.ray_nodes import run_probe, start_head, start_worker


@dataclass
class Cluster:
    hosts: Hosts
    pg_admin_url: str

    @property
    def head(self) -> Host:
        return self.hosts[0]

    @property
    def workers(self) -> list[Host]:
        return self.hosts.hosts[1:]

    def database(self) -> str:
        """A fresh database on the cluster's PostgreSQL; its URL by IP."""
        name = "c_" + uuid.uuid4().hex[:10]
        with self.hosts.client(), psycopg.connect(self.pg_admin_url, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.pg_admin_url.rsplit("/", 1)[0] + "/" + name

    def nodes(self) -> list[dict[str, object]]:
        return run_probe(self.head, self.head.ip, "nodes")  # type: ignore[no-any-return]

    def actors(self, namespace: str) -> dict[str, dict[str, str]]:
        return run_probe(self.head, self.head.ip, "actors", namespace)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def hosts() -> Iterator[Hosts]:
    why = unavailable()
    if why:
        if os.environ.get("PRESTA_AX_REQUIRE_CLUSTER") == "1":
            pytest.fail(f"PRESTA_AX_REQUIRE_CLUSTER=1 but the multi-host tests cannot run: {why}")
        pytest.skip(f"multi-host tests skipped: {why}")
    with Hosts(3) as made:
        yield made


@pytest.fixture(scope="session")
def cluster(hosts: Hosts) -> Cluster:
    a, b, c = hosts.hosts
    start_head(a)  # Ray first: a failed start is retried after killing the host's processes
    start_worker(b, a.ip)
    start_worker(c, a.ip)
    pg = start_postgres(a)
    made = Cluster(hosts, pg)
    deadline = time.monotonic() + 60
    while len(made.nodes()) < 3:
        if time.monotonic() > deadline:
            raise AssertionError("the head did not see 3 nodes within 60 s:\n" + a.log("ray/session_latest/logs/gcs_server.out"))
        time.sleep(1)
    return made
