"""Operator commands against a real admin API: the Starlette app with a real store, served over
HTTP on the loopback interface, driven by the CLI as a user would (80 columns, not a terminal)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors._serving import serve_in_thread
from runtime.app import build_app
from runtime.cli import app
from runtime.messages import Message, new_message_id
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

TOKEN = "admin-token-for-cli-tests"
REASON = ("PrestaShop answered GET customers/42 with HTTP 404: the customer does not exist in the shop; "
          "create it there or fix the order's id_customer, then replay the message.")
runner = CliRunner()


def _append(store: Store, key: str, event: str = "order.created") -> str:
    return store.append(Message(id=new_message_id(), entity="order", key=key, source="prestashop", event=event,
                                payload={"id": key}, idempotency_key=new_message_id(), received_at=time.time()))[0]


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[tuple[Store, dict[str, str]]]:
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}"))
    api = build_app(store, webhook_secrets=["whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None)
    s = store.sync
    ids = {"done": _append(s, "11"), "dead": _append(s, "12"), "new": _append(s, "13")}
    _, token = s.claim_next("order", "11", 30)
    s.complete(ids["done"], token, flow="ps_order_to_ax", detail={
        "status": "done", "flow_version": "sha256:2101c0968b4a3f31",
        "steps": ["extract-order:ok", "map-order:ok", "load-order:ok", "write-back:ok"],
        "results": {"load-order": {"SalesId": "SO-000011", "PurchOrderFormNum": "HFXSDEIMZ", "existed": False}}})
    _, token = s.claim_next("order", "12", 30)
    s.fail(ids["dead"], token, {"type": "NotFoundError", "message": REASON, "system": "prestashop"},
           retry_at=None, flow="ps_order_to_ax")
    with serve_in_thread(api, name="admin API") as url:
        env = {"PRESTA_AX_URL": url, "PRESTA_AX_ADMIN_TOKEN": TOKEN, "COLUMNS": "80",
               "PRESTA_AX_DATA_DIR": str(tmp_path / "data")}
        yield s, {**ids, **{f"env:{k}": v for k, v in env.items()}}
    store.close()


def _run(ids: dict[str, str], *args: str) -> Any:
    env = {k[4:]: v for k, v in ids.items() if k.startswith("env:")}
    return runner.invoke(app, list(args), env=env)


def test_messages_list_has_a_flow_column(bridge) -> None:
    _, ids = bridge
    r = _run(ids, "messages", "list")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert all(len(line) <= 80 for line in lines), r.output
    header = next(line for line in lines if line.lstrip().startswith("id "))
    assert header.split() == ["id", "record", "event", "status", "flow"]
    row = next(line for line in lines if line.lstrip().startswith(ids["done"]))  # the id whole, never folded
    assert row.split()[1:6] == ["order", "11", "order.created", "done", "ps_order_to_ax"]
    wide = runner.invoke(app, ["messages", "list"], env={**{k[4:]: v for k, v in ids.items() if k.startswith("env:")},
                                                         "COLUMNS": "120"})
    header = next(line for line in wide.output.splitlines() if line.lstrip().startswith("id "))
    assert header.split() == ["id", "record", "event", "status", "flow", "tries", "received"]


def test_messages_list_refuses_an_unknown_status_and_names_the_valid_ones(bridge) -> None:
    _, ids = bridge
    r = _run(ids, "messages", "list", "--status", "finished")
    assert r.exit_code == 2
    assert "new, processing, retry, done, dead, discarded" in r.output


def test_messages_show_gives_the_attempts_flow_steps_and_results(bridge) -> None:
    _, ids = bridge
    r = _run(ids, "messages", "show", ids["done"])
    assert r.exit_code == 0, r.output
    assert "flow: ps_order_to_ax" in r.output
    assert "steps: extract-order ok, map-order ok, load-order ok, write-back ok" in r.output
    assert "load-order: SalesId=SO-000011, PurchOrderFormNum=HFXSDEIMZ, existed=False" in r.output
    assert "flow version: sha256:2101c0968b4a3f31" in r.output
    dead = _run(ids, "messages", "show", ids["dead"])
    assert f"NotFoundError system=prestashop: {REASON}" in dead.output
    assert dead.output.count(REASON) == 1  # the dead event does not repeat the failure above it


def test_dlq_list_shows_the_whole_reason_on_one_line_at_80_columns(bridge) -> None:
    _, ids = bridge
    r = _run(ids, "dlq", "list")
    assert r.exit_code == 0, r.output
    assert len(REASON) > 80
    assert f"  NotFoundError: {REASON}" in r.output.splitlines()  # whole, and not hard-wrapped
    assert ids["dead"] in r.output and ids["done"] not in r.output
    assert r.output.splitlines()[-1] == "1 message(s) in the dead-letter queue."


def test_dlq_replay_of_an_unknown_id_fails_and_one_not_dead_is_named_with_its_status(bridge) -> None:
    store, ids = bridge
    unknown = _run(ids, "dlq", "replay", "01NOSUCHMESSAGE")
    assert unknown.exit_code == 1
    assert "01NOSUCHMESSAGE: no message has this id" in unknown.output
    not_dead = _run(ids, "dlq", "replay", ids["done"])
    assert not_dead.exit_code == 0
    assert f"{ids['done']}: not in the dead-letter queue: status done" in not_dead.output
    assert "replayed 0" in not_dead.output and store.get(ids["done"]).status == "done"
    ok = _run(ids, "dlq", "replay", ids["dead"])
    assert ok.exit_code == 0 and "replayed 1" in ok.output and store.get(ids["dead"]).status == "new"


def test_dlq_discard_tells_unknown_ids_from_messages_not_dead(bridge) -> None:
    store, ids = bridge
    r = _run(ids, "dlq", "discard", ids["dead"], ids["new"], "01NOSUCH", "--reason", "duplicate")
    assert r.exit_code == 1
    assert "discarded 1" in r.output
    assert f"{ids['new']}: not in the dead-letter queue: status new" in r.output
    assert "01NOSUCH: no message has this id" in r.output
    assert store.get(ids["dead"]).status == "discarded"


def test_status_counts_every_status(bridge) -> None:
    _, ids = bridge
    r = _run(ids, "status")
    assert r.exit_code == 0, r.output
    order_row = next(line for line in r.output.splitlines() if line.strip("│ ").startswith("order"))
    assert [c.strip() for c in order_row.strip("│ ").split("│")][1:] == ["1", "0", "0", "1", "1", "0", "0", "0"]  # ..., held, rejected
