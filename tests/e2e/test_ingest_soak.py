"""The soak's short form (``benchmarks/ingest.py --soak`` sends 100,000): 2,000 signed webhooks
at full speed over 16 keep-alive connections, in the session's Serve mode (the fast mode where
HAProxy is usable); afterwards every accepted webhook is in the journal exactly once, under the
message id its answer named, and nothing was refused. No timing is asserted."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from benchmarks._soak import change_key, check_journal, journal_rows, make_webhooks, send_all
from runtime.store import Store
from tests.e2e.support import SECRET, TOKEN

pytestmark = pytest.mark.e2e

N = 2_000


async def test_2000_webhooks_at_full_speed_each_accepted_one_is_journaled_exactly_once(bridge_factory,
                                                                                      serve_port: int) -> None:
    # ingest alone: no nudges, so the entity actors do not compete with the sender for the CPUs
    running = bridge_factory(server={"port": serve_port, "webhook_secrets": [SECRET], "admin_token": TOKEN,
                                     "nudge": False})
    url = urlsplit(running.url)
    requests = make_webhooks(SECRET, N, "t", url.netloc)
    answers = await send_all(url.hostname, url.port, requests, connections=16)
    assert len(answers) == N
    store = Store(running.settings.store_url())
    try:
        rows = journal_rows(store)
    finally:
        store.close()
    assert check_journal(answers, rows) == []
    assert len(rows) == N and len({mid for mid, _ in rows}) == N
    assert {key for _, key in rows} == {change_key(i) for i in range(1, N + 1)}
    # a 200 only where the first send's answer was lost to a connection error
    assert all(a.status == 202 or a.retries > 0 for a in answers)


def test_the_journal_check_finds_each_kind_of_loss() -> None:
    """The check itself must be able to fail: a missing, a doubled and a refused webhook."""
    from benchmarks._soak import Answer

    answers = [Answer(202, "m1"), Answer(202, "m2"), Answer(401, None)]
    rows = [("m1", change_key(1)), ("m1b", change_key(1))]
    problems = check_journal(answers, rows)
    assert any("refused" in p for p in problems)
    assert any("more than once" in p for p in problems)
    assert any("not in the journal" in p for p in problems)
