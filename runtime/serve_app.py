"""The Ray Serve ingress: one deployment wrapping :func:`runtime.app.build_app`.

The replica opens its own store connection and nudges entity actors fire-and-forget (the
``ObjectRef`` is dropped: the work's outcome is read from the journal, never from the call).
Replicas ask for a fraction of a CPU (I/O bound; a small node must keep room for actors and
tasks); access logs are off unless configured (they cost throughput on small machines).
"""

from __future__ import annotations

import logging
from typing import Any

from ray import serve

from runtime.actors import entity_actor
from runtime.app import build_app
from runtime.nudges import NudgeBatcher
from runtime.store import AsyncStore, Store
from runtime.tracing import setup_tracing
from runtime.wire import from_wire

__all__ = ["BridgeIngress", "bridge_application"]

log = logging.getLogger("presta_ax.serve")


@serve.deployment(name="BridgeIngress", max_ongoing_requests=256)
@serve.ingress()
class BridgeIngress:
    def __init__(self, wire: dict[str, Any], admin_token: str) -> None:
        self.wire = wire
        self.settings = from_wire(wire)
        setup_tracing(self.settings.tracing)
        self.store = AsyncStore(Store(self.settings.store_url()), max_workers=8)
        self.admin_token = admin_token
        self.handles: dict[str, Any] = {}
        self._nudges = NudgeBatcher(self._handle)

    def _handle(self, entity: str) -> Any:
        handle = self.handles.get(entity)
        if handle is None:
            handle = self.handles[entity] = entity_actor(entity, self.wire, self.settings.namespace)
        return handle

    def _nudge(self, entity: str, key: str, carrier: dict[str, str]) -> None:
        """Coalesced with the other nudges of this event-loop turn (:mod:`runtime.nudges`)."""
        if self.settings.server.nudge:
            self._nudges(entity, key, carrier)

    async def __serve_build_asgi_app__(self) -> Any:
        server = self.settings.server
        return build_app(
            self.store,
            webhook_secrets=[s.get_secret_value() for s in server.webhook_secrets],
            admin_token=self.admin_token,
            nudge=self._nudge,
            max_body_bytes=server.max_body_bytes,
            tolerance_s=server.signature_tolerance_s,
            body_timeout_s=server.body_timeout_s,
            auth_limits=(server.auth_max_failures, server.auth_failure_window_s),
            cors_origins=list(server.cors_origins),
            url_tokens=[t.get_secret_value() for t in server.ps_webhooks_tokens],
            info=lambda: {"namespace": self.settings.namespace},
            flow_dirs=self.settings.flow_dirs,
            trace_ui_url=self.settings.tracing.ui_url,
        )


def bridge_application(wire: dict[str, Any], admin_token: str) -> Any:
    """The bound application, with the replica's CPU share and access-log choice from settings."""
    settings = from_wire(wire)
    return BridgeIngress.options(  # type: ignore[attr-defined]
        ray_actor_options={"num_cpus": settings.server.replica_cpus, "resources": (
            {settings.placement.ingress_resource: 1} if settings.placement.ingress_resource else {})},
        logging_config={"enable_access_log": settings.server.access_log},
    ).bind(wire, admin_token)
