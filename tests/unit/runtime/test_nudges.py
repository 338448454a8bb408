"""The nudge batcher against real Ray actors: one ``nudge_many`` call per entity and event-loop
turn, each record once, a failing entity losing only its own nudges."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import ray

from runtime.nudges import NudgeBatcher


@ray.remote(num_cpus=0)
class _Recorder:
    """An actor with the entity actors' ``nudge_many`` signature that keeps what it was sent."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []

    def nudge_many(self, items: list[Any]) -> int:
        self.calls.append([(key, carrier) for key, carrier in items])
        return len(items)

    def seen(self) -> list[list[Any]]:
        return self.calls


@pytest.fixture
def recorders(serve_port: int) -> Any:  # serve_port: the session's Ray is running
    actors = {"order": _Recorder.remote(), "customer": _Recorder.remote()}
    yield actors
    for actor in actors.values():
        ray.kill(actor)


def _handle_for(actors: dict[str, Any]) -> Any:
    def handle(entity: str) -> Any:
        if entity not in actors:
            raise ValueError(f"Unknown entity '{entity}'.")  # as runtime.actors.entity_actor does
        return actors[entity]
    return handle


def test_nudges_of_one_turn_become_one_call_per_entity_with_each_record_once(recorders: Any) -> None:
    batcher = NudgeBatcher(_handle_for(recorders))

    async def scenario() -> None:
        batcher("order", "1", {"traceparent": "a"})
        batcher("order", "2", {})
        batcher("order", "1", {"traceparent": "b"})  # the same record again: nudged once
        batcher("customer", "7", {})
        assert batcher.calls == 0  # nothing is sent before the turn ends
        await asyncio.sleep(0)
        batcher("order", "3", {})  # a later turn: a call of its own
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert ray.get(recorders["order"].seen.remote()) == [[("1", {"traceparent": "a"}), ("2", {})], [("3", {})]]
    assert ray.get(recorders["customer"].seen.remote()) == [[("7", {})]]
    assert (batcher.calls, batcher.nudges) == (3, 4)


def test_a_failing_entity_loses_only_its_own_nudges_and_a_caller_without_a_loop_sends_at_once(
        recorders: Any) -> None:
    batcher = NudgeBatcher(_handle_for(recorders))
    batcher("stock", "A0001", {})  # no running loop: sent at once; its actor cannot be had: logged
    batcher("order", "9", {})
    assert ray.get(recorders["order"].seen.remote()) == [[("9", {})]]
    assert (batcher.calls, batcher.nudges) == (1, 1)
