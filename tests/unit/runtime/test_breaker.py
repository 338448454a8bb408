"""Circuit breakers without Ray: the state machine, what counts, the per-process board, the worker
putting messages back to wait without using up attempts, the alert texts and the config block."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest

from connectors.errors import AuthError, DuplicateError, NotFoundError, TransientError, ValidationError
from runtime.alerts import circuit_alert
from runtime.breaker import BreakerPolicy, CircuitBreaker, CircuitOpenError, counts_as_failure
from runtime.breaker_board import BreakerBoard, LocalBackend
from runtime.config import Settings
from runtime.flows import FlowRegistry, FunctionFlow
from runtime.messages import Message, new_message_id
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.worker import EntityWorker

pytestmark = pytest.mark.unit


class Clock:
    """A wall clock the test moves by hand (it starts at the real time: the journal's due times
    are compared with the real clock)."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


def down(system: str = "ax") -> TransientError:
    return TransientError("AX SalesOrderService.create failed: IIS or the AOS is unavailable (HTTP 503).",
                          system=system, code="unavailable", unavailable=True)


# ---------------------------------------------------------------- the state machine

def test_a_run_of_failures_opens_it_and_a_success_in_between_resets_the_run() -> None:
    clock = Clock()
    b = CircuitBreaker("ax", BreakerPolicy(failure_threshold=3, cooldown_s=10), clock)
    assert b.record(False) is None and b.record(False) is None
    assert b.record(True) is None and b.failures == 0  # the run is broken
    assert [b.record(False) for _ in range(3)] == [None, None, "opened"]
    snap = b.snapshot()
    assert snap["state"] == "open" and snap["failures"] == 3 and snap["opens"] == 1
    assert snap["opened_at"] == clock.t and snap["next_probe_at"] == clock.t + 10
    assert b.acquire() == ("wait", None)


def test_after_the_cooldown_one_probe_goes_and_its_success_closes_it() -> None:
    clock = Clock()
    b = CircuitBreaker("ax", BreakerPolicy(failure_threshold=1, cooldown_s=10), clock)
    assert b.record(False, failure={"type": "TransientError", "code": "network"}) == "opened"
    clock.t += 9.9
    assert b.acquire() == ("wait", None)
    clock.t += 0.2
    decision, probe = b.acquire()
    assert decision == "probe" and probe is not None and b.state == "half_open"
    assert b.acquire() == ("wait", None)  # only one probe at a time
    assert b.record(True) is None and b.state == "half_open"  # a straggler's success does not close it
    assert b.record(True, probe) == "closed"
    assert b.snapshot()["state"] == "closed" and b.failures == 0 and b.snapshot()["next_probe_at"] is None
    assert b.acquire() == ("call", None)


def test_a_failed_probe_reopens_it_for_a_new_cooldown() -> None:
    clock = Clock()
    b = CircuitBreaker("prestashop", BreakerPolicy(failure_threshold=2, cooldown_s=5), clock)
    b.record(False)
    b.record(False)
    clock.t += 5
    _, probe = b.acquire()
    assert b.record(False, probe) == "reopened"
    assert b.state == "open" and b.snapshot()["next_probe_at"] == clock.t + 5 and b.opens == 1
    assert b.acquire() == ("wait", None)


def test_an_inconclusive_or_lost_probe_is_handed_to_the_next_caller() -> None:
    clock = Clock()
    b = CircuitBreaker("ax", BreakerPolicy(failure_threshold=1, cooldown_s=1, probe_timeout_s=30), clock)
    b.record(False)
    clock.t += 1
    _, first = b.acquire()
    assert b.record(None, first) is None and b.state == "half_open"
    _, second = b.acquire()
    assert second is not None and second != first
    clock.t += 29
    assert b.acquire() == ("wait", None)
    clock.t += 2  # the probe never reported (its process died)
    decision, third = b.acquire()
    assert decision == "probe" and third not in (first, second)
    assert b.record(True, second) is None and b.state == "half_open"  # an expired probe decides nothing
    assert b.record(True, third) == "closed"


def test_a_retry_after_from_the_target_sets_the_pause() -> None:
    clock = Clock()
    b = CircuitBreaker("prestashop", BreakerPolicy(failure_threshold=1, cooldown_s=30), clock)
    assert b.record(False, failure={"type": "TransientError", "code": None, "retry_after": 2.0}) == "opened"
    assert b.snapshot()["next_probe_at"] == clock.t + 2.0  # what the shop asked, not the 30 s default
    clock.t += 2
    _, probe = b.acquire()
    assert b.record(False, probe, {"type": "TransientError", "code": None, "retry_after": 0.0}) == "reopened"
    assert b.snapshot()["next_probe_at"] == clock.t + 1.0  # never sooner than a second
    clock.t += 1
    _, probe = b.acquire()
    b.record(False, probe, {"type": "TransientError", "code": "unavailable"})
    assert b.snapshot()["next_probe_at"] == clock.t + 30  # no Retry-After: the cool-down


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        BreakerPolicy(failure_threshold=0)


