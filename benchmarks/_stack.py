"""Taking down what a benchmark started: the bridge on Ray, and the sandbox processes.

:func:`stop_bridge_and_ray` stops the bridge and Serve (when the bridge started), Ray, then a
``ray.cluster_utils.Cluster`` (when the benchmark made one); :func:`stop_processes` asks child
processes to end and kills those still running after ``grace_s``. Both run in ``finally``
blocks, so neither raises for something that was never started.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from typing import Any

__all__ = ["stop_bridge_and_ray", "stop_processes"]


def stop_bridge_and_ray(running: Any, cluster: Any = None) -> None:
    import ray
    from ray import serve

    from runtime.server import stop_bridge

    if running is not None:
        stop_bridge(running)
        serve.shutdown()
    if ray.is_initialized():
        ray.shutdown()
    if cluster is not None:
        cluster.shutdown()


def stop_processes(children: Iterable[subprocess.Popen[bytes]], grace_s: float = 10.0) -> None:
    children = list(children)
    for child in children:
        child.terminate()
    for child in children:
        try:
            child.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            child.kill()
