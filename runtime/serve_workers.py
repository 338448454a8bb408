"""The bridge's background work as a Serve application, for deployments that only run a Serve
config (KubeRay's RayService, ``serve deploy``): no ``presta-ax serve`` process starts the
dispatcher there, so this small deployment does.

Contract of :class:`BridgeWorkers` (one replica, a twentieth of a CPU, no HTTP route):

* on start it migrates the store, runs the cluster checks (runtime/cluster_checks.py: a setting
  that only works on one host makes the replica fail with the message, so ``serve status`` and
  the RayService's status name it) and ensures the namespace's detached dispatcher actor exists
  (:func:`ensure_dispatcher`); the dispatcher runs the AX and PrestaShop pollers while it holds
  the journal's dispatcher lease, exactly as under ``presta-ax serve``;
* idempotent: the dispatcher is named (``dispatcher`` in ``settings.namespace``), detached and
  looked up with ``get_if_exists``, so a replica restart, a redeploy or a second replica finds the
  running one and never starts a second set; its lease holder is fixed per namespace
  (``serve-app:<namespace>``), so a restarted dispatcher retakes its own lease at once;
* Serve's health check (every 10 s) re-creates a dispatcher that is gone for good (killed with
  ``no_restart``) and re-runs the cluster checks when the set of alive nodes changed (a node
  joined): a problem found then fails the health check with the message, the replica is
  restarted and the app shows UNHEALTHY; the running dispatcher is left alone;
* a redeploy keeps the running dispatcher and so its settings: to give it new settings, stop it
  (``ray.kill`` of the named actor, or ``presta-ax``'s Ctrl-C on a CLI bridge) and the health
  check starts one with the deployed settings.

Use one launcher per journal: a ``presta-ax serve`` bridge on the same journal is refused while
this dispatcher holds the lease (runtime.dispatch_lease names this app as the holder).
"""

from __future__ import annotations

import logging
from typing import Any

import ray
from ray import serve

from runtime.actors import dispatcher_actor
from runtime.wire import from_wire

__all__ = ["BridgeWorkers", "ensure_dispatcher", "workers_application", "holder_for"]

log = logging.getLogger("presta_ax.serve_workers")

#: how long a new dispatcher may take to run its first tick (a busy node starts a worker process)
START_TIMEOUT_S = 120.0


def holder_for(namespace: str) -> tuple[str, str]:
    """The dispatcher lease's ``(holder, info)`` for the Serve-started bridge of ``namespace``:
    stable, so every replica and every restart is the same holder; ``info`` has no secret."""
    return (f"serve-app:{namespace}",
            f"the bridge's Serve app (RayService or `serve deploy`, application presta-ax-workers), "
            f"Ray namespace '{namespace}'")


def ensure_dispatcher(wire: dict[str, Any], *, wait_s: float = START_TIMEOUT_S) -> Any:
    """The namespace's dispatcher actor, created when missing, once it runs (one tick done).
    Idempotent and safe to call from several processes at once (named, ``get_if_exists``)."""
    settings = from_wire(wire)
    holder, info = holder_for(settings.namespace)
    dispatcher = dispatcher_actor(wire, settings.namespace, holder, info)
    ray.get(dispatcher.ticks.remote(), timeout=wait_s)
    return dispatcher


@serve.deployment(name="BridgeWorkers", num_replicas=1, ray_actor_options={"num_cpus": 0.05},
                  health_check_period_s=10, health_check_timeout_s=90)
class BridgeWorkers:
    """See the module docstring. ``wire``: the settings (runtime.wire), as for BridgeIngress."""

    def __init__(self, wire: dict[str, Any]) -> None:
        from runtime.cluster_checks import JoinWatch, alive_nodes, check_cluster
        from runtime.store import Store

        self.wire = wire
        self.settings = from_wire(wire)
        Store(self.settings.store_url()).close()  # migrate once, before the dispatcher opens it
        seen = alive_nodes()
        check_cluster(self.settings)  # raises ConfigError naming every setting at fault
        self.watch = JoinWatch(self.settings, seen, interval_s=0)  # Serve paces the health checks
        self.dispatcher = ensure_dispatcher(wire)

    def check_health(self) -> None:
        """Serve calls this every ``health_check_period_s``; raising marks the replica unhealthy."""
        problem = self.watch.poll()  # a node joined: the start-up checks again
        if problem is not None:
            raise problem
        try:
            ray.get_actor("dispatcher", namespace=self.settings.namespace)
        except ValueError:  # gone for good (a restarted one keeps its name): start it again
            log.warning("the dispatcher of namespace %s was gone; starting it again", self.settings.namespace)
            self.dispatcher = ensure_dispatcher(self.wire)


def workers_application(wire: dict[str, Any]) -> Any:
    """The bound application (placement: no custom resource; it is a tiny bookkeeper)."""
    return BridgeWorkers.bind(wire)  # type: ignore[attr-defined]
