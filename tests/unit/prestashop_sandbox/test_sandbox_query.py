"""Parsing of display/filter/sort/limit/language and row selection (reference §3)."""

from __future__ import annotations

import pytest

from connectors.prestashop.sandbox.query import (
    parse_display,
    parse_filters,
    parse_languages,
    parse_limit,
    parse_sort,
    select,
)
from connectors.prestashop.sandbox.schema import load_resources
from connectors.prestashop.sandbox.wserrors import WsError

pytestmark = pytest.mark.unit
R = load_resources()


def codes(exc: pytest.ExceptionInfo[WsError]) -> list[int]:
    return [c for c, _ in exc.value.errors]


def test_display_full_and_selection() -> None:
    assert parse_display(None, R["customers"]) is None
    assert parse_display("full", R["customers"]).full  # type: ignore[union-attr]
    d = parse_display("[id,order_rows[product_id,product_quantity],reference]", R["orders"])
    assert d is not None and d.fields == ["id", "reference"]
    assert d.associations == {"order_rows": ["product_id", "product_quantity"]}


@pytest.mark.parametrize(("value", "code"), [("id,email", 36), ("[id,nope]", 35), ("[id,order_rows[nope]]", 35),
                                             ("[associations]", 35)])
def test_display_errors(value: str, code: int) -> None:
    resource = R["orders"] if "order_rows" in value else R["customers"]
    with pytest.raises(WsError) as exc:
        parse_display(value, resource)
    assert codes(exc) == [code]


def test_hidden_fields_are_not_displayable_nor_filterable() -> None:
    with pytest.raises(WsError):
        parse_display("[nleft]", R["categories"])
    with pytest.raises(WsError) as exc:
        parse_filters([("filter[nleft]", "1")], R["categories"], False)
    assert codes(exc) == [32]


@pytest.mark.parametrize(
    ("value", "op", "values"),
    [("abc", "eq", ["abc"]), ("[abc]", "eq", ["abc"]), ("[a|b]", "in", ["a", "b"]), ("[|a]", "eq", ["|a"]),
     ("[5,1]", "between", ["1", "5"]), ("[9,10]", "between", ["9", "10"]), ("[10,9]", "between", ["9", "10"]),
     ("[2.5,10]", "between", ["2.5", "10"]), ("[a,b]", "eq", ["a,b"]), ("[ab]%", "like", ["ab%"]),
     ("%[ab]", "like", ["%ab"]), ("%[ab]%", "like", ["%ab%"]), (">[4]", "gt", ["4"]), ("<[4]", "lt", ["4"]),
     ("![a|b]", "notin", ["a", "b"]),
     ("[2024-01-01 00:00:00,2024-02-01 00:00:00]", "between", ["2024-01-01 00:00:00", "2024-02-01 00:00:00"])],
)
def test_filter_operators(value: str, op: str, values: list[str]) -> None:
    [flt] = parse_filters([("filter[lastname]", value)], R["customers"], False)
    assert (flt.op, flt.values) == (op, values)


def test_date_fields_need_date_1() -> None:
    with pytest.raises(WsError) as exc:
        parse_filters([("filter[date_upd]", ">[2024-01-01]")], R["orders"], False)
    assert codes(exc) == [32]
    assert parse_filters([("filter[date_upd]", ">[2024-01-01]")], R["orders"], True)[0].op == "gt"
    with pytest.raises(WsError) as exc:
        parse_sort("[date_upd_ASC]", R["orders"], False)
    assert codes(exc) == [38]


def test_sort_direction_after_last_underscore() -> None:
    sort = parse_sort("[date_upd_DESC,id_ASC]", R["orders"], True)
    assert [(f.name, desc) for f, desc in sort] == [("date_upd", True), ("id", False)]
    assert [(f.name, d) for f, d in parse_sort("id_DESC", R["orders"], False)] == [("id", True)]
    with pytest.raises(WsError) as exc:
        parse_sort("[id]", R["orders"], False)
    assert codes(exc) == [37]


@pytest.mark.parametrize(("value", "expected"), [(None, (0, None)), ("5", (0, 5)), ("10,5", (10, 5))])
def test_limit(value: str | None, expected: tuple[int, int | None]) -> None:
    assert parse_limit(value) == expected


