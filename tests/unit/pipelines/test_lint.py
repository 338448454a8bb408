"""Lint of flows and mappings: each problem with file, line, path and a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lint import Problem, lint_paths
from pipelines.registry import DEFAULT_FLOWS_DIR

pytestmark = pytest.mark.unit

MAPPING = """\
mapping: ps_order_copy
source:
  system: prestashop
  resource: orders
  includes: {customer: customers}
target: {system: ax, service: SalesOrderService, entity: SalesTable}
lookups:
  pay: {values: {paypal: PAYPAL_EXPRESS_CHECKOUT}, default: OTHER, on_missing: default}
  unused: {values: {a: b}}
fields:
  PurchOrderFormNum: referense
  ReceiptDateRequested: {from: date_add, convert: {to: decimal}}
  Emial: customer.email
  PaymMode: {from: module, lookup: pay}
  SalesStatus: {const: Shipped}
  SalesOriginId: {const: PrestaShopWebshop}
  DlvMode: {from: carrier, lookup: carriers}
  CustAccount: {expr: "concat(params.prefix, id_custmer)"}
children:
  SalesLine:
    each: associations.order_rows
    fields:
      ItemId: product_refrence
"""

FLOW = """\
flow: copy
entity: order
triggers:
  - {type: webhook, source: prestashop}
steps:
  - {id: extract, kind: extract, system: prestashop, operation: orders.get}
  - {id: map, kind: map, mapping: ps_ordr_to_ax_sales_order, output: sales_order}
  - {id: guard, kind: guard, rules: [{if: "true", action: drop, reason: always}]}
  - {id: check, kind: validate, inputs: [sales_ordr]}
  - {id: map, kind: map, mapping: ps_order_to_ax_sales_order, output: unused_doc, when: "false"}
  - {id: load, kind: load, system: ax, operation: SalesOrderService.create, input: sales_order}
"""


def _find(problems: list[Problem], fragment: str) -> Problem:
    for p in problems:
        if fragment in p.message:
            return p
    raise AssertionError(f"no problem mentions {fragment!r}:\n" + "\n".join(p.format() for p in problems))


def test_default_flows_and_mappings_lint_clean() -> None:
    problems = lint_paths([DEFAULT_FLOWS_DIR])
    assert problems == [], "\n".join(p.format() for p in problems)


def test_mapping_problems_with_lines_paths_and_suggestions(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MAPPING)
    problems = lint_paths([tmp_path])
    p = _find(problems, "unknown source field 'referense'")
    assert (p.line, p.path) == (
        11,
        "fields.PurchOrderFormNum.from",
    ) and "did you mean 'reference'" in p.message
    assert "did you mean 'Email'" in _find(problems, "unknown target field 'Emial'").message
    assert _find(problems, "type mismatch: convert to decimal").line == 12
    assert (
        _find(problems, "'PAYPAL_EXPRESS_CHECKOUT' for target field 'PaymMode' is longer than the 10").path
        == "lookups.pay.values.paypal"
    )
    assert "is not a value of AxdEnum_SalesStatus" in _find(problems, "'Shipped'").message
    assert _find(problems, "'PrestaShopWebshop' for target field 'SalesOriginId' is longer").line == 16
    assert _find(problems, "unknown lookup table 'carriers'").path == "fields.DlvMode.lookup"
    assert _find(problems, "unknown parameter 'params.prefix'").line == 18
    assert "did you mean 'id_customer'" in _find(problems, "unknown source field 'id_custmer'").message
    line_problem = _find(problems, "unknown source field 'product_refrence'")
    assert line_problem.path == "children.SalesLine.fields.ItemId.from"
    assert "did you mean 'product_reference'" in line_problem.message
    assert _find(problems, "required target field 'SalesUnit'").path == "children.SalesLine.fields"
    unused = _find(problems, "lookup table 'unused' is never used")
    assert unused.severity == "warning" and unused.format().startswith(f"{tmp_path / 'm.yaml'}:9: warning: ")


def test_flow_problems(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(FLOW)
    problems = lint_paths([tmp_path / "f.yaml"])
    assert _find(problems, "a webhook trigger needs 'event'").path == "triggers[0]"
    p = _find(problems, "unknown mapping 'ps_ordr_to_ax_sales_order'")
    assert (p.line, p.path) == (
        7,
        "steps[1].mapping",
    ) and "did you mean 'ps_order_to_ax_sales_order'" in p.message
    assert "did you mean 'sales_order'" in _find(problems, "input 'sales_ordr'").message
    assert _find(problems, "unreachable step 'check'").line == 9
    assert _find(problems, "duplicate step id 'map'").path == "steps[4].id"
    assert _find(problems, "its condition is always false").path == "steps[4].when"


def test_invalid_files_are_problems_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("mapping: x\nfields: [\n")
    (tmp_path / "schema.yml").write_text("mapping: Bad Name\nsource: {system: sap}\n")
    (tmp_path / "other.yaml").write_text("server: {port: 8080}\n")
    problems = lint_paths([tmp_path])
    assert any(p.file.endswith("broken.yaml") and "YAML syntax error" in p.message for p in problems)
    assert any(p.file.endswith("schema.yml") and p.path == "source.system" for p in problems)
    assert not any(p.file.endswith("other.yaml") for p in problems)


def test_copying_a_value_into_an_incompatible_type_is_reported(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "mapping: c\nsource: {system: prestashop, resource: orders}\n"
        "target: {system: ax, service: SalesOrderService, entity: SalesTable}\n"
        "fields:\n  PurchOrderFormNum: reference\n  ReceiptDateRequested: date_add\n"
        "  CreditCardAuthorizationError: gift\n  TotalInvoice: date_upd\n"
        "  Deadline: {from: date_upd, convert: {to: date, from_format: '%Y-%m-%d %H:%M:%S'}}\n"
    )
    problems = lint_paths([tmp_path])
    assert "add convert: noyes" in _find(problems, "source field 'gift' (bool)").message
    assert _find(problems, "source field 'date_upd' (date)").path == "fields.TotalInvoice.from"
    assert not any("Deadline" in p.path for p in problems)
