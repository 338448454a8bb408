"""The pipelined chunk read on its own (no Ray, no HTTP): the next part is read while the items
read before are handled, reads never overlap each other, what is read ahead stays bounded, and
the first failure ends everything and is raised as is."""

from __future__ import annotations

import asyncio

import pytest

from pipelines.bulk.prefetch import pipelined

pytestmark = [pytest.mark.unit, pytest.mark.timeout(30)]


def test_the_next_part_is_read_while_the_items_before_are_handled() -> None:
    keys = list(range(40))
    reading = 0
    handled: list[int] = []
    read_order: list[list[int]] = []
    unhandled_at_read: list[int] = []

    async def read_part(part: list[int]) -> list[int]:
        nonlocal reading
        reading += 1
        assert reading == 1  # one read at a time
        unhandled_at_read.append(sum(len(p) for p in read_order) - len(handled))
        read_order.append(part)
        await asyncio.sleep(0.01)
        reading -= 1
        return [k * 10 for k in part]

    async def handle(item: int) -> None:
        await asyncio.sleep(0.005)
        handled.append(item)

    stats = asyncio.run(pipelined(keys, 5, read_part, handle, workers=3, ahead=1))
    assert read_order == [keys[i:i + 5] for i in range(0, 40, 5)]
    assert sorted(handled) == [k * 10 for k in keys]
    assert stats["parts"] == 8
    # later parts were read while items of earlier ones were still unhandled (the overlap) ...
    assert max(unhandled_at_read) > 0
    # ... but never more than the queue (one part) plus what the handlers hold
    assert max(unhandled_at_read) <= 5 + 3


def test_a_failing_handler_ends_the_reads_and_its_error_is_raised() -> None:
    reads: list[list[int]] = []

    async def read_part(part: list[int]) -> list[int]:
        reads.append(part)
        await asyncio.sleep(0.001)
        return part

    async def handle(item: int) -> None:
        if item == 7:
            raise KeyError("item 7")
        await asyncio.sleep(0.001)

    with pytest.raises(KeyError, match="item 7"):
        asyncio.run(pipelined(list(range(1000)), 5, read_part, handle, workers=2))
    assert len(reads) < 10  # the reader stopped soon after: not all 200 parts were read


def test_a_failing_read_is_raised_and_nothing_waits_forever() -> None:
    async def read_part(part: list[int]) -> list[int]:
        if part[0] >= 10:
            raise ConnectionError("AX went away")
        return part

    async def handle(item: int) -> None:
        await asyncio.sleep(0)

    with pytest.raises(ConnectionError, match="AX went away"):
        asyncio.run(asyncio.wait_for(pipelined(list(range(30)), 5, read_part, handle, workers=4), timeout=10))
