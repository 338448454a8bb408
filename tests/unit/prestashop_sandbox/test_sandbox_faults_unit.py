"""Fault decisions and the sandbox configuration model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.prestashop.sandbox import ApiKey, Faults, SandboxConfig
from connectors.prestashop.sandbox.faults import FaultInjector

pytestmark = pytest.mark.unit


def test_no_faults_by_default() -> None:
    d = FaultInjector(Faults()).decide()
    assert d.status is None and d.delay_s == 0


def test_error_rate_is_deterministic_for_a_seed() -> None:
    first, second = FaultInjector(Faults(error_rate=0.3), seed=7), FaultInjector(Faults(error_rate=0.3), seed=7)
    assert [first.decide().status for _ in range(50)] == [second.decide().status for _ in range(50)]
    injector = FaultInjector(Faults(error_rate=0.3), seed=7)
    statuses = [injector.decide().status for _ in range(400)]
    assert 60 < statuses.count(500) < 180 and statuses.count(None) + statuses.count(500) == 400


def test_latency_distributions_are_non_negative() -> None:
    for dist in ("fixed", "uniform", "exponential", "normal"):
        injector = FaultInjector(Faults(latency_ms=5, latency_jitter_ms=10, latency_distribution=dist), seed=1)
        delays = [injector.decide().delay_s for _ in range(50)]
        assert all(d >= 0 for d in delays)
        assert (len(set(delays)) == 1) == (dist == "fixed")


def test_concurrency_cap_counts_in_flight() -> None:
    injector = FaultInjector(Faults(max_concurrency=2))
    injector.in_flight = 2
    d = injector.decide()
    assert d.status == 503 and d.headers["Retry-After"] == "1"
    injector.in_flight = 1
    assert injector.decide().status is None


def test_config_refuses_bad_values_and_hides_secrets() -> None:
    with pytest.raises(ValidationError):
        Faults(error_rate=1.5)
    with pytest.raises(ValidationError):
        SandboxConfig(api_keys=[ApiKey(key="K" * 32), ApiKey(key="K" * 32)])
    for bad in ("http://[::1/hooks", "ftp://example.com/hooks", "/webhooks/prestashop", "http://host:99999/"):
        with pytest.raises(ValidationError, match="webhook_url"):
            SandboxConfig(webhook_url=bad)
    assert SandboxConfig(webhook_url="http://127.0.0.1:8000/webhooks/prestashop").webhook_url
    config = SandboxConfig.simple("S" * 32, webhook_secret="whsec_c2VjcmV0")
    assert "S" * 32 not in repr(config) and "c2VjcmV0" not in repr(config)
    assert config.api_keys[0].granted("orders") >= {"GET", "POST"}
    assert ApiKey(key="R" * 32, permissions={"orders": ["get"]}).granted("orders") == {"GET"}
