"""Names and constants for generated mapping code (the expression side of the compiler).

Everything a generated statement refers to is registered here: literal values become
constants of the function's namespace, whitelisted functions become ``_fn_*`` names, lookup
tables ``_T_*``, decimal converters ``_dq_*``; mapping parameters are read once, when the
mapping is compiled. The namespace has no builtins.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from connectors.errors import ConfigError
from pipelines import functions as fn
from pipelines.compiled import _MISSING, HELPERS, OperandSite, _key, _unmapped
from pipelines.expressions import _EMPTY, CodeContext, ExpressionError, access, parse_expression, rewrite
from pipelines.specs import LookupTable, MappingSpec

__all__ = ["Namespace"]

# functions that never give null (a count, a sum, a list): their result needs no null check
_NEVER_NULL = frozenset(
    {"count", "len", "sum_of", "pluck", "where_eq", "where_in", "lang_values", "slug_values"}
)


class Namespace(CodeContext):
    """The names of one generated mapping function: constants, helper functions, lookup
    tables, parameters (resolved now), shared reads and the variables of the current scope.
    :class:`pipelines.compiler` writes the statements that use them."""

    def __init__(self, spec: MappingSpec, params: dict[str, Any]) -> None:
        self.spec = spec
        self.params = params
        self.ns: dict[str, Any] = {"__builtins__": {}, **HELPERS, "P": params}
        self.lines: list[tuple[str, str | None]] = []
        # shared reads of each open level, by the variable of its record
        self.level_hoists: dict[str, dict[str, str]] = {}
        # variable names of the current scope: a child mapping runs as a loop inside its parent
        self.scope = {"src": "src", "out": "out", "parent": "parent", "ln": "ln"}
        self.nested: dict[str, str] = {}
        self.masks: dict[str, str] = {}
        # source reads already held as numbers, by their code (see _Gen.field)
        self.numbers: dict[str, str] = {}
        self.numbers_used: set[str] = set()
        # fields of the current child loop whose value every item shares (see compiler._Gen)
        self.invariants: list[str] = []
        self.tables: dict[str, str] = {}
        self.n = 0

    # -- CodeContext ---------------------------------------------------------------------------
    def const(self, value: Any) -> ast.expr:
        if value is _EMPTY:
            return ast.Name(id="_E", ctx=ast.Load())
        if value is None or isinstance(value, (str, int, bool)):
            return ast.Constant(value)
        self.n += 1
        name = f"_k{self.n}"
        self.ns[name] = value
        return ast.Name(id=name, ctx=ast.Load())

    def function(self, name: str) -> ast.expr:
        key = f"_fn_{name}"
        self.ns[key] = HELPERS[name] if name.startswith("_") else fn.EXPRESSION_FUNCTIONS[name]
        return ast.Name(id=key, ctx=ast.Load())

    def checked(
        self,
        node: ast.expr,
        operands: list[tuple[ast.expr, ast.expr, str]],
        build: Callable[[list[ast.expr]], ast.expr],
    ) -> ast.expr:
        # `_opfail(site, _t1, _t2) if ((_t1 := a) is None) | (not (_t2 := b)) else _t1 / _t2`:
        # `|` of two bools evaluates both sides (no short circuit), so every temporary is
        # bound when the failure branch reads it. Operands that cannot be null (or zero, for a
        # divisor) get no check and stay inline: the hot path pays only where a value may be
        # missing.
        tests: list[ast.expr] = []
        values: list[ast.expr] = []
        failed: list[ast.expr] = []
        checks: list[tuple[str, str]] = []
        for tree, code, role in operands:
            check = (
                ("zero" if not self._nonzero(tree, code) else None)
                if role == "divisor"
                else ("null" if self._may_be_null(tree, code) else None)
            )
            if check is None:
                values.append(code)
                continue
            self.n += 1
            temp = f"_t{self.n}"
            bound = ast.NamedExpr(target=ast.Name(id=temp, ctx=ast.Store()), value=code)
            tests.append(
                ast.UnaryOp(op=ast.Not(), operand=bound)
                if check == "zero"
                else ast.Compare(left=bound, ops=[ast.Is()], comparators=[ast.Constant(None)])
            )
            load = ast.Name(id=temp, ctx=ast.Load())
            values.append(load)
            failed.append(load)
            checks.append((ast.unparse(tree), check))
        if not tests:
            return build(values)
        test = tests[0]
        for t in tests[1:]:
            test = ast.BinOp(left=test, op=ast.BitOr(), right=t)
        site = self.const(OperandSite(ast.unparse(node), tuple(checks)))
        fail = ast.Call(func=self.function("_opfail"), args=[site, *failed], keywords=[])
        return ast.IfExp(test=test, body=fail, orelse=build(values))

    def _known(self, code: ast.expr) -> tuple[bool, Any]:
        """``(True, value)`` when ``code`` is a value fixed now, else ``(False, None)``."""
        if isinstance(code, ast.Constant):
            return True, code.value
        if isinstance(code, ast.Name) and code.id.startswith("_k"):
            return True, self.ns[code.id]  # a constant of the namespace (see const)
        return False, None

    def _may_be_null(self, tree: ast.expr, code: ast.expr) -> bool:
        """False when the operand (``tree`` as written, ``code`` compiled) can never be null: a
        fixed value, arithmetic (itself checked), a comparison, a list, a function that never
        gives null, ``max``/``min``/``coalesce`` with a fixed non-null argument."""
        fixed, value = self._known(code)
        if fixed:
            return value is None
        if isinstance(tree, (ast.BinOp, ast.UnaryOp, ast.Compare, ast.List, ast.Tuple)):
            return False
        if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
            if tree.func.id in _NEVER_NULL:
                return False
            if tree.func.id in ("max", "min", "coalesce"):
                return not any(
                    isinstance(a, ast.Constant) and a.value is not None and a.value != "" for a in tree.args
                )
        return True

    def _nonzero(self, tree: ast.expr, code: ast.expr) -> bool:
        """True when a divisor can be neither null nor zero: a fixed non-zero number, or
        ``max(x, c)`` with a fixed ``c > 0`` (the usual ``max(PriceUnit, 1)``)."""
        fixed, value = self._known(code)
        if fixed:
            return value is not None and not isinstance(value, (str, bool)) and bool(value)
        return (
            isinstance(tree, ast.Call)
            and isinstance(tree.func, ast.Name)
            and tree.func.id == "max"
            and any(
                isinstance(a, ast.Constant)
                and isinstance(a.value, (int, float))
                and not isinstance(a.value, bool)
                and a.value > 0
                for a in tree.args
            )
        )

    def lookup(self, table: str) -> ast.expr:
        spec = self.spec.lookups.get(table)
        if spec is None:
            raise ExpressionError(f"lookup table '{table}' is not defined in this mapping")
        var = self.table(table)
        self.n += 1
        name = f"_lkf{self.n}"
        self.ns[name] = self._lookup_function(table, spec, var)
        return ast.Name(id=name, ctx=ast.Load())

    def read(self, var: str, path: tuple[str | int, ...]) -> ast.expr:
        # `src.get('Sales') or {}` is read once per function, not once per field using it
        # and so are `root.x.y` and `parent.x.y` inside a child loop: the outer level reads
        # them once, before the loop
        hoists = self.level_hoists.get("src" if var == "root" else var)
        if hoists is not None and len(path) >= 2 and isinstance(path[0], str):
            if path[0] not in hoists:
                self.n += 1
                hoists[path[0]] = f"_h{self.n}"
            return access(hoists[path[0]], path[1:], self)
        return access(var, path, self)

    def number(self, read: ast.expr) -> ast.expr:
        # a field an earlier decimal conversion of this record already read as a number
        known = self.numbers.get(ast.unparse(read))
        if known is None:
            return super().number(read)
        self.numbers_used.add(known)
        return ast.Name(id=known, ctx=ast.Load())

    def specialize(self, name: str, args: list[ast.expr]) -> ast.expr | None:
        if name in ("str", "int") and len(args) == 1 and not isinstance(args[0], ast.Constant):
            return self._text_or_int(name, args[0])
        if name == "max" and len(args) == 2 and isinstance(args[1], ast.Constant):
            bound = args[1].value  # max(x, 1): bind the bound once
            if isinstance(bound, int) and not isinstance(bound, bool):
                self.n += 1
                key = f"_mx{self.n}"
                self.ns[key] = fn.max_with(bound)
                return ast.Call(func=ast.Name(id=key, ctx=ast.Load()), args=[args[0]], keywords=[])
        # lang_values(rows, 'LanguageId', 'Name', params.languages, 'en-us'): bind the constants once
        if name != "lang_values" or len(args) != 5:
            return None
        fixed = []
        for a in args[1:]:
            if isinstance(a, ast.Constant):
                fixed.append(a.value)
            elif isinstance(a, ast.Name) and a.id.startswith("_k"):
                fixed.append(self.ns[a.id])
            else:
                return None
        if not (
            isinstance(fixed[0], str)
            and isinstance(fixed[1], str)
            and isinstance(fixed[2], Mapping)
            and isinstance(fixed[3], str)
        ):
            return None
        self.n += 1
        key = f"_lv{self.n}"
        self.ns[key] = fn.lang_values_for(*fixed)
        return ast.Call(func=ast.Name(id=key, ctx=ast.Load()), args=[args[0]], keywords=[])

    def _text_or_int(self, name: str, arg: ast.expr) -> ast.expr:
        """``str(x)`` / ``int(x)`` with the usual case inline, the way the function's first
        line takes it (text stays text; digits become an int), else the function itself."""
        self.n += 1
        temp = f"_t{self.n}"
        load = ast.Name(id=temp, ctx=ast.Load())
        bound = ast.NamedExpr(target=ast.Name(id=temp, ctx=ast.Store()), value=arg)
        is_text = ast.Compare(
            left=ast.Attribute(value=bound, attr="__class__", ctx=ast.Load()),
            ops=[ast.Is()],
            comparators=[ast.Name(id="_S", ctx=ast.Load())],
        )
        fallback = ast.Call(func=self.function(name), args=[load], keywords=[])
        if name == "str":  # to_str: None and text are returned as they are
            test: ast.expr = ast.BoolOp(
                op=ast.Or(),
                values=[is_text, ast.Compare(left=load, ops=[ast.Is()], comparators=[ast.Constant(None)])],
            )
            return ast.IfExp(test=test, body=load, orelse=fallback)
        digits = [  # to_int: ASCII digits are read with int()
            ast.Call(func=ast.Attribute(value=load, attr=m, ctx=ast.Load()), args=[], keywords=[])
            for m in ("isdigit", "isascii")
        ]
        test = ast.BoolOp(op=ast.And(), values=[is_text, *digits])
        parse = ast.Call(func=ast.Name(id="_I", ctx=ast.Load()), args=[load], keywords=[])
        return ast.IfExp(test=test, body=parse, orelse=fallback)

    def var(self, root: str) -> str:
        if root == "src":
            return self.scope["src"]
        if root in ("parent", "out"):
            return self.scope[root]
        if root == "line_number":
            return self.scope["ln"]
        return super().var(root)

    def param(self, path: tuple[str | int, ...]) -> ast.expr:
        value: Any = self.params
        for key in path:
            if isinstance(value, Mapping):
                value = value.get(key)
            elif isinstance(value, list) and isinstance(key, int):
                value = value[key] if -len(value) <= key < len(value) else None
            else:
                value = None
        return self.const(value)

    # -- helpers --------------------------------------------------------------------------------
    def _lookup_function(self, table: str, spec: LookupTable, var: str) -> Callable[[Any], Any]:
        values = self.ns[var]

        def look(value: Any) -> Any:
            if value is None:
                return None
            hit = values.get(_key(value), _MISSING)
            if hit is not _MISSING:
                return hit
            if spec.on_missing == "error":
                raise _unmapped(table, value)
            return spec.default if spec.on_missing == "default" else value

        return look

    def table(self, name: str) -> str:
        if name not in self.tables:
            spec = self.spec.lookups.get(name)
            if spec is None:
                raise ExpressionError(f"lookup table '{name}' is not defined in this mapping")
            self.tables[name] = f"_T_{len(self.tables)}"
            self.ns[self.tables[name]] = dict(spec.values)
        return self.tables[name]

    def expr(self, text: str) -> str:
        return ast.unparse(rewrite(parse_expression(text), self))

    def path(self, dotted: str, var: str = "src") -> str:
        parsed = parse_expression(dotted)
        return (
            ast.unparse(rewrite(parsed, self))
            if var == "src"
            else ast.unparse(access(var, tuple(dotted.split(".")), self))
        )

    def resolve_param(self, value: str) -> str:
        if value.startswith("params."):
            key = value[7:]
            if key not in self.params:
                raise ConfigError(f"Mapping {self.spec.mapping}: parameter '{key}' is not defined.")
            return str(self.params[key])
        return value

    def converter(self, places: int | None, rounding: str) -> str:
        """Name of a decimal converter with fixed places and rounding (one per pair)."""
        name = f"_dq_{places}_{rounding}"
        if name not in self.ns:
            self.ns[name] = fn.decimal_converter(places, rounding)
        return name

    def date_converter(self, from_format: str | None, from_tz: str, to_format: str, to_tz: str) -> str:
        """Name of a date/date-time converter with fixed formats and zones (``params.x`` zones
        are resolved now)."""
        args = (from_format, self.resolve_param(from_tz), to_format, self.resolve_param(to_tz))
        self.n += 1
        name = f"_dt{self.n}"
        try:
            self.ns[name] = fn.datetime_converter(*args)
        except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise ConfigError(f"Mapping {self.spec.mapping}: unknown time zone ({exc}).") from None
        return name

    def out_var(self, target: str) -> tuple[str, str]:
        """(dict variable, key) where a dotted target path is stored: nested objects are built
        in local dicts and attached at the end, only when something went into them."""
        keys = target.split(".")
        if len(keys) == 1:
            return self.scope["out"], keys[0]
        prefix = ".".join(keys[:-1])
        if prefix not in self.nested:
            for i in range(1, len(keys)):
                if ".".join(keys[:i]) not in self.nested:
                    self.n += 1
                    self.nested[".".join(keys[:i])] = f"_o{self.n}"
        return self.nested[prefix], keys[-1]
