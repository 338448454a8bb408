"""A one-machine Ray lives on loopback: the tests' Ray (started by ``serve_port``) and a Ray that
``use_loopback`` prepared in a fresh process have no address but 127.0.0.1, and a process where Ray
was imported first is left unchanged (the switch would come too late)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from runtime.local_ray import ONE_MACHINE_VAR


def test_the_tests_ray_has_only_loopback_addresses(serve_port: int) -> None:
    import ray

    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    nodes = [n for n in ray.nodes() if n["Alive"]]
    assert nodes and {n["NodeManagerAddress"] for n in nodes} == {"127.0.0.1"}


_CHILD = """
import json, os, sys
from runtime.local_ray import use_loopback
first = use_loopback()
import ray
ray.init("local", num_cpus=1, include_dashboard=False, log_to_driver=False)
print(json.dumps({"first": first, "again": use_loopback(), "gcs": ray.get_runtime_context().gcs_address,
                  "nodes": sorted({n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]})}))
ray.shutdown()
"""


def test_use_loopback_makes_the_ray_of_a_fresh_process_loopback() -> None:
    env = {k: v for k, v in os.environ.items() if k != ONE_MACHINE_VAR}
    env["RAY_AUTH_MODE"] = "disabled"
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["first"] is True and found["again"] is False  # Ray imported: too late, nothing changed
    assert found["gcs"].startswith("127.0.0.1:")
    assert found["nodes"] == ["127.0.0.1"]
