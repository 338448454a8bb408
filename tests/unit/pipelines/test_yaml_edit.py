"""Round-trip edits of flow and mapping files (pipelines.yaml_edit): an unedited document dumps
to its exact text, and each edit changes only the lines it is about."""

from __future__ import annotations

import difflib

import pytest

from pipelines.registry import DEFAULT_FLOWS_DIR
from pipelines.yaml_edit import EditError, RoundTripFile, apply_edits

pytestmark = pytest.mark.unit

FLOW = DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml"
ORDER_MAPPING = DEFAULT_FLOWS_DIR / "mappings" / "ps_order_to_ax_sales_order.yaml"
M = "ps_order_to_ax_sales_order"


def _docs() -> tuple[RoundTripFile, dict[str, RoundTripFile]]:
    return (RoundTripFile(FLOW.read_text(encoding="utf-8"), FLOW.name),
            {M: RoundTripFile(ORDER_MAPPING.read_text(encoding="utf-8"), ORDER_MAPPING.name)})


def _changes(doc: RoundTripFile) -> list[str]:
    """The +/- lines of the diff between the document's original text and its dump."""
    diff = difflib.unified_diff(doc.original.splitlines(), doc.dump().splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("path", sorted(DEFAULT_FLOWS_DIR.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_file_dumps_back_to_its_exact_text(path: object) -> None:
    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    assert RoundTripFile(text).dump() == text


def test_a_new_rule_is_one_added_line_above_the_blank_line_that_separated_the_sections() -> None:
    flow, docs = _docs()
    changed = apply_edits(flow, docs, [{"op": "set_rule", "mapping": M, "field": "ContactPersonId",
                                        "rule": {"from": "address_delivery.phone", "default": "none"}}])
    assert changed == {M}
    assert _changes(docs[M]) == ["+  ContactPersonId: {from: address_delivery.phone, default: none}"]
    assert _changes(flow) == []
    lines = docs[M].dump().splitlines()
    at = lines.index("  ContactPersonId: {from: address_delivery.phone, default: none}")
    assert lines[at + 1] == "" and lines[at + 2] == "children:"  # the blank line stays before children


def test_a_rule_in_a_child_mapping_a_changed_rule_and_a_removed_rule() -> None:
    flow, docs = _docs()
    apply_edits(flow, docs, [
        {"op": "set_rule", "mapping": M, "child": "SalesLine", "field": "TaxItemGroup", "rule": {"const": "FULL"}},
        {"op": "set_rule", "mapping": M, "field": "DlvMode", "rule": {"from": "carrier.name", "lookup": "carrier",
                                                                      "default": "STANDARD"}},
        {"op": "remove_rule", "mapping": M, "field": "PaymMode"}])
    assert _changes(docs[M]) == [
        "-  DlvMode: {from: carrier.name, lookup: carrier}",
        "-  PaymMode: {from: module, lookup: payment_module}",
        "+  DlvMode: {from: carrier.name, lookup: carrier, default: STANDARD}",
        "+      TaxItemGroup: {const: FULL}"]


def test_a_parameter_after_a_commented_line_keeps_that_comment_where_it_was() -> None:
    flow, docs = _docs()
    apply_edits(flow, docs, [{"op": "set_lookup", "mapping": M, "table": "channel",
                              "lookup": {"values": {"web": "WEB"}, "on_missing": "keep"}}])
    assert _changes(docs[M]) == ["+  channel:", "+    values: {web: WEB}", "+    on_missing: keep"]


def test_step_edits_add_move_remove_and_set_an_option() -> None:
    flow, docs = _docs()
    apply_edits(flow, docs, [
        {"op": "set_step_option", "step": "map-order", "key": "when", "value": "int(current_state) != 6"},
        {"op": "remove_step", "step": "map-write-back"},
        {"op": "add_step", "after": "validate", "step": {"id": "big-orders", "kind": "guard", "rules": [
            {"if": "total_paid > 50000", "action": "hold", "reason": "Very large order."}]}}])
    assert _changes(flow) == [
        "-  - id: map-write-back", "-    kind: map",
        "-    # only a paid order moves on once AX has it (see the mapping); keep in step with its table",
        "-    when: \"int(current_state) in [2, 11]\"", "-    mapping: ps_order_to_ps_order_history",
        "-    output: order_history",
        "+    when: int(current_state) != 6",  # the last line of map-order, now followed by validate
        "+  - id: big-orders", "+    kind: guard", "+    rules:", "+      - if: total_paid > 50000",
        "+        action: hold", "+        reason: Very large order."]
    # a nested flow-style option keeps its style when changed
    flow, docs = _docs()
    apply_edits(flow, docs, [{"op": "set_step_option", "step": "guard", "key": "anomaly",
                              "value": {"kind": "order", "thresholds": {"total_factor": 9, "quantity_factor": 10,
                                                                       "burst_orders": 3, "burst_window_s": 900}}}])
    assert _changes(flow) == [
        "-      thresholds: {total_factor: 8, quantity_factor: 10, burst_orders: 3, burst_window_s: 900}",
        "+      thresholds: {total_factor: 9, quantity_factor: 10, burst_orders: 3, burst_window_s: 900}"]


def test_move_step_moves_the_whole_step() -> None:
    flow, docs = _docs()
    apply_edits(flow, docs, [{"op": "move_step", "step": "validate", "to": 2}])
    ids = [s["id"] for s in flow.data["steps"]]
    assert ids[2] == "validate" and ids.count("validate") == 1 and len(ids) == 9


@pytest.mark.parametrize(("edit", "says"), [
    ({"op": "remove_step", "step": "map-ordr"}, "Did you mean 'map-order'"),
    ({"op": "set_rule", "mapping": "ps_order_to_ax_salesorder", "field": "X", "rule": "id"},
     "Did you mean 'ps_order_to_ax_sales_order'"),
    ({"op": "remove_rule", "mapping": M, "field": "CustAcount"}, "Did you mean 'CustAccount'"),
    ({"op": "set_rule", "mapping": M, "child": "SalesLines", "field": "X", "rule": "id"}, "Did you mean 'SalesLine'"),
    ({"op": "add_step", "step": {"id": "guard", "kind": "guard"}}, "already has a step 'guard'"),
    ({"op": "move_step", "step": "guard", "to": 99}, "'to' must be a position from 0 to 8"),
    ({"op": "set_rule", "mapping": M, "field": "X", "rule": {}}, "a rule is a source path or an object"),
    ({"op": "rename_step"}, "unknown op 'rename_step'"),
])
def test_an_edit_that_cannot_apply_says_which_and_why(edit: dict[str, object], says: str) -> None:
    flow, docs = _docs()
    with pytest.raises(EditError) as err:
        apply_edits(flow, docs, [{"op": "set_step_option", "step": "guard", "key": "when", "value": "true"}, edit])
    assert str(err.value).startswith("edits[1]: ") and says in str(err.value)


def test_no_edits_is_an_error() -> None:
    flow, docs = _docs()
    with pytest.raises(EditError, match="non-empty list"):
        apply_edits(flow, docs, [])


def test_a_file_written_by_a_yaml_dumper_keeps_its_folded_lines() -> None:
    """The demo writes its mappings with a YAML dumper, which folds long scalars at 80 columns:
    an edit must not unfold them (every other line stays as it was)."""
    import io

    from ruamel.yaml import YAML

    y = YAML(typ="safe")
    y.default_flow_style = False
    out = io.StringIO()
    y.dump(YAML(typ="safe").load(ORDER_MAPPING.read_text(encoding="utf-8")), out)
    text = out.getvalue()
    assert any(line.startswith(" ") and not line.strip().startswith(("-", "#")) and ":" not in line
               for line in text.splitlines()), "the dumped file should have a folded line"
    doc = RoundTripFile(text)
    assert doc.dump() == text
    apply_edits(RoundTripFile(FLOW.read_text(encoding="utf-8")), {M: doc},
                [{"op": "set_rule", "mapping": M, "field": "ContactPersonId", "rule": "address_delivery.phone"}])
    assert _changes(doc) == ["+  ContactPersonId: address_delivery.phone"]
