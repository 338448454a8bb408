"""Starting and stopping the bridge on Ray: used by ``presta-ax serve`` and by the e2e tests.

:func:`start_bridge` expects Ray to be initialised (local or cluster). It migrates the store,
takes the journal's dispatcher lease (raising :class:`runtime.dispatch_lease.BridgeConflict`
before anything is deployed when another bridge holds it), deploys the Serve app, starts the
dispatcher actor, and returns a :class:`Running` handle. ``progress(step)`` is told each step as
it begins (the CLI shows them). :func:`stop_dispatcher` stops the dispatcher and releases the
lease, so the next start on this journal does not wait for it to expire.
The admin token comes from the settings or is generated on first start and kept in
``<data_dir>/admin-token`` (mode 0600); ``Running.token_created`` tells the caller to show it once.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray
from ray import serve

from runtime.actors import dispatcher_actor, kill_all
from runtime.config import Settings
from runtime.dispatch_lease import DISPATCHER_LEASE, bridge_identity, take_dispatcher_lease
from runtime.serve_app import bridge_application
from runtime.store import Store
from runtime.wire import to_wire

__all__ = ["Running", "admin_token", "start_bridge", "stop_bridge", "stop_dispatcher", "APP_NAME"]

APP_NAME = "presta-ax-bridge"


@dataclass
class Running:
    settings: Settings
    url: str
    token: str
    token_created: bool
    dispatcher: Any
    #: this bridge's id as the holder of the journal's dispatcher lease
    holder: str = ""


def admin_token(settings: Settings) -> tuple[str, bool]:
    """The admin token and whether it was generated just now."""
    if settings.server.admin_token is not None:
        return settings.server.admin_token.get_secret_value(), False
    path = Path(settings.data_dir) / "admin-token"
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token, True


def start_bridge(settings: Settings, *, start_serve: bool = True,
                 progress: Callable[[str], None] | None = None) -> Running:
    """Deploy the bridge on the Ray instance this process is connected to (see the module doc)."""
    step = progress or (lambda _: None)
    step("Opening the store")
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    holder, info = bridge_identity(settings.namespace)
    store = Store(settings.store_url())  # migrate once, before replicas and actors race to do it
    try:
        take_dispatcher_lease(store, holder, info)
    finally:
        store.close()
    try:
        token, created = admin_token(settings)
        wire = to_wire(settings)
        if start_serve:
            step(f"Starting Serve on {settings.server.host}:{settings.server.port}")
            serve.start(http_options={"host": settings.server.host, "port": settings.server.port},
                        logging_config={"enable_access_log": settings.server.access_log})
        step("Deploying the webhook and admin app")
        serve.run(bridge_application(wire, token), name=APP_NAME, route_prefix="/", blocking=False)
        step("Starting the dispatcher")
        dispatcher = dispatcher_actor(wire, settings.namespace, holder, info)
        ray.get(dispatcher.ticks.remote())  # wait until it runs
    except BaseException:
        _release(settings, holder)
        raise
    host = settings.server.host if settings.server.host not in ("0.0.0.0", "::") else "127.0.0.1"
    return Running(settings, f"http://{host}:{settings.server.port}", token, created, dispatcher, holder)


def _release(settings: Settings, holder: str) -> None:
    try:
        store = Store(settings.store_url())
        try:
            store.release_lease(DISPATCHER_LEASE, holder)
        finally:
            store.close()
    except Exception:  # noqa: BLE001 - the lease expires by itself
        pass


def stop_dispatcher(running: Running, timeout_s: float = 15.0) -> None:
    """Stop the dispatcher (it releases its lease) and release the lease here too, in case the
    dispatcher is already gone (a Ctrl-C reaches Ray's processes as well). Never raises."""
    try:
        ray.get(running.dispatcher.stop.remote(), timeout=timeout_s)
    except Exception:  # noqa: BLE001 - a dead dispatcher is what we want anyway
        pass
    _release(running.settings, running.holder)


def stop_bridge(running: Running, *, shutdown_serve: bool = False) -> None:
    """Remove the app and the bridge's actors (their work stays in the journal)."""
    stop_dispatcher(running)
    kill_all(running.settings.namespace)
    if shutdown_serve:
        serve.shutdown()
    else:
        serve.delete(APP_NAME)