@pytest.mark.parametrize("value", ["1,2,3", "a", "-1"])
def test_limit_errors(value: str) -> None:
    with pytest.raises(WsError) as exc:
        parse_limit(value)
    assert codes(exc) == [39]


def test_languages() -> None:
    assert parse_languages(None, [1, 2], {1, 2, 3}) == [1, 2]
    assert parse_languages("[1|3|9]", [1, 2], {1, 2, 3}) == [1, 3]
    assert parse_languages("[1,3]", [1, 2], {1, 2, 3}) == [1, 2, 3]
    for value, code in (("9", 81), ("x", 79), ("[1,2,3]", 78), ("[a,b]", 80)):
        with pytest.raises(WsError) as exc:
            parse_languages(value, [1, 2], {1, 2, 3})
        assert codes(exc) == [code]


def test_select_coerces_numbers_and_folds_case() -> None:
    rows = [{"id": str(i), "lastname": name, "email": f"{name}@x.io", "id_lang": lang}
            for i, name, lang in [(1, "Ávila", "1"), (2, "brown", "2"), (3, "Adams", "10"), (10, "Cole", "2")]]
    res = R["customers"]
    by_id = select(rows, parse_filters([("filter[id]", "[2,3]")], res, False), [], (0, None), [1])
    assert [r["id"] for r in by_id] == ["2", "3"]
    # SQLUtils sorts the bounds with PHP's sort(), which compares numeric strings as numbers:
    # [10,2] is BETWEEN 2 AND 10 (the reference's "string-sorted" holds for dates only)
    ranged = select(rows, parse_filters([("filter[id]", "[10,2]")], res, False), [], (0, None), [1])
    assert [r["id"] for r in ranged] == ["2", "3", "10"]
    numeric = select(rows, parse_filters([("filter[id]", ">[9]")], res, False), [], (0, None), [1])
    assert [r["id"] for r in numeric] == ["10"]  # numeric column: 10 > 9 although "10" < "9" as text
    sorted_rows = select(rows, [], parse_sort("[id_lang_DESC,id_ASC]", res, False), (0, None), [1])
    assert [r["id"] for r in sorted_rows] == ["3", "2", "10", "1"]
    like = select(rows, parse_filters([("filter[lastname]", "[A]%")], res, False), [], (0, None), [1])
    assert [r["id"] for r in like] == ["3"]
    assert [r["id"] for r in select(rows, [], parse_sort("[lastname_ASC]", res, False), (1, 2), [1])] == ["2", "10"]


def test_an_indexed_equality_finds_exactly_the_rows_a_scan_finds_as_rows_change() -> None:
    """A list's equality filter goes through a hash index (candidate_rows); the answer must be the
    scan's, with MySQL's comparisons (numbers coerced, text case-insensitive), after inserts,
    updates and deletes."""
    from connectors.prestashop.sandbox.query import candidate_rows
    from connectors.prestashop.sandbox.store import Store

    store = Store()
    for ref, id_order in [("ABC", "5"), ("abc", "05"), ("XYZ", "6"), ("", "0"), ("x y", "5.0")]:
        store.insert("orders", {"reference": ref, "id_customer": id_order})
    queries = [[("filter[reference]", "[ABC]")], [("filter[reference]", "[abc|XYZ]")],
               [("filter[id_customer]", "[5]")], [("filter[id_customer]", "[0]")],
               [("filter[id_customer]", "[5]"), ("filter[reference]", "[abc]")], [("filter[reference]", "[]")]]

    def both(query: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
        filters = parse_filters(query, R["orders"], False)
        indexed = select(candidate_rows(store, "orders", filters), filters, [], (0, None), [1])
        scanned = select(list(store.rows("orders")), filters, [], (0, None), [1])
        return [r["id"] for r in indexed], [r["id"] for r in scanned]

    def check() -> None:
        for q in queries:
            indexed, scanned = both(q)
            assert indexed == scanned, q

    check()
    assert both([("filter[id_customer]", "[5]")])[0] == ["1", "2", "5"]  # "05" and "5.0" are 5 too
    assert both([("filter[reference]", "[ABC]")])[0] == ["1", "2"]
    row = store.get("orders", 3)
    store.save("orders", {**row, "reference": "abc", "id_customer": "5"})
    store.delete("orders", 1)
    store.insert("orders", {"reference": "Abc", "id_customer": "7"})
    check()
    assert both([("filter[reference]", "[ABC]")])[0] == ["2", "3", "6"]
