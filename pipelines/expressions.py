"""The safe expression language of mappings, guards and step conditions.

An expression is a small subset of Python syntax, parsed with :mod:`ast` and checked against a
whitelist before anything runs; raw text is never evaluated. Allowed:

* literals: numbers (decimals are exact ``Decimal``), strings, ``True``/``False``/``None``
  (also ``true``/``false``/``null``), lists and tuples;
* field references: ``total_paid``, ``customer.email``, ``associations.order_rows[0]``;
  the roots ``params`` (mapping parameters), ``context`` (cross-references and facts the
  runtime supplies), ``parent``/``root`` (outer records inside a child mapping) and
  ``line_number`` (1-based position inside a child mapping) and ``out`` (target fields
  already mapped above, e.g. ``slug_values(out.name)``) are reserved;
* operators: ``+ - * / // %``, comparisons (also ``in``/``not in``/``is``), ``and or not``,
  ``a if cond else b``;
* calls of the whitelisted functions in :data:`pipelines.functions.EXPRESSION_FUNCTIONS` and
  ``lookup('table', value)`` for the mapping's lookup tables.

Field references used in arithmetic or compared with a number are read as numbers (``num``),
so ``total_paid > 1000`` works on PrestaShop's string ``"1250.000000"``.

Null (a missing path reads as null) follows one rule: arithmetic (``+ - * / // %``, unary
``-``/``+``) and order comparisons (``< <= > >=``) with a null operand, and a division or
modulo by zero, raise :class:`pipelines.compiled.OperandError` naming the operation and the
operand (``total_paid / conversion_rate: conversion_rate is null``), which a mapping reports
as a MappingError naming the field and a step rule as a MappingError naming the expression:
never a Python ``TypeError``. ``==``/``!=``/``in``/``is``/``and``/``or``/``not`` and the
functions take null as a value. The check is emitted only for operands that may be null
(field reads, most function results), so ``count(rows) * 2`` costs nothing extra.

:func:`parse_expression` returns a :class:`ParsedExpression` (the checked tree plus the field
references, for lint); :func:`rewrite` turns it into a tree over the compiler's variables.
Errors are :class:`ExpressionError` with the column of the offending part.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pipelines.functions import EXPRESSION_FUNCTIONS, num

__all__ = ["RESERVED_ROOTS", "ExpressionError", "ParsedExpression", "parse_expression", "rewrite"]

#: reserved root names -> variable of the generated function
RESERVED_ROOTS = {
    "params": "P",
    "context": "ctx",
    "parent": "parent",
    "root": "root",
    "line_number": "ln",
    "out": "out",
}
_LITERAL_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
_CMPOPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot)
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)
_MAX_LENGTH = 2000
# functions whose result is already a number (or None): no need to read it with num() again
_NUMERIC_FUNCTIONS = frozenset(
    {"num", "int", "decimal", "round", "sum_of", "count", "len", "abs", "min", "max"}
)


class ExpressionError(ValueError):
    """An expression is not valid; ``column`` (0-based) points at the offending part."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


@dataclass
class ParsedExpression:
    """A checked expression: its text, tree, and the field paths it reads as (root, path)."""

    text: str
    tree: ast.expr
    refs: list[tuple[str, tuple[str | int, ...]]] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    lookups: set[str] = field(default_factory=set)

    @property
    def is_constant(self) -> bool:
        """True when the expression is a plain literal (``false``, ``1``, ``not true``...)."""
        try:
            _fold(self.tree)
        except ExpressionError:
            return False
        return True

    def constant_value(self) -> Any:
        """The value of a literal expression; raises ExpressionError for anything else."""
        return _fold(self.tree)


