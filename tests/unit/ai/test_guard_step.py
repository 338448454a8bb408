"""The flow's guard step with an ``anomaly:`` check: spec validation, scoring against the history
the runtime supplies (learning what passes), a reviewer's release with edits, the default flows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from connectors.errors import ConfigError
from pipelines.ai.guard import GuardContext
from pipelines.registry import DEFAULT_FLOWS_DIR
from pipelines.specs import Step, load_flow, parse_flow
from pipelines.steps import run_guard, run_guard_async

pytestmark = pytest.mark.unit


class DictHistory:
    """A GuardHistory over a dict (what the runtime does over the store)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    async def load(self, keys: list[str]) -> dict[str, Any]:
        return {k: self.data[k] for k in keys if k in self.data}

    async def save(self, states: Mapping[str, Any]) -> None:
        self.data.update(states)


STEP = Step.model_validate({"id": "guard", "kind": "guard", "input": "prices",
                            "anomaly": {"kind": "price", "fields": {"ItemId": "context.message.key", "new_price": "price"}}})


def _ctx(guard: GuardContext, n: int) -> dict[str, Any]:
    return {"guard": guard, "message": {"id": f"m{n}", "key": "A0001", "received_at": 1000.0 + n}}


async def test_the_step_learns_normal_prices_and_holds_a_shifted_one() -> None:
    guard = GuardContext(history=DictHistory())
    for n in range(12):
        assert await run_guard_async(STEP, {"prices": {"price": 49.90}}, _ctx(guard, n)) is None
    verdict = await run_guard_async(STEP, {"prices": {"price": 4.99}}, _ctx(guard, 99))
    assert verdict is not None and (verdict.action, verdict.rule, verdict.signal) == ("hold", -1, "price_shift")
    assert verdict.reason == "Price 4.99 is 10× below this item's last 12 prices (median 49.90): a shifted decimal?"
    assert verdict.to_dict()["score"] >= 0.5
    assert guard.history.data["p:A0001"]["w"] == [49.90] * 12  # the held price is not learned


async def test_a_release_passes_the_step_with_the_reviewers_edits() -> None:
    history = DictHistory()
    warm = GuardContext(history=history)
    for n in range(5):
        await run_guard_async(STEP, {"prices": {"price": 49.90}}, _ctx(warm, n))
    looked_up = []

    async def find() -> dict[str, Any]:
        looked_up.append(1)
        return {"step": "guard", "edit": {"price": 49.5}}

    assert await run_guard_async(STEP, {"prices": {"price": 49.90}}, _ctx(GuardContext(history, find_release=find), 9)) \
        is None and looked_up == []  # nothing to hold: no lookup
    state = {"prices": {"price": 4.99, "id": "1"}}
    assert await run_guard_async(STEP, state, _ctx(GuardContext(history, find_release=find), 10)) is None
    assert state["prices"] == {"price": 49.5, "id": "1"} and looked_up == [1]
    assert history.data["p:A0001"]["last"] == 49.5  # released: normal after all
    other = GuardContext(history, release={"step": "another-guard", "edit": {}})
    verdict = await run_guard_async(STEP, {"prices": {"price": 4.99}}, _ctx(other, 11))
    assert verdict is not None and verdict.action == "hold"  # released at another step: held here


async def test_without_the_runtimes_history_only_evidence_in_itself_holds() -> None:
    step = Step.model_validate({"id": "guard", "kind": "guard", "input": "stock",
                                "anomaly": {"kind": "stock", "fields": {"new_quantity": "quantity"}}})
    v = await run_guard_async(step, {"stock": {"quantity": -4}}, {"message": {"key": "A"}})
    assert v is not None and v.reason == "Stock -4 is negative."
    assert await run_guard_async(step, {"stock": {"quantity": 40000}}, {"message": {"key": "A"}}) is None
    assert run_guard(step, {"stock": {"quantity": -4}}, {"message": {"key": "A"}}) is None  # a test-run: rules only


@pytest.mark.parametrize("anomaly,message", [
    ({"kind": "price", "thresholds": {"totl_factor": 3}}, "unknown threshold 'totl_factor'"),
    ({"kind": "stock", "fields": {"ItemID": "x"}}, "unknown field(s) ItemID for a stock anomaly check"),
    ({"kind": "refunds"}, "kind"),
])
def test_a_bad_anomaly_spec_is_a_config_error_with_its_path(anomaly: dict[str, Any], message: str) -> None:
    flow = {"flow": "f", "entity": "price", "triggers": [{"type": "bulk"}],
            "steps": [{"id": "guard", "kind": "guard", "anomaly": anomaly}]}
    with pytest.raises(ConfigError) as exc:
        parse_flow(flow, "f.yaml")
    assert message in str(exc.value.problems) and "f.yaml:1: steps[0].anomaly" in str(exc.value.problems)


@pytest.mark.parametrize("name,kind", [("ps_order_to_ax", "order"), ("ax_price_to_ps", "price"),
                                       ("ax_stock_to_ps", "stock")])
def test_the_default_flows_run_the_anomaly_guard(name: str, kind: str) -> None:
    spec = load_flow(DEFAULT_FLOWS_DIR / f"{name}.yaml")
    guards = [s for s in spec.steps if s.kind == "guard" and s.anomaly is not None]
    assert [g.anomaly.kind for g in guards] == [kind] and guards[0].rules  # the fixed rules stay
