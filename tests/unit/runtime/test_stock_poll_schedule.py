"""The stock poll's job: its trigger's interval (5 s by default), capped by the setting, at a
fixed rate; and a fixed-rate job is due one interval after it started, however long it ran."""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from pipelines.registry import FlowRegistry as YamlRegistry
from runtime.config import Settings
from runtime.poll_schedule import PollJob, run_schedule
from runtime.pollers import AxPoller, PollRoute, poll_jobs, poll_routes
from runtime.pollers_stock import StockPoller


def _stock_poller(every: str | None) -> StockPoller:
    ax = AxClient(AxConfig(base_url="http://127.0.0.1:9/MicrosoftDynamicsAXAif60", port_name="WebShop",
                           company="DAT"))  # never called here
    return StockPoller(None, ax, None, PollRoute("ax_stock_to_ps", "stock", "InventoryOnHandService", every))  # type: ignore[arg-type]


def test_the_stock_job_runs_at_its_trigger_s_every_at_a_fixed_rate() -> None:
    (job,) = poll_jobs(Settings(), {}, stock_poller=_stock_poller("5s"))
    assert (job.name, job.interval_s, job.fixed_rate) == ("ax:ax_stock_to_ps:InventoryOnHandService", 5.0, True)
    (default,) = poll_jobs(Settings(), {}, stock_poller=_stock_poller(None))
    assert default.interval_s == 5.0
    capped = Settings.model_validate({"limits": {"poll_interval_s": 0.5}})
    assert poll_jobs(capped, {}, stock_poller=_stock_poller("5s"))[0].interval_s == 0.5


def test_on_hand_is_not_polled_by_change_tracking() -> None:
    ax = AxClient(AxConfig(base_url="http://127.0.0.1:9/MicrosoftDynamicsAXAif60", port_name="WebShop",
                           company="DAT"))
    poller = AxPoller(None, ax, poll_routes(YamlRegistry([]).flows()))
    assert "InventoryOnHandService" not in {r.service for r in poller.routes}
    assert "CustomerService" in {r.service for r in poller.routes}


async def test_a_fixed_rate_job_is_due_one_interval_after_it_started() -> None:
    now = [0.0]
    starts: list[float] = []
    stop = asyncio.Event()

    async def slow() -> None:
        starts.append(now[0])
        now[0] += 3.0  # the poll takes 3 s of its 5 s interval
        if len(starts) == 3:
            stop.set()

    async def sleep(_stop: Any, seconds: float) -> None:
        now[0] += seconds

    await run_schedule([PollJob("stock", 5.0, slow, fixed_rate=True)], stop, clock=lambda: now[0], sleep=sleep)
    assert starts == [0.0, 5.0, 10.0]
