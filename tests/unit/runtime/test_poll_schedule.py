"""Each poll trigger at its own ``every:``, capped by ``limits.poll_interval_s``: the interval
rules, and the schedule driven by a fake clock (no waiting)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from connectors.errors import ConfigError
from pipelines.registry import FlowRegistry as YamlRegistry
from runtime.config import Settings
from runtime.poll_schedule import (
    DEFAULT_INTERVAL_S,
    PollJob,
    Schedule,
    parse_every,
    run_schedule,
    trigger_interval_s,
)
from runtime.pollers import poll_jobs

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text,seconds", [("30s", 30.0), ("2m", 120.0), ("1h", 3600.0), ("500ms", 0.5),
                                          ("1.5m", 90.0), ("1d", 86400.0), (" 60s ", 60.0)])
def test_every_is_a_number_and_a_unit(text: str, seconds: float) -> None:
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["30", "2 minutes", "m", "-5s", "0s", "1h30m", ""])
def test_an_every_that_is_no_interval_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="interval"):
        parse_every(text)


def test_the_interval_is_the_trigger_s_own_capped_by_the_setting() -> None:
    assert trigger_interval_s("2m", None) == 120.0
    assert trigger_interval_s("2m", 5.0) == 5.0  # the demo's cap
    assert trigger_interval_s("2s", 5.0) == 2.0  # shorter than the cap: its own
    assert trigger_interval_s(None, None) == DEFAULT_INTERVAL_S
    assert trigger_interval_s(None, 7.0) == 7.0
    with pytest.raises(ConfigError, match="flow f, poll trigger on orders: every: 'soon'"):
        trigger_interval_s("soon", None, where="flow f, poll trigger on orders")


def test_the_schedule_runs_each_job_at_its_own_interval() -> None:
    schedule = Schedule({"fast": 30.0, "slow": 120.0}, now=1000.0)
    assert schedule.due(1000.0) == ["fast", "slow"]  # all due at start
    schedule.ran("fast", 1000.0)
    schedule.ran("slow", 1000.0)
    assert schedule.due(1029.0) == [] and schedule.wait_s(1029.0) == 1.0
    assert schedule.due(1030.0) == ["fast"]
    schedule.ran("fast", 1030.0)
    assert schedule.wait_s(1030.0) == 30.0
    assert schedule.due(1120.0) == ["fast", "slow"]


class FakeTime:
    """A clock that moves only when the loop sleeps; stops the loop past ``until``."""

    def __init__(self, until: float) -> None:
        self.now = 0.0
        self.until = until
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, stop: asyncio.Event, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.now > self.until:
            stop.set()


async def test_run_schedule_polls_each_route_at_its_every_without_waiting() -> None:
    fake = FakeTime(until=600.0)
    runs: dict[str, list[float]] = {"orders": [], "slips": []}

    def job(name: str, every: float) -> PollJob:
        async def run() -> None:
            runs[name].append(fake.now)
            if name == "slips" and len(runs[name]) == 2:
                raise RuntimeError("AX briefly down")  # logged; the job keeps its interval
        return PollJob(name, every, run)

    await run_schedule([job("orders", 60.0), job("slips", 120.0)], asyncio.Event(), clock=fake.clock,
                       sleep=fake.sleep)
    assert runs["orders"] == [0.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 420.0, 480.0, 540.0, 600.0]
    assert runs["slips"] == [0.0, 120.0, 240.0, 360.0, 480.0, 600.0]


def _flows() -> Any:
    return YamlRegistry([]).flows()  # the shipped default flows


class _Ps:
    async def poll(self) -> int:
        return 0


def test_the_default_flows_poll_at_their_own_every_or_the_demo_cap() -> None:
    pollers = {"orders": _Ps(), "customers": _Ps(), "addresses": _Ps()}
    plain = {j.name: j.interval_s for j in poll_jobs(Settings(), _flows(), ps_pollers=pollers)}
    assert plain == {"ps:orders": 60.0, "ps:customers": 60.0, "ps:addresses": 60.0}
    capped = Settings.model_validate({"limits": {"poll_interval_s": 5}})
    assert {j.interval_s for j in poll_jobs(capped, _flows(), ps_pollers=pollers)} == {5.0}


def test_each_ax_route_polls_at_its_trigger_s_every() -> None:
    from connectors.dynamics_ax import AxConfig
    from connectors.dynamics_ax import Client as AxClient
    from runtime.pollers import AxPoller, poll_routes

    ax = AxClient(AxConfig(base_url="http://127.0.0.1:9/MicrosoftDynamicsAXAif60", port_name="WebShop",
                           company="DAT"))  # never called here
    poller = AxPoller(None, ax, poll_routes(_flows()))
    jobs = {j.name: j.interval_s for j in poll_jobs(Settings(), _flows(), ax_poller=poller)}
    assert jobs == {"ax:ax_fulfilment_to_ps:SalesPackingSlipService": 120.0,
                    "ax:ax_fulfilment_to_ps:SalesInvoiceService": 300.0,
                    "ax:ax_fulfilment_to_ps:CustomerTransactionService": 300.0,
                    # master data by change tracking (on-hand has its own poller: not here)
                    "ax:customer_sync:CustomerService": 300.0,
                    "ax:ax_product_to_ps:EcoResProductService": 300.0,
                    "ax:ax_price_to_ps:ItemService": 900.0,
                    "ax:ax_price_to_ps:PriceDiscTableService": 300.0}
    capped = Settings.model_validate({"limits": {"poll_interval_s": 0.5}})
    assert {j.interval_s for j in poll_jobs(capped, _flows(), ax_poller=poller)} == {0.5}
