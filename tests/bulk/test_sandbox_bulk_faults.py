"""The shop sandbox's bulk faults (no HTTP): write latency growing with the catalog, the cap on
writes in flight; reads untouched. And the AX sandbox's seeded variants."""

from __future__ import annotations

from connectors.dynamics_ax.sandbox.app import SandboxState
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.prestashop.sandbox.faults import FaultInjector, Faults


def test_write_latency_grows_with_the_catalog_and_reads_are_free() -> None:
    faults = FaultInjector(Faults(write_latency_ms=40, write_latency_per_1000_ms=100))
    size = [0]
    faults.catalog_size = lambda: size[0]
    assert faults.decide("POST", "products").delay_s == 0.04
    size[0] = 5000
    assert abs(faults.decide("PUT", "products/7").delay_s - 0.54) < 1e-9
    assert faults.decide("GET", "products").delay_s == 0.0


def test_writes_beyond_the_cap_answer_503_with_retry_after() -> None:
    faults = FaultInjector(Faults(write_max_concurrency=2, retry_after_s=3))
    faults.writes_in_flight = 1
    assert faults.decide("POST", "products").status is None
    faults.writes_in_flight = 2
    refused = faults.decide("POST", "products")
    assert refused.status == 503 and refused.headers["Retry-After"] == "3"
    assert faults.decide("GET", "products").status is None  # reads are not capped


def test_the_ax_sandbox_seeds_variants_of_every_tenth_item() -> None:
    state = SandboxState(AxSandboxConfig(seed=1, items=30, customers=2, open_orders=0, variants=3))
    variants = sorted(str(p.get("DisplayProductNumber")) for p in state.world.products.docs.values()
                      if p.get("ProductMaster"))
    assert variants == [f"A00{m}0-V{k}" for m in (1, 2, 3) for k in (1, 2, 3)]
