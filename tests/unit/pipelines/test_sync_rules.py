"""Echo suppression, skip-unchanged, field ownership and the conflict log (pipelines.sync,
pipelines.hashing) without Ray or any system: the default customer flow against an in-memory
shop and AX that speak the flow's operations, and an in-memory sync store."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from connectors.errors import ConfigError
from pipelines.executor import run_flow
from pipelines.hashing import canonical, content_hash, fingerprint, project
from pipelines.lint import lint_flow
from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry, load_flow_bundle, loaded_from_record
from pipelines.specs import parse_flow
from pipelines.sync import field_owner, side_plans

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------ hashing

def test_canonical_form_ignores_wire_format_differences() -> None:
    assert content_hash({"a": 3, "b": "x"}) == content_hash({"b": "x", "a": "3.00"})
    assert content_hash({"a": Decimal("3.10")}) == content_hash({"a": 3.1}) == content_hash({"a": "3.1"})
    assert content_hash({"a": True, "b": None, "c": ""}) == content_hash({"a": "1"})
    assert content_hash({"Blocked": "No"}) == content_hash({})  # AX leaves a default enum out
    assert content_hash({"a": "1"}) != content_hash({"a": "2"})
    assert content_hash({"a": [1, 2]}) != content_hash({"a": [2, 1]})  # lists keep their order
    assert canonical({"n": "007", "z": "0.0", "t": "1e3x"}) == {"n": "7", "t": "1e3x", "z": "0"}
    assert content_hash({"a": 1}).startswith("c:") and len(content_hash({})) == 26


def test_projection_keeps_the_fields_a_document_writes() -> None:
    shape = {"lastname": None, "DirParty": {"Name": None, "Views": [{"Locator": None}]}}
    record = {"lastname": "Doe", "date_upd": "x", "DirParty": {"Name": "J D", "Other": 1,
                                                                "Views": [{"Locator": "a@b", "RecId": 9}]}}
    assert project(record, shape) == {"lastname": "Doe", "DirParty": {"Name": "J D", "Views": [{"Locator": "a@b"}]}}
    assert fingerprint(record, shape) == content_hash({"lastname": "Doe", "DirParty": {"Name": "J D",
                                                                                      "Views": [{"Locator": "a@b"}]}})
    assert fingerprint({**record, "lastname": "Roe"}, shape) != fingerprint(record, shape)


# ------------------------------------------------------------------ an in-memory shop and AX

class World:
    """A shop and an AX holding customers, speaking the customer flow's operations."""

    def __init__(self) -> None:
        self.shop = {"5": {"id": "5", "firstname": "Ann", "lastname": "Lee", "email": "ann@example.com",
                           "id_default_group": "3", "id_lang": "1", "active": "1", "date_upd": "2026-01-01 10:00:00",
                           "addresses": []}}
        self.ax: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, str, dict[str, Any]]] = []
        self.clock = 0

    def _tick(self) -> str:
        self.clock += 1
        return str(self.clock)

    async def call(self, system: str, operation: str, payload: Any, *, mode: str | None,
                   context: Mapping[str, Any]) -> Any:
        if operation == "customers.get":
            return copy.deepcopy(self.shop[str(payload["key"])])
        if operation == "CustomerService.read":
            return copy.deepcopy(self.ax[str(payload["key"])])
        doc = {k: v for k, v in payload.items() if v is not None}
        self.writes.append((system, operation, doc))
        if operation == "CustomerService.upsert":
            account = doc["AccountNum"]
            merged = {**self.ax.get(account, {}), **doc, "RecVersion": self._tick()}
            self.ax[account] = merged
            return {"AccountNum": account}
        if operation == "customers.upsert":
            key = str(doc.pop("id", None) or context.get("ps_customer_id"))
            doc.pop("passwd", None)
            self.shop[key] = {**self.shop[key], **doc, "date_upd": f"2026-01-01 10:00:{self._tick():0>2}"}
            return {"id": key}
        if operation == "addresses.upsert":
            return {"id": "77"}
        raise AssertionError(operation)


