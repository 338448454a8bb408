"""A small Ray driver the multi-host tests run inside a host (``python -m tests.cluster.probe``):
it connects to ``RAY_ADDRESS`` and prints one line ``PROBE <json>``.

* ``nodes``: the alive nodes, ``[{"ip", "node_id", "resources"}]``;
* ``actors NAMESPACE``: the bridge's named actors there,
  ``{name: {"ip", "node_id", "state", "restarts", "actor_id"}}`` (read from the GCS: no dashboard needed);
* ``serve-state NAMESPACE APP...``: one look for the Serve-config tests,
  ``{"actors": <actors NAMESPACE>, "dispatchers": [actor ids of every alive dispatcher of the
  cluster, all namespaces], "replicas": {APP: [actor ids of its alive Serve replicas]}}``;
* ``recheck CONFIG``: :class:`runtime.cluster_checks.JoinWatch` on the settings of ``CONFIG`` as if
  the start-up check had seen every node but the last worker: ``[first look, second look]``, each
  the problem's text or null;
* ``serve-delete NAMESPACE APP...``: delete those Serve applications and the bridge's actors in
  ``NAMESPACE``; answers ``true``.
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
                     "restarts": info.get("NumRestarts"), "actor_id": actor_id}
    return out


def _alive(match: Any) -> list[str]:
    from ray._private.state import actors as all_actors

    return sorted(aid for aid, info in all_actors().items() if info.get("State") == "ALIVE" and match(info))


def recheck(config: str) -> list[str | None]:
    from pathlib import Path

    from runtime.cluster_checks import JoinWatch, alive_nodes
    from runtime.config import load_settings

    workers = sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive") and "presta_ax_worker" in n["Resources"])
    watch = JoinWatch(load_settings(Path(config)), alive_nodes() - {workers[-1]})
    return [None if (p := watch.poll(force=True)) is None else str(p) for _ in range(2)]


def serve_delete(namespace: str, apps: list[str]) -> bool:
    from ray import serve

    from runtime.actors import kill_all

    for app in apps:
        serve.delete(app)
    kill_all(namespace)
    return True


def main(argv: list[str]) -> None:
    ray.init(address="auto", log_to_driver=False, logging_level="ERROR")
    what = argv[0]
    answer: Any
    if what == "nodes":
        answer = nodes()
    elif what == "actors":
        answer = actors(argv[1])
    elif what == "serve-state":
        answer = {
            "actors": actors(argv[1]),
            # the bridge names every dispatcher "dispatcher" (one per namespace)
            "dispatchers": _alive(lambda a: a.get("Name") == "dispatcher"
                                  or a.get("ActorClassName", "").endswith("DispatcherActor")),
            # Serve names a replica SERVE_REPLICA::<app>#<deployment>#<id>
            "replicas": {app: _alive(lambda a, app=app: f"::{app}#" in a.get("Name", "")) for app in argv[2:]},
        }
    elif what == "recheck":
        answer = recheck(argv[1])
    elif what == "serve-delete":
        answer = serve_delete(argv[1], argv[2:])
    else:
        raise SystemExit(f"unknown probe {what!r}")
    print("PROBE " + json.dumps(answer))
    ray.shutdown()


if __name__ == "__main__":
    main(sys.argv[1:])
