"""The chaos campaign in its CI form: ``benchmarks/chaos.py`` as its ``--quick`` runs it (1,000
orders at 5 a second, AX down 20 s; ``ORDERS``, run by the session fixture of conftest.py).

Orders placed in the shop sandbox go through the whole order-to-cash cycle while
every fault of the seeded schedule happens (entity actors, dispatcher and Serve replica killed,
the Ray worker node hosting the entity actors removed, AX down, a shop 503/429 storm with
Retry-After, proxied connections cut and stalled, the order actor's process ended between the AX
create and the cross-reference write, PostgreSQL restarted). The verdict comes from both
sandboxes' own data: every order once in AX, its tracking number, Shipped state and AX invoice
once in the shop, its one payment not doubled: the shop's own for an order paid at checkout, and
for a bank-wire order the one that AX's settlement of its invoice brought (none before); the journal took every webhook the shop's emitter
delivered; nothing unfinished and nothing dead."""

from __future__ import annotations

import re

import pytest

from benchmarks._chaos_faults import KINDS
from tests.chaos.conftest import ORDERS, CampaignRun

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]

FIGURES = ("chaos_orders", "chaos_lost", "chaos_duplicates", "chaos_stuck", "chaos_dead", "chaos_drain_s")


# the campaign runs in the first chaos test's setup (conftest.py): minutes, not the suite's 300 s
@pytest.mark.timeout(2700)
def test_orders_survive_the_seeded_chaos_schedule_exactly_once(chaos_campaign: CampaignRun) -> None:
    tail = chaos_campaign.output[-6000:]
    result = chaos_campaign.result
    assert result is not None, tail

    # every fault of the schedule happened, the worker node's loss included
    injected = [f["kind"] for f in result["faults"]]
    assert sorted(set(injected)) == sorted({*KINDS, "remove_worker_node"}), result["faults"]
    assert not [f for f in result["faults"] if f["what"].startswith("could not inject")], result["faults"]
    assert result["crash_fired"], "the crash between the AX create and the xref write never happened"
    assert result["proxies"]["ps"]["cuts"] == KINDS["cut_ps"] and result["proxies"]["ax"]["stalls"] == 1
    # entity actors ran on the worker node, and after its loss every one runs (elsewhere)
    nodes = result["entity_actor_nodes"]
    assert nodes["worker"] in nodes["before"].values(), nodes
    assert all(n not in ("", nodes["worker"]) for n in nodes["after"].values()), nodes

    # the invariants, from the sandboxes' own data
    assert result["orders"] == ORDERS
    assert (result["lost"], result["duplicates"], result["stuck"]) == (0, 0, 0), result["details"]
    assert result["dead"] == [], result["dead"]  # no fault here is permanent: nothing may die
    assert result["packed"] == result["invoiced"] == ORDERS
    # the bank settled every invoice in AX; each bank-wire order got exactly AX's payment, once
    assert result["settled"] >= ORDERS
    assert 0 < result["wire"] == result["paid_by_ax"], (result["wire"], result["paid_by_ax"])
    # the journal holds every webhook the shop's emitter saw acknowledged (and may hold one it gave up on)
    emitter = result["emitter"]
    assert 0 < emitter["delivered"] <= result["journal_webhooks"] <= emitter["delivered"] + emitter["failed"]
    assert chaos_campaign.returncode == 0, tail

    figures = dict(re.findall(r"^(chaos_[a-z_]+): (\S+)$", chaos_campaign.output, re.M))
    assert set(FIGURES) <= set(figures), tail
    assert [figures[f] for f in FIGURES[:5]] == [str(ORDERS), "0", "0", "0", "0"]