class MemorySync:
    """The sync-state part of the store, in memory (same contract as runtime.store)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.conflicts: list[dict[str, Any]] = []

    async def get_sync_state(self, entity: str, key: str) -> dict[str, Any] | None:
        row = self.rows.get((entity, key))
        return dict(row) if row else None

    async def put_sync_state(self, entity: str, key: str, *, source_version: str | None = None,
                             ps_hash: str | None = None, ax_hash: str | None = None, written: bool = True) -> bool:
        row = self.rows.setdefault((entity, key), {"source_version": None, "ps_hash": None, "ax_hash": None,
                                                    "ps_hash_at": None, "ax_hash_at": None})
        for name, value in (("source_version", source_version), ("ps_hash", ps_hash), ("ax_hash", ax_hash)):
            if value is not None:
                row[name] = value
                if name != "source_version":
                    row[f"{name}_at"] = time.time() if written else None
        return True

    async def add_conflicts(self, entries: list[dict[str, Any]]) -> int:
        self.conflicts += entries
        return len(entries)


def shop_msg(world: World, n: int) -> dict[str, Any]:
    return {"id": f"S{n}", "key": "5", "source": "prestashop", "event": "customer.updated", "payload": {"id": "5"},
            "source_version": world.shop["5"]["date_upd"]}


def ax_msg(world: World, n: int) -> dict[str, Any]:
    return {"id": f"A{n}", "key": "PS-5", "source": "ax", "event": "customer.updated",
            "payload": {"AccountNum": "PS-5"}, "source_version": world.ax["PS-5"]["RecVersion"]}


async def run(flow: Any, world: World, sync: MemorySync, message: dict[str, Any]) -> Any:
    context = {"ax_customer_account": "PS-5" if "PS-5" in world.ax else None, "ps_customer_id": "5",
               "new_password": "Generated-pass-1"}
    outcome = await run_flow(flow, message, world, context, sync=sync)
    await sync.put_sync_state("customer", message["key"], source_version=message["source_version"])
    return outcome


@pytest.fixture
def flow() -> Any:
    return FlowRegistry().get("customer_sync")


async def test_the_shops_echo_of_a_write_back_is_skipped_and_a_real_change_is_not(flow: Any) -> None:
    world, sync = World(), MemorySync()
    assert (await run(flow, world, sync, shop_msg(world, 1))).status == "done"  # creates the AX customer
    world.ax["PS-5"]["Blocked"] = "All"  # AX blocks the customer
    world.ax["PS-5"]["RecVersion"] = "50"
    applied = await run(flow, world, sync, ax_msg(world, 1))
    assert applied.status == "done" and world.shop["5"]["active"] == "0"
    writes = len(world.writes)
    echo = await run(flow, world, sync, shop_msg(world, 2))
    assert echo.status == "skipped_echo" and echo.results["echo"]["source"] == "prestashop"
    assert {s["id"]: s["status"] for s in echo.steps}["load-ax"] == "unchanged"
    assert len(world.writes) == writes  # nothing written anywhere
    world.shop["5"]["email"] = "ann.new@example.com"
    world.shop["5"]["date_upd"] = "2026-01-01 11:00:00"
    changed = await run(flow, world, sync, shop_msg(world, 3))
    assert changed.status == "done" and world.writes[-1][0] == "ax"
    assert world.ax["PS-5"]["DirParty"]["DirPartyContactInfoView"][0]["Locator"] == "ann.new@example.com"


async def test_axs_echo_of_our_own_write_is_skipped_even_when_mapping_back_is_lossy(flow: Any) -> None:
    world, sync = World(), MemorySync()
    world.shop["5"]["id_lang"] = "0"  # no language: AX gets its default, which maps back to "1"
    assert (await run(flow, world, sync, shop_msg(world, 1))).status == "done"  # creates the AX customer
    world.ax["PS-5"]["RecVersion"] = "40"  # AX's poll lists the bridge's own create
    writes, shop = len(world.writes), copy.deepcopy(world.shop)
    echo = await run(flow, world, sync, ax_msg(world, 1))
    assert echo.status == "skipped_echo" and echo.results["echo"]["source"] == "ax"
    statuses = {s["id"]: s["status"] for s in echo.steps}
    assert statuses["load-ps"] == "echo" and statuses["load-ps-address"] == "skipped"  # AX has no address
    assert len(world.writes) == writes and world.shop == shop  # the shop keeps id_lang "0"
    # a real AX change afterwards is no echo: it reaches the shop (with what AX now says)
    world.ax["PS-5"]["Blocked"] = "All"
    world.ax["PS-5"]["RecVersion"] = "41"
    applied = await run(flow, world, sync, ax_msg(world, 2))
    assert applied.status == "done" and world.shop["5"]["active"] == "0"
    assert world.writes[-1][1] == "customers.upsert" and len(world.writes) == writes + 1


async def test_both_sides_changed_each_field_takes_its_owners_value_and_the_losers_are_logged(flow: Any) -> None:
    world, sync = World(), MemorySync()
    await run(flow, world, sync, shop_msg(world, 1))
    await run(flow, world, sync, ax_msg(world, 1))
    writes = len(world.writes)
    # AX held what the shop sent: nothing was written to the shop, so the shop's next message is
    # no echo, just nothing new
    again = await run(flow, world, sync, shop_msg(world, 2))
    assert again.status == "done" and {s["id"]: s["status"] for s in again.steps}["load-ax"] == "unchanged"
    assert len(world.writes) == writes and sync.conflicts == []
    # the shop renames the customer and moves them to group 4; AX blocks them and renames them too
    world.shop["5"].update(lastname="Shopside", id_default_group="4", date_upd="2026-01-02 09:00:00")
    world.ax["PS-5"].update(Blocked="All", RecVersion="90")
    world.ax["PS-5"]["DirParty"]["PersonName"]["LastName"] = "Axside"
    outcome = await run(flow, world, sync, ax_msg(world, 2))
    assert outcome.status == "done"
    assert world.shop["5"]["lastname"] == "Shopside"  # owned by the shop (customer_sync owners)
    assert world.shop["5"]["id_default_group"] == "3"  # owned by AX (the mapping rule's owner)
    assert world.shop["5"]["active"] == "0"  # no owner: the change processed last wins
    logged = {c["field"]: c for c in sync.conflicts}
    assert set(logged) == {"lastname", "id_default_group", "active"}
    assert (logged["lastname"]["winner"], logged["lastname"]["ps_value"], logged["lastname"]["ax_value"]) == \
        ("prestashop", "Shopside", "Axside")
    assert logged["id_default_group"]["winner"] == "ax" and logged["id_default_group"]["ps_value"] == "4"
    assert logged["active"]["winner"] == "ax" and logged["active"]["rule"].startswith("no owner")
    assert {c["ax_version"] for c in sync.conflicts} == {"90"}
    assert {c["ps_version"] for c in sync.conflicts} == {"2026-01-02 09:00:00"}
    # the shop's echo of that write carries the name the shop owns, which AX lost: it goes to AX,
    # and then both sides agree: AX's echo of it is skipped
    converged = await run(flow, world, sync, shop_msg(world, 3))
    assert converged.status == "done" and world.ax["PS-5"]["DirParty"]["PersonName"]["LastName"] == "Shopside"
    assert world.ax["PS-5"]["Blocked"] == "All"  # the shop now holds AX's blocking: it stays
    writes = len(world.writes)
    assert (await run(flow, world, sync, ax_msg(world, 3))).status == "skipped_echo"
    assert len(world.writes) == writes


async def test_without_a_sync_store_nothing_is_skipped(flow: Any) -> None:
    world = World()
    await run_flow(flow, shop_msg(world, 1), world, {"ps_customer_id": "5"})
    await run_flow(flow, shop_msg(world, 2), world, {"ax_customer_account": "PS-5", "ps_customer_id": "5"})
    assert [w[1] for w in world.writes] == ["CustomerService.upsert", "CustomerService.upsert"]


# ------------------------------------------------------------------ ownership declarations

def test_field_owner_precedence_rule_then_owners_then_flow_default(flow: Any) -> None:
    plans = side_plans(flow)
    to_shop = plans["load-ps"].rules
    assert field_owner(to_shop["id_default_group"], "id_default_group", flow.spec) == "ax"  # the rule's owner
    assert field_owner(to_shop["email"], "email", flow.spec) == "prestashop"  # the flow's owners table
    assert field_owner(to_shop["active"], "active", flow.spec) is None
    spec = flow.spec.model_copy(update={"owner": "ax"})
    assert field_owner(to_shop["active"], "active", spec) == "ax"  # the flow's default
    assert plans["load-ps"].primary and not plans["load-ps-address"].primary
    assert plans["load-ax"].key_field == "AccountNum" and plans["load-ps"].key_field == "id"


def test_owner_values_are_checked_with_a_clear_message() -> None:
    data = {"flow": "f", "entity": "customer", "owner": "shop", "owners": {"email": "erp"},
            "triggers": [{"type": "webhook", "event": "customer.updated"}],
            "steps": [{"id": "x", "kind": "guard", "rules": [{"if": "true", "reason": "r"}]}]}
    with pytest.raises(ConfigError) as info:
        parse_flow(data)
    text = "\n".join(info.value.problems)
    assert "unknown owner 'shop' ('shop' is spelled prestashop)" in text
    assert "owners: field 'email': unknown owner 'erp'" in text


def test_lint_names_an_owners_entry_that_is_no_field_and_one_that_contradicts_a_rule(tmp_path: Any) -> None:
    src = FlowRegistry().get("customer_sync").spec.file
    text = open(src, encoding="utf-8").read().replace("  email: prestashop\n", "  emial: prestashop\n")
    text = text.replace("  id_default_group: ax\n", "  id_default_group: prestashop\n")
    (tmp_path / "customer_sync.yaml").write_text(text)
    loaded = load_flow_bundle(tmp_path / "customer_sync.yaml")
    messages = [p.format() for p in lint_flow(loaded) if p.severity == "error"]
    assert any("owners.emial: 'emial' is not a target field" in m and "did you mean 'email'" in m for m in messages)
    assert any("'id_default_group' is owned by ax in mapping ax_customer_to_ps_customer" in m for m in messages)
    assert lint_flow(FlowRegistry().get("customer_sync")) == []


# ------------------------------------------------------------------ deployed content

def test_a_deployed_record_rebuilds_the_same_flow_and_refuses_a_damaged_one() -> None:
    for name, loaded in FlowRegistry().flows().items():
        record = json.loads(json.dumps(loaded.record()))
        rebuilt = loaded_from_record(record)
        assert rebuilt.version_id == loaded.version_id, name
        assert rebuilt.spec.owners == loaded.spec.owners
    record = json.loads(json.dumps(FlowRegistry().get("customer_sync").record()))
    record["mapping_specs"]["ax_customer_to_ps_customer"]["lookups"]["customer_group"]["values"]["B2B"] = "9"
    with pytest.raises(ConfigError, match="does not rebuild to itself"):
        loaded_from_record(record)
    with pytest.raises(ConfigError, match="carries no content"):
        loaded_from_record({"name": "old", "version_id": "sha256:x", "steps": []})


# ------------------------------------------------------------------ orders: a one-way flow with a write-back

class OrderWorld:
    """A shop order (the default order flow's sample record) and AX, speaking the order flow's
    operations: AX sales orders found by PurchOrderFormNum, order histories that move the order."""

    def __init__(self, state: str = "2") -> None:
        sample = json.loads((DEFAULT_FLOWS_DIR / "samples" / "ps_order_to_ax.json").read_text(encoding="utf-8"))
        self.order = {**sample["record"], "current_state": state, "date_upd": "2026-01-01 10:00:00"}
        self.sales_orders: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, str, dict[str, Any]]] = []

    async def call(self, system: str, operation: str, payload: Any, *, mode: str | None,
                   context: Mapping[str, Any]) -> Any:
        if operation == "orders.get":
            return copy.deepcopy(self.order)
        doc = {k: v for k, v in payload.items() if v is not None}
        if operation != "SalesOrderService.create":
            self.writes.append((system, operation, doc))
        if operation == "CustomerService.create":
            return {"AccountNum": doc["AccountNum"], "existed": False}
        if operation == "SalesOrderService.create":
            existing = next((sid for sid, o in self.sales_orders.items()
                             if o["PurchOrderFormNum"] == doc["PurchOrderFormNum"]), None)
            sales_id = existing or f"SO-{len(self.sales_orders) + 1}"
            if existing is None:  # found by the shop's reference: only a new order is a write
                self.sales_orders[sales_id] = doc
                self.writes.append((system, operation, doc))
            return {"SalesId": sales_id, "PurchOrderFormNum": doc["PurchOrderFormNum"], "existed": bool(existing)}
        if operation == "order_histories.create":
            self.order["current_state"] = str(doc["id_order_state"])
            self.order["date_upd"] = self.order["date_upd"][:-2] + "59"  # the shop's date_upd moves on
            return {"id": "900", "id_order": doc["id_order"], "id_order_state": doc["id_order_state"]}
        raise AssertionError(operation)


def order_msg(world: OrderWorld, n: int, event: str = "order.updated") -> dict[str, Any]:
    return {"id": f"O{n}", "key": str(world.order["id"]), "source": "prestashop", "event": event,
            "payload": {"id": world.order["id"]}, "source_version": world.order["date_upd"]}


async def run_order(flow: Any, world: OrderWorld, sync: MemorySync, message: dict[str, Any]) -> Any:
    context = {"ax_customer_account": "PS-7" if world.sales_orders else None}
    return await run_flow(flow, message, world, context, sync=sync)


@pytest.fixture
def order_flow() -> Any:
    return FlowRegistry().get("ps_order_to_ax")


async def test_the_shops_echo_of_the_order_write_back_is_skipped_once(order_flow: Any) -> None:
    world, sync = OrderWorld(), MemorySync()
    created = await run_order(order_flow, world, sync, order_msg(world, 1, "order.created"))
    assert created.status == "done"
    assert [w[1] for w in world.writes] == ["CustomerService.create", "SalesOrderService.create",
                                             "order_histories.create"]
    assert world.order["current_state"] == "3"  # the write-back moved the paid order on
    writes = len(world.writes)
    # the shop announces that move: the sales order maps to what the bridge wrote, and the
    # order's write-back to the shop (which no longer applies) is the bridge's own
    echo = await run_order(order_flow, world, sync, order_msg(world, 2))
    assert echo.status == "skipped_echo" and echo.results["echo"]["source"] == "prestashop"
    statuses = {s["id"]: s["status"] for s in echo.steps}
    assert (statuses["load-order"], statuses["write-back"], statuses["load-customer"]) == \
        ("unchanged", "skipped", "skipped")
    assert len(world.writes) == writes
    # the same notification again is no second echo: simply done; the sales order is looked up
    # by the shop's reference and found, nothing is written
    again = await run_order(order_flow, world, sync, order_msg(world, 3))
    assert again.status == "done" and again.results["load-order"]["existed"] is True
    assert len(world.writes) == writes and len(world.sales_orders) == 1


async def test_an_order_update_without_a_bridge_write_back_is_done_and_a_real_change_reaches_ax(
        order_flow: Any) -> None:
    world, sync = OrderWorld(state="10"), MemorySync()  # awaiting bank wire: no write-back
    assert (await run_order(order_flow, world, sync, order_msg(world, 1, "order.created"))).status == "done"
    assert [w[1] for w in world.writes] == ["CustomerService.create", "SalesOrderService.create"]
    # an update the flow's mappings do not read, with no bridge write to the shop behind it
    world.order["date_upd"] = "2026-01-01 11:00:00"
    repeat = await run_order(order_flow, world, sync, order_msg(world, 2))
    assert repeat.status == "done" and repeat.results["load-order"]["existed"] is True
    assert len(world.writes) == 2
    # the staff change the delivery city: the sales order goes to AX's lookup again (no second order)
    world.order["address_delivery"] = {**world.order["address_delivery"], "city": "Lyon"}
    changed = await run_order(order_flow, world, sync, order_msg(world, 3))
    assert changed.status == "done" and changed.results["load-order"]["existed"] is True
    assert len(world.sales_orders) == 1 and len(world.writes) == 2
    # paid now: the write-back happens once, and the shop's echo of it is skipped
    world.order["current_state"] = "2"
    world.order["date_upd"] = "2026-01-01 11:30:00"
    paid = await run_order(order_flow, world, sync, order_msg(world, 4))
    assert paid.status == "done" and world.writes[-1][1] == "order_histories.create"
    writes = len(world.writes)
    assert (await run_order(order_flow, world, sync, order_msg(world, 5))).status == "skipped_echo"
    assert len(world.writes) == writes
