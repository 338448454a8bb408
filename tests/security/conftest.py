"""Fixtures of the security suite: one bridge (Ray + Serve, in the session's Serve mode) for every
module of the package that needs one, with a short body timeout and a small failed-login budget so
that the slow-sender and rate-limit cases finish quickly; helpers to count the journal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.support import SECRET, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: what the package's bridge is configured with (the tests rely on these figures)
BODY_TIMEOUT_S = 2.0
AUTH_MAX_FAILURES = 5


@pytest.fixture(scope="package")
def security_bridge(serve_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from runtime.config import Settings
    from runtime.server import start_bridge, stop_bridge

    data = tmp_path_factory.mktemp("security") / "data"
    running = start_bridge(Settings.model_validate({
        "data_dir": str(data), "namespace": f"t-{uuid.uuid4().hex[:8]}",
        "server": {"port": serve_port, "webhook_secrets": [SECRET], "admin_token": TOKEN,
                   "ps_webhooks_tokens": ["ps-webhooks-url-token"], "body_timeout_s": BODY_TIMEOUT_S,
                   "auth_max_failures": AUTH_MAX_FAILURES, "auth_failure_window_s": 600},
        "flows": ["tests.flows_for_tests"],
        # nothing in this suite is meant to be processed: the journal alone is what is checked
        "limits": {"lease_s": 3, "dispatch_interval_s": 0.3},
    }), start_serve=False)
    yield running
    stop_bridge(running)


async def journaled(c: httpx.AsyncClient) -> int:
    """Messages in the bridge's journal, read through the admin API (``c`` carries the token)."""
    r = await c.get("/api/v1/health", headers=AUTH)
    assert r.status_code == 200, r.text
    return sum(sum(by_status.values()) for by_status in r.json()["counts"].values())
