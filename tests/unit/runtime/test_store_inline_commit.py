"""The group commit's two paths on SQLite: on the caller's loop when the store is free, on the
writer thread when another writer holds it -- and the loop never waits for that writer."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from runtime.messages import Message, new_message_id
from runtime.store import AsyncStore, Store


def _msg(i: int) -> Message:
    return Message(id=new_message_id(), entity="order", key=str(i), source="prestashop", event="order.created",
                   payload={"id": i}, idempotency_key=f"inline-{i}")


async def test_appends_of_one_loop_turn_commit_together_on_the_loop(tmp_path: Path) -> None:
    astore = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}"))
    results = await asyncio.gather(*(astore.append(_msg(i)) for i in range(40)))
    assert all(created for _, created in results)
    assert (astore.inline_batches, astore.thread_batches) == (1, 0)
    again = await astore.append(_msg(3))  # a duplicate answers the first id
    assert again == (results[3][0], False)
    assert astore.sync.counts() == {"order": {"new": 40}}
    astore.close()


async def test_after_a_shared_batch_the_next_one_waits_a_loop_turn_for_more_appends(tmp_path: Path) -> None:
    astore = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}"))
    loop = asyncio.get_running_loop()

    async def two_turns_apart(first: int) -> None:
        later: asyncio.Future[asyncio.Task[tuple[str, bool]]] = loop.create_future()
        # the second append starts one loop turn after the first
        loop.call_soon(lambda: later.set_result(asyncio.ensure_future(astore.append(_msg(first + 1)))))
        await asyncio.gather(astore.append(_msg(first)), await later)

    await astore.append(_msg(0))  # alone: committed at the end of its turn
    assert astore.inline_batches == 1
    await two_turns_apart(10)  # after a batch of one: no waiting, each turn commits its own
    assert astore.inline_batches == 3
    await asyncio.gather(*(astore.append(_msg(i)) for i in range(20, 24)))  # a shared batch ...
    assert astore.inline_batches == 4
    await two_turns_apart(30)  # ... so the next commit waits a turn: both appends in one batch
    assert astore.inline_batches == 5
    assert astore.sync.counts() == {"order": {"new": 9}}
    astore.close()


async def test_a_busy_store_sends_the_batch_to_the_writer_thread_and_the_loop_keeps_running(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    astore, other = AsyncStore(Store(url)), Store(url)  # `other`: another process's writer
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with other.backend.tx():
            holding.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    await asyncio.get_running_loop().run_in_executor(None, holding.wait)
    pending = asyncio.ensure_future(astore.append(_msg(1)))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not pending.done()  # waiting for the other writer ...
    release.set()  # ... on the writer thread: were the loop blocked, nobody could release it
    mid, created = await pending
    holder.join()
    assert created and (astore.inline_batches, astore.thread_batches) == (0, 1)
    assert astore.sync.get(mid) is not None
    other.close()
    astore.close()


def test_the_sqlite_url_chooses_the_synchronous_level_and_refuses_anything_else(tmp_path: Path) -> None:
    import pytest

    from runtime.store import backend_for_url

    full = backend_for_url(f"sqlite:///{tmp_path / 'a.db'}?synchronous=full")
    assert full.synchronous == "FULL"  # type: ignore[attr-defined]
    assert full.conn().execute("PRAGMA synchronous").fetchone()[0] == 2  # SQLite's code for FULL
    assert backend_for_url(f"sqlite:///{tmp_path / 'b.db'}").synchronous == "NORMAL"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="synchronous=NORMAL|FULL|EXTRA"):
        backend_for_url(f"sqlite:///{tmp_path / 'c.db'}?synchronous=OFF")
    full.close()