def parse_expression(text: str) -> ParsedExpression:
    """Parse and check ``text``; raises ExpressionError naming what is not allowed and where."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {_MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", max((exc.offset or 1) - 1, 0)) from None
    parsed = ParsedExpression(text=text, tree=tree.body)
    _check(tree.body, parsed)
    return parsed


def field_path(node: ast.expr) -> tuple[str, tuple[str | int, ...]] | None:
    """(root, path) when ``node`` is a field reference like ``a.b[0].c``, else ``None``."""
    keys: list[str | int] = []
    cur = node
    while True:
        if isinstance(cur, ast.Attribute):
            keys.append(cur.attr)
            cur = cur.value
        elif (
            isinstance(cur, ast.Subscript)
            and isinstance(cur.slice, ast.Constant)
            and isinstance(cur.slice.value, (int, str))
            and not isinstance(cur.slice.value, bool)
        ):
            keys.append(cur.slice.value)
            cur = cur.value
        elif isinstance(cur, ast.Name):
            if cur.id in _LITERAL_NAMES:
                return None
            keys.append(cur.id)
            keys.reverse()
            head = str(keys[0])
            if head in RESERVED_ROOTS:
                return head, tuple(keys[1:])
            return "src", tuple(keys)
        else:
            return None


def _check(node: ast.expr, parsed: ParsedExpression) -> None:
    col = getattr(node, "col_offset", 0)
    ref = field_path(node)
    if ref is not None:
        parsed.refs.append(ref)
        return
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, (str, int, float, bool, type(None))):
            raise ExpressionError(f"the literal {node.value!r} is not allowed", col)
    elif isinstance(node, ast.Name):
        if node.id not in _LITERAL_NAMES:  # pragma: no cover - field_path handles other names
            raise ExpressionError(f"the name {node.id!r} is not allowed", col)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, parsed)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _BINOPS):
            raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed", col)
        _check(node.left, parsed)
        _check(node.right, parsed)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
            raise ExpressionError(f"the operator {type(node.op).__name__} is not allowed", col)
        _check(node.operand, parsed)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if not isinstance(op, _CMPOPS):
                raise ExpressionError(f"the comparison {type(op).__name__} is not allowed", col)
        _check(node.left, parsed)
        for c in node.comparators:
            _check(c, parsed)
    elif isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check(part, parsed)
    elif isinstance(node, (ast.List, ast.Tuple)):
        for elt in node.elts:
            _check(elt, parsed)
    elif isinstance(node, ast.Call):
        _check_call(node, parsed)
    elif isinstance(node, ast.Attribute):
        _check(node.value, parsed)  # a field of a computed object: first(rows).name
    elif isinstance(node, ast.Subscript):
        if not (isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, (int, str))):
            raise ExpressionError("only a fixed position or key may be used in [...]", col)
        _check(node.value, parsed)
    else:
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression", col)


def _check_call(node: ast.Call, parsed: ParsedExpression) -> None:
    col = node.col_offset
    if not isinstance(node.func, ast.Name):
        raise ExpressionError("only the listed functions may be called (no methods)", col)
    if node.keywords:
        raise ExpressionError(f"{node.func.id}() takes positional arguments only", col)
    name = node.func.id
    if name == "lookup":
        first = node.args[0] if node.args else None
        if len(node.args) != 2 or not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            raise ExpressionError(
                "lookup() takes a table name in quotes and a value: lookup('country', x)", col
            )
        parsed.lookups.add(first.value)
        _check(node.args[1], parsed)
        return
    if name not in EXPRESSION_FUNCTIONS:
        from difflib import get_close_matches

        close = get_close_matches(name, list(EXPRESSION_FUNCTIONS) + ["lookup"], n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        raise ExpressionError(f"unknown function '{name}'{hint}", col)
    parsed.functions.add(name)
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise ExpressionError("*arguments are not allowed", arg.col_offset)
        _check(arg, parsed)


def _fold(node: ast.expr) -> Any:
    """Value of a literal tree (constants, literal names, lists/tuples, ``not``)."""
    if isinstance(node, ast.Constant):
        return Decimal(repr(node.value)) if isinstance(node.value, float) else node.value
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return _LITERAL_NAMES[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_fold(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _fold(node.operand)
    raise ExpressionError("the expression is not a plain literal")


class CodeContext:
    """What :func:`rewrite` needs from the compiler: names for constants, functions and
    lookup tables in the generated function's namespace."""

    def const(self, value: Any) -> ast.expr:  # pragma: no cover - interface
        raise NotImplementedError

    def function(self, name: str) -> ast.expr:  # pragma: no cover - interface
        raise NotImplementedError

    def lookup(self, table: str) -> ast.expr:  # pragma: no cover - interface
        raise NotImplementedError

    def param(self, path: tuple[str | int, ...]) -> ast.expr:
        """A mapping parameter; by default read at run time from ``P``."""
        return access("P", path, self)

    def specialize(self, name: str, args: list[ast.expr]) -> ast.expr | None:
        """A faster call for known constant arguments, or ``None`` (the plain call)."""
        return None

    def var(self, root: str) -> str:
        """The variable holding a root (``src`` for plain field names)."""
        return "src" if root == "src" else RESERVED_ROOTS[root]

    def read(self, var: str, path: tuple[str | int, ...]) -> ast.expr:
        """Reading ``path`` below variable ``var`` (the compiler may share common prefixes)."""
        return access(var, path, self)

    def number(self, read: ast.expr) -> ast.expr:
        """A field read as a number: ``num(read)``, or a variable already holding it."""
        return ast.Call(func=self.function("num"), args=[read], keywords=[])

    def checked(
        self,
        node: ast.expr,
        operands: list[tuple[ast.expr, ast.expr, str]],
        build: Callable[[list[ast.expr]], ast.expr],
    ) -> ast.expr:  # pragma: no cover - interface
        """The operation ``node`` as ``build(operand codes)``, guarded by the null rule (see the
        module docstring). Each operand is ``(its tree, its code, role)``: role ``value`` must
        not be null, ``divisor`` must be neither null nor zero."""
        raise NotImplementedError


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def access(var: str, path: tuple[str | int, ...], ctx: CodeContext) -> ast.expr:
    """Tree reading ``path`` from the dict in variable ``var``: missing keys give ``None``."""
    node: ast.expr = ast.Name(id=var, ctx=ast.Load())
    for i, key in enumerate(path):
        if isinstance(key, int):
            node = ast.Call(func=ctx.function("_at"), args=[node, ast.Constant(key)], keywords=[])
            continue
        if i > 0:  # `(x or {})` lets a missing parent read as empty instead of failing
            node = ast.BoolOp(op=ast.Or(), values=[node, ctx.const(_EMPTY)])
        node = ast.Call(
            func=ast.Attribute(value=node, attr="get", ctx=ast.Load()), args=[ast.Constant(key)], keywords=[]
        )
    return node


