"""A small Ray driver the multi-host tests run inside a host (``python -m tests.cluster.probe``):
it connects to ``RAY_ADDRESS`` and prints one line ``PROBE <json>``.

* ``nodes``: the alive nodes, ``[{"ip", "node_id", "resources"}]``;
* ``actors NAMESPACE``: the bridge's named actors there,
  ``{name: {"ip", "node_id", "state", "restarts"}}`` (read from the GCS: no dashboard needed).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import ray


def nodes() -> list[dict[str, Any]]:
    return [{"ip": n["NodeManagerAddress"], "node_id": n["NodeID"], "resources": n["Resources"]}
            for n in ray.nodes() if n.get("Alive")]


def actors(namespace: str) -> dict[str, dict[str, Any]]:
    from ray._private.state import actors as all_actors  # the GCS's actor table (no namespace in it)

    from runtime.actors import actor_name
    from runtime.config import ENTITIES

    ips = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes()}
    table = all_actors()
    out = {}
    for name in ["dispatcher", *(actor_name(e) for e in ENTITIES)]:
        try:
            actor_id = ray.get_actor(name, namespace=namespace)._actor_id.hex()
        except ValueError:
            continue
        info = table.get(actor_id) or {}
        node = (info.get("Address") or {}).get("NodeID")
        out[name] = {"ip": ips.get(node), "node_id": node, "state": info.get("State"),
                     "restarts": info.get("NumRestarts")}
    return out


def main(argv: list[str]) -> None:
    ray.init(address="auto", log_to_driver=False, logging_level="ERROR")
    what = argv[0]
    answer = nodes() if what == "nodes" else actors(argv[1])
    print("PROBE " + json.dumps(answer))
    ray.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