def test_only_failures_of_the_system_as_a_whole_count() -> None:
    assert counts_as_failure(down())
    assert counts_as_failure(TimeoutError()) and counts_as_failure(ConnectionResetError())
    for answered in (ValidationError("bad field"), NotFoundError("no such order"), DuplicateError("done"),
                     AuthError("key refused"), TransientError("AX deadlock", system="ax", code="deadlock"),
                     ValueError("a bug"), None):
        assert not counts_as_failure(answered), answered
    assert not counts_as_failure(CircuitOpenError("ax", 0.0))  # refused here: AX was not called


# ---------------------------------------------------------------- the board (one process's view)

def board(clock: Clock, threshold: int = 2, cooldown: float = 10.0, **kw: Any) -> tuple[BreakerBoard, dict]:
    transitions: list[tuple[str, dict]] = []
    backends = {s: LocalBackend(CircuitBreaker(s, BreakerPolicy(threshold, cooldown), clock),
                                lambda change, snap: transitions.append((change, snap)))
                for s in ("prestashop", "ax")}
    b = BreakerBoard(backends, ttl_s=0.5, spread_s=1.0, clock=clock, rng=random.Random(7), **kw)
    return b, {"transitions": transitions, "backends": backends}


async def test_board_opens_refuses_without_a_call_then_probes_once_and_closes() -> None:
    clock = Clock()
    b, seen = board(clock)
    for _ in range(2):
        ticket = await b.before("ax")
        await b.after(ticket, down())
    assert [c for c, _ in seen["transitions"]] == ["opened"]
    with pytest.raises(CircuitOpenError) as refused:
        await b.before("ax")
    err = refused.value
    assert err.system == "ax" and err.unavailable and err.code == "circuit_open"
    assert clock.t + 10 <= err.retry_at <= clock.t + 10 + 1.0  # next probe time plus the spread
    assert "AX" in err.message and "open" in err.message
    assert b.blocked(["prestashop", "ax"]) is not None and b.blocked(["prestashop"]) is None
    assert (await b.before("prestashop"))[1] is None  # the other target is not affected

    clock.t += 10
    probe = await b.before("ax")
    assert probe[1] is not None
    with pytest.raises(CircuitOpenError) as waiting:  # while the probe runs, the others wait briefly
        await b.before("ax")
    assert waiting.value.retry_at <= clock.t + 2 + 1.0
    await b.after(probe, ValidationError("AX refused the document"))  # AX answered: it is up
    assert [c for c, _ in seen["transitions"]] == ["opened", "closed"]
    assert b.snapshot("ax")["state"] == "closed" and b.blocked(["ax"]) is None
    assert (await b.before("ax"))[1] is None


async def test_board_charges_a_failure_to_the_system_the_error_names() -> None:
    clock = Clock()
    b, seen = board(clock, threshold=1)
    ticket = await b.before("ax")  # an AX operation that reads the shop too
    await b.after(ticket, down("prestashop"))
    assert b.snapshot("prestashop")["state"] == "open"
    assert b.snapshot("ax") is None or b.snapshot("ax")["state"] == "closed"


async def test_a_clean_success_is_not_reported_and_a_success_after_failures_resets_them() -> None:
    clock = Clock()
    reports: list[Any] = []

    class Counting(LocalBackend):
        async def record(self, ok: Any, probe_id: Any, failure: Any) -> Any:
            reports.append(ok)
            return await super().record(ok, probe_id, failure)

    b = BreakerBoard({"ax": Counting(CircuitBreaker("ax", BreakerPolicy(3, 10), clock))}, clock=clock)
    for _ in range(5):
        await b.after(await b.before("ax"), None)
    assert reports == []  # the hot path makes no report at all
    await b.after(await b.before("ax"), down())
    await b.after(await b.before("ax"), None)
    assert reports == [False, True] and b.snapshot("ax")["failures"] == 0


async def test_a_backend_that_does_not_answer_lets_calls_through() -> None:
    class Gone:
        async def acquire(self) -> Any:
            return "call", None, None

        async def record(self, ok: Any, probe_id: Any, failure: Any) -> Any:
            return None

        async def snapshot(self) -> Any:
            raise ConnectionError("actor restarting")

    b = BreakerBoard({"ax": Gone()}, ttl_s=0.0)
    for _ in range(10):
        await b.after(await b.before("ax"), down())
    assert b.snapshot("ax") is None and b.blocked(["ax"]) is None