_EMPTY: dict[str, Any] = {}


def rewrite(parsed: ParsedExpression, ctx: CodeContext) -> ast.expr:
    """The checked tree rewritten over the generated function's variables (``src``, ``P``...)."""
    return _Rewriter(ctx).visit_expr(parsed.tree)


class _Rewriter:
    def __init__(self, ctx: CodeContext) -> None:
        self.ctx = ctx

    def ref(self, node: ast.expr, as_number: bool) -> ast.expr | None:
        r = field_path(node)
        if r is None:
            return None
        root, path = r
        if root == "params":
            # parameters are fixed when a mapping is compiled: read them once, now
            out = self.ctx.param(path)
            if as_number and isinstance(out, ast.Constant):
                try:  # a numeric parameter is read as a number now, not per record
                    return self.ctx.const(num(out.value))
                except ValueError:
                    pass  # not a number: the record fails at run time, naming the field
        else:
            out = self.ctx.read(self.ctx.var(root), path)
        if as_number and root != "line_number":
            out = self.ctx.number(out)
        return out

    def operand(self, node: ast.expr, as_number: bool) -> ast.expr:
        """An operand; in a numeric context anything but a literal is read with ``num`` (field
        values and function results may be PrestaShop's number strings)."""
        r = self.ref(node, as_number)
        if r is not None:
            return r
        out = self.visit_expr(node)
        numeric_call = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _NUMERIC_FUNCTIONS
        )
        if (
            as_number
            and not numeric_call
            and not isinstance(node, (ast.Constant, ast.BinOp))
            and not (isinstance(node, ast.Name) and node.id in _LITERAL_NAMES)
        ):
            return ast.Call(func=self.ctx.function("num"), args=[out], keywords=[])
        return out

    def visit_expr(self, node: ast.expr) -> ast.expr:
        r = self.ref(node, False)
        if r is not None:
            return r
        if isinstance(node, ast.Constant):
            if isinstance(node.value, float):
                return self.ctx.const(Decimal(repr(node.value)))
            return ast.Constant(node.value)
        if isinstance(node, ast.Name):
            return ast.Constant(_LITERAL_NAMES[node.id])
        if isinstance(node, ast.BoolOp):
            return ast.BoolOp(op=node.op, values=[self.visit_expr(v) for v in node.values])
        if isinstance(node, ast.BinOp):
            textual = isinstance(node.op, ast.Add) and any(_is_text(x) for x in (node.left, node.right))
            left = self.operand(node.left, not textual)
            right = self.operand(node.right, not textual)
            op = node.op
            return self.ctx.checked(
                node,
                [
                    (node.left, left, "value"),
                    (node.right, right, "divisor" if isinstance(op, _DIVISIONS) else "value"),
                ],
                lambda v: ast.BinOp(left=v[0], op=op, right=v[1]),
            )
        if isinstance(node, ast.UnaryOp):
            operand = self.operand(node.operand, not isinstance(node.op, ast.Not))
            if isinstance(node.op, ast.Not):
                return ast.UnaryOp(op=node.op, operand=operand)
            unary = node.op
            return self.ctx.checked(
                node, [(node.operand, operand, "value")], lambda v: ast.UnaryOp(op=unary, operand=v[0])
            )
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            numeric = any(
                isinstance(p, ast.Constant)
                and isinstance(p.value, (int, float))
                and not isinstance(p.value, bool)
                for p in parts
            ) or (any(isinstance(op, _ORDERING) for op in node.ops) and not any(_is_text(p) for p in parts))
            membership = any(isinstance(op, (ast.In, ast.NotIn, ast.Is, ast.IsNot)) for op in node.ops)
            as_num = numeric and not membership
            codes = [self.operand(p, as_num) for p in parts]
            ops = node.ops
            build = lambda v: ast.Compare(left=v[0], ops=ops, comparators=v[1:])  # noqa: E731
            if not any(isinstance(op, _ORDERING) for op in ops):
                return build(codes)  # equality and membership take null as a value
            return self.ctx.checked(node, [(p, c, "value") for p, c in zip(parts, codes, strict=True)], build)
        if isinstance(node, ast.IfExp):
            return ast.IfExp(
                test=self.visit_expr(node.test),
                body=self.visit_expr(node.body),
                orelse=self.visit_expr(node.orelse),
            )
        if isinstance(node, ast.List):
            return ast.List(elts=[self.visit_expr(e) for e in node.elts], ctx=ast.Load())
        if isinstance(node, ast.Tuple):
            return ast.Tuple(elts=[self.visit_expr(e) for e in node.elts], ctx=ast.Load())
        if isinstance(node, ast.Attribute):
            base = ast.BoolOp(op=ast.Or(), values=[self.visit_expr(node.value), self.ctx.const(_EMPTY)])
            return ast.Call(
                func=ast.Attribute(value=base, attr="get", ctx=ast.Load()),
                args=[ast.Constant(node.attr)],
                keywords=[],
            )
        if isinstance(node, ast.Subscript):
            assert isinstance(node.slice, ast.Constant)
            return ast.Call(
                func=self.ctx.function("_at"),
                args=[self.visit_expr(node.value), ast.Constant(node.slice.value)],
                keywords=[],
            )
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)
            if node.func.id == "lookup":
                table = node.args[0]
                assert isinstance(table, ast.Constant)
                return ast.Call(
                    func=self.ctx.lookup(str(table.value)), args=[self.visit_expr(node.args[1])], keywords=[]
                )
            args = [self.visit_expr(a) for a in node.args]
            special = self.ctx.specialize(node.func.id, args)
            if special is not None:
                return special
            return ast.Call(func=self.ctx.function(node.func.id), args=args, keywords=[])
        raise ExpressionError(f"{type(node).__name__} is not allowed")  # pragma: no cover - checked before
