"""Trigger edits of the designer (pipelines.yaml_edit): a changed option is one changed line,
comments around the triggers stay, and a bad edit says which and why."""

from __future__ import annotations

import difflib

import pytest

from pipelines.registry import DEFAULT_FLOWS_DIR
from pipelines.yaml_edit import EditError, RoundTripFile, apply_edits

pytestmark = pytest.mark.unit

ORDER_FLOW = (DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml").read_text(encoding="utf-8")


def _diff(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_setting_a_poll_triggers_every_changes_that_line_only() -> None:
    doc = RoundTripFile(ORDER_FLOW, "ps_order_to_ax.yaml")
    assert apply_edits(doc, {}, [{"op": "set_trigger_option", "trigger": 2, "key": "every", "value": "5m"}]) == {""}
    assert _diff(ORDER_FLOW, doc.dump()) == [
        "-  - {type: poll, source: prestashop, resource: orders, every: 1m}",
        "+  - {type: poll, source: prestashop, resource: orders, every: 5m}",
    ]


def test_adding_removing_and_clearing_options_of_triggers() -> None:
    doc = RoundTripFile(ORDER_FLOW, "ps_order_to_ax.yaml")
    apply_edits(doc, {}, [
        {"op": "add_trigger", "trigger": {"type": "schedule", "cron": "0 * * * *", "source": None}},
        {"op": "set_trigger_option", "trigger": 2, "key": "every", "value": None},
    ])
    after = doc.dump()
    assert _diff(ORDER_FLOW, after) == [
        "-  - {type: poll, source: prestashop, resource: orders, every: 1m}",
        "+  - {type: poll, source: prestashop, resource: orders}",
        "+  - {type: schedule, cron: 0 * * * *}",
    ]
    assert "# the safety net under the webhooks" in after
    again = RoundTripFile(after, "x")
    apply_edits(again, {}, [{"op": "remove_trigger", "trigger": 3}])
    assert again.dump() == ORDER_FLOW.replace("resource: orders, every: 1m}", "resource: orders}")


@pytest.mark.parametrize(("edit", "says"), [
    ({"op": "set_trigger_option", "trigger": 9, "key": "every", "value": "1m"}, "from 0 to 2"),
    ({"op": "set_trigger_option", "trigger": True, "key": "every", "value": "1m"}, "'trigger' must be"),
    ({"op": "set_trigger_option", "trigger": 0, "value": "1m"}, "needs 'key'"),
    ({"op": "add_trigger", "trigger": {"every": "1m"}}, "at least 'type'"),
    ({"op": "remove_triger", "trigger": 0}, "Did you mean 'remove_trigger'?"),
])
def test_a_trigger_edit_that_cannot_apply_says_why(edit: dict[str, object], says: str) -> None:
    with pytest.raises(EditError) as err:
        apply_edits(RoundTripFile(ORDER_FLOW, "f.yaml"), {}, [edit])
    assert "edits[0]" in str(err.value) and says in str(err.value)