# ---------------------------------------------------------------- the worker: wait, do not burn attempts

async def test_messages_refused_by_an_open_breaker_wait_without_using_attempts(store_url: str) -> None:
    clock = Clock()
    b, _ = board(clock, threshold=2, cooldown=30.0)
    calls: list[str] = []
    up = {"ax": False}

    async def ax_flow(ctx: Any, msg: Message) -> dict[str, Any]:
        ticket = await b.before("ax")
        calls.append(msg.key)
        if not up["ax"]:
            await b.after(ticket, down())
            raise down()
        await b.after(ticket, None)
        return {"ok": True}

    store = AsyncStore(Store(store_url, grace_s=0.0))  # SQLite and PostgreSQL
    registry = FlowRegistry()
    registry.register("order", "*", FunctionFlow("to_ax", ax_flow))
    worker = EntityWorker("order", store, registry, RetryPolicy(0.0, 0.0, 2, random.Random(1)), lease_s=30,
                          breakers=b)
    ids = [store.sync.append(Message(id=new_message_id(), entity="order", key=f"O{n}", source="prestashop",
                                     event="order.created", payload={}, idempotency_key=f"k{n}"))[0]
           for n in range(5)]
    for n in range(5):
        await worker.nudge(f"O{n}")
    assert calls == ["O0", "O1"]  # two failures opened it; the other three never reached AX
    for n in range(5):  # the worker keeps refusing while open, however often it is nudged
        await worker.nudge(f"O{n}")
    assert len(calls) == 2
    msgs = [store.sync.get(i) for i in ids]
    assert [m.status for m in msgs] == ["retry"] * 5
    assert [m.attempts for m in msgs] == [1, 1, 0, 0, 0]  # refusals gave their attempt back
    deferred = [e for e in store.sync.timeline(ids[4]) if e["kind"] == "deferred"]
    assert len(deferred) == 1 and deferred[0]["detail"]["code"] == "circuit_open"
    assert deferred[0]["detail"]["retry_at"] >= clock.t + 30

    up["ax"] = True
    clock.t += 31
    with store.sync.backend.tx() as cur:  # the journal's clock is real: make every message due now
        cur.execute("UPDATE messages SET next_attempt_at = 0")
    for n in range(5):
        await worker.nudge(f"O{n}")
    msgs = [store.sync.get(i) for i in ids]
    assert [m.status for m in msgs] == ["done"] * 5  # max_attempts is 2: a burnt attempt would have killed O0/O1
    assert [m.attempts for m in msgs] == [2, 2, 1, 1, 1]
    assert sorted(calls[2:]) == ["O0", "O1", "O2", "O3", "O4"]
    assert b.snapshot("ax")["state"] == "closed"
    store.close()


# ---------------------------------------------------------------- alerts and configuration

def test_alert_texts_name_the_target_and_never_the_error_text() -> None:
    clock = Clock()
    b = CircuitBreaker("ax", BreakerPolicy(2, 30), clock)
    b.record(False, failure={"type": "TransientError", "code": "network"})
    b.record(False, failure={"type": "TransientError", "code": "network"})
    severity, text = circuit_alert("opened", b.snapshot())
    assert severity == "error"
    assert "AX" in text and "2 failures" in text and "30 s" in text and "network" in text and "not dead" in text
    assert circuit_alert("reopened", b.snapshot()) is None
    severity, text = circuit_alert("closed", {"system": "prestashop"}, opened_at=None)
    assert severity == "info" and "PrestaShop" in text


def test_breakers_config_defaults_overrides_and_errors(tmp_path) -> None:
    from connectors.errors import ConfigError
    from runtime.breaker_actor import policy_for
    from runtime.config import load_settings

    s = Settings.model_validate({"breakers": {"cooldown_s": 12, "systems": {"ax": {"failure_threshold": 9}}}})
    assert policy_for(s, "ax") == BreakerPolicy(9, 12.0, 60.0)
    assert policy_for(s, "prestashop") == BreakerPolicy(5, 12.0, 60.0)
    defaults = Settings().breakers
    assert defaults.enabled and defaults.failure_threshold == 5 and defaults.cooldown_s == 30.0
    bad = tmp_path / "integration.yaml"
    bad.write_text("breakers:\n  cooldown_s: 0\n  treshold: 3\n  systems:\n    sap: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(bad, env={})
    text = "\n".join(refused.value.problems)
    assert "breakers.cooldown_s" in text and "breakers.systems.sap" in text
    assert "breakers.treshold: unknown field — did you mean 'failure_threshold'?" in text
