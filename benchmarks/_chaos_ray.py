"""Ray for the chaos campaign: a two-node cluster on this machine whose worker node can be removed.

:func:`start_ray` starts ``ray.cluster_utils.Cluster`` with a head node (2 CPUs: the driver,
Serve and the dispatcher) and one worker node (1 CPU), and connects this process to it;
``nodes=1`` starts a plain local Ray instead. :func:`place_entity_actors` creates the bridge's
entity actors before the bridge does (same names, namespace and options, so the bridge's own
``get_if_exists`` finds them) with a *soft* affinity to the worker node: they run there until the
node is removed, and Ray restarts them on the head. Serve's proxy runs on the head only (both
nodes share one address, so a proxy per node would fight over the port).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["start_ray", "place_entity_actors", "session_dir"]


def start_ray(work: Path, nodes: int) -> tuple[Any, Any]:
    """(cluster or None, the worker node or None); this process is connected afterwards."""
    import ray

    # Ray's socket paths must stay under 107 bytes: its folder is a short one under the system's
    # temp folder, named in ``work/ray-dir`` (removed with the run unless the run is kept)
    temp = tempfile.mkdtemp(prefix="pxc-ray-")
    (work / "ray-dir").write_text(temp, encoding="utf-8")
    if nodes < 2:
        ray.init("local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="chaos", _temp_dir=temp)
        return None, None
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 2, "include_dashboard": False, "temp_dir": temp, "object_store_memory": 200 * 2**20})
    worker = cluster.add_node(num_cpus=1, object_store_memory=100 * 2**20, resources={"chaos_worker": 1})
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, namespace="chaos")
    return cluster, worker


def serve_on_head(port: int) -> None:
    """Start Serve with its proxy on the head node only (before the bridge's own ``serve.start``)."""
    from ray import serve

    serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": port},
                logging_config={"enable_access_log": False})


def place_entity_actors(settings: Any, node_id: str) -> dict[str, str]:
    """Create every entity actor on ``node_id`` (soft affinity); returns entity -> node id it runs on."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from runtime.actors import EntityActor, actor_name
    from runtime.config import ENTITIES
    from runtime.wire import to_wire

    wire = to_wire(settings)
    for e in ENTITIES:
        # a busy node spills soft-placed actors elsewhere: such an actor is made again, a few times
        for attempt in range(4):
            handle = EntityActor.options(  # type: ignore[attr-defined]
                name=actor_name(e), namespace=settings.namespace, lifetime="detached", get_if_exists=True,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=True)).remote(e, wire)
            ray.get(handle.__ray_ready__.remote(), timeout=180)
            if actor_node(actor_name(e), settings.namespace) == node_id or attempt == 3:
                break
            ray.kill(handle, no_restart=True)
            time.sleep(1.0)  # the name is free again once the GCS saw the actor die
    return {e: actor_node(actor_name(e), settings.namespace) for e in ENTITIES}


def actor_node(name: str, namespace: str) -> str:
    """The node id a named actor runs on now (from the GCS actor table; the state API needs the
    dashboard, which these runs do not start)."""
    import ray

    handle = ray.get_actor(name, namespace=namespace)
    info = ray._private.state.actors(handle._actor_id.hex())  # noqa: SLF001 - no public accessor
    return str((info.get("Address") or {}).get("NodeID") or "")


def session_dir() -> str:
    """This Ray session's folder (its logs are in ``logs/``)."""
    import ray

    return str(ray._private.worker._global_node.get_session_dir_path())  # noqa: SLF001 - no public accessor
