"""Compile a mapping spec, once, into a plain Python function.

The spec is turned into Python code that does what a hand-written mapping would do (read a key,
apply a default, look a value up, convert it, store it). The code is generated only from the
validated spec: names are our own, user values enter as constants in the function's namespace,
and expressions enter as trees that :mod:`pipelines.expressions` has checked and rewritten —
raw text from a file is never evaluated. The namespace has no builtins.

:func:`compile_mapping` returns a :class:`CompiledMapping`; calling it maps one record (a dict,
e.g. decoded JSON or ``msgspec.to_builtins`` of a struct) into one target document. It raises
:class:`connectors.errors.MappingError` naming the mapping, the record and the target field.
Calling it is thread-safe and has no side effects.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

from connectors.errors import BridgeError, ConfigError, MappingError
from pipelines.codegen_steps import FieldSteps, is_set
from pipelines.compiled import _MISSING as _MISS
from pipelines.compiled import (
    CompiledMapping,
    UnmappedValueError,
    expression_error,
    failed_field,
    mapping_error,
    record_label,
)
from pipelines.expressions import ExpressionError, parse_expression, rewrite
from pipelines.specs import ChildMapping, FieldRule, MappingSpec

__all__ = ["CompiledMapping", "UnmappedValueError", "compile_expression", "compile_mapping", "record_label"]


class _Gen(FieldSteps):
    """Generates the code of one mapping: one function, child mappings as loops inside it."""

    def field(self, indent: int, target: str, rule: FieldRule, label: str) -> None:
        """Emit the code of one target field."""
        if not self.invariant(rule):
            kind = self.value(indent, target, rule, label, direct=True)
            if kind >= 0:
                self.store(indent, target, rule, kind, label)
            self._mask(rule, target, label)
            return
        # a field of a child that reads only the top record, parameters and the context (the
        # order currency on every sales line): computed for the first item, then reused
        self.n += 1
        cache = f"_c{self.n}"
        self.invariants.append(cache)
        self.emit(indent, f"v = {cache}", label)
        self.emit(indent, "if v is _MISS:", label)
        kind = self.value(indent + 1, target, rule, label, direct=False)
        self.emit(indent + 1, f"{cache} = v", label)
        self.store(indent, target, rule, kind, label)
        self._mask(rule, target, label)

    def invariant(self, rule: FieldRule) -> bool:
        """True inside a child loop for a rule whose every reference is to the top record,
        a parameter or the context: its value is the same for every item."""
        if self.scope["src"] == "src":
            return False
        texts = [*(rule.from_ if isinstance(rule.from_, list) else [rule.from_] if rule.from_ else [])]
        texts += [rule.expr] if rule.expr is not None else []
        for case in rule.cases or []:
            texts += [case.if_] + ([case.expr] if case.expr is not None else [])
        if rule.currency is not None:
            texts += [t for t in (rule.currency.rate, rule.currency.code) if t is not None]
        roots = {root for text in texts for root, _ in parse_expression(text).refs}
        # parameters alone are constants already: nothing to cache
        return bool(roots - {"params"}) and roots <= {"root", "params", "context"}

    def value(self, indent: int, target: str, rule: FieldRule, label: str, direct: bool) -> int:
        """Emit the computation of `v` for one field; returns what is known of `v` (see
        :class:`FieldSteps`), or -1 when the value was stored already (only when ``direct``)."""
        e = lambda t: self.emit(indent, t, label)  # noqa: E731 - local shorthand
        kind = self.ANY
        if rule.cases is not None:
            values: list[Any] = []
            for i, case in enumerate(rule.cases):
                test = self.expr(case.if_)
                e(f"{'if' if i == 0 else 'elif'} {test}:")
                value = self.expr(case.expr) if case.expr is not None else ast.unparse(self.const(case.then))
                values.append(_MISS if case.expr is not None else case.then)
                self.emit(indent + 1, f"v = {value}", label)
            e("else:")
            self.emit(indent + 1, f"v = {ast.unparse(self.const(rule.else_))}", label)
            if all(is_set(x) for x in (*values, rule.else_)):
                kind = self.SET  # every branch gives a fixed, non-empty value
        elif rule.expr is not None or rule.has_const:
            node = (
                rewrite(parse_expression(rule.expr), self)
                if rule.expr is not None
                else self.const(rule.const)
            )
            plain = not (rule.lookup or rule.convert or rule.currency or "default" in rule.model_fields_set)
            fixed = isinstance(node, ast.Constant) or (
                isinstance(node, ast.Name) and node.id.startswith("_k")
            )
            # lang_values and slug_values always give a list, line_number a number: nothing to
            # check before storing
            listing = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and (node.func.id.startswith("_lv") or node.func.id == "_fn_slug_values")
            ) or (isinstance(node, ast.Name) and node.id == self.scope["ln"])
            if (
                plain
                and (fixed or listing)
                and (rule.const if rule.has_const else getattr(node, "value", 1)) not in (None, "")
            ):
                if not direct:
                    e(f"v = {ast.unparse(node)}")
                    return self.SET
                var, key = self.out_var(target)  # a fixed value or a list: store it, nothing to check
                e(f"{var}[{key!r}] = {ast.unparse(node)}")
                return -1
            e(f"v = {ast.unparse(node)}")
        elif isinstance(rule.from_, list):
            parts = ", ".join(self.path(p) for p in rule.from_)
            e(f"v = _join({rule.join!r}, ({parts},))")
            kind = self.OPT  # join gives None or non-empty text
        elif rule.from_ is not None and direct and self.shares_number(rule):
            # a decimal conversion of a source field: keep the number it reads, so that an
            # expression below using the same field (`price * quantity`) does not parse it again
            read = self.path(rule.from_)
            self.n += 1
            e(f"v = {read}")
            self.read_number(indent, label)
            e(f"_n{self.n} = v")  # dropped at the end when nothing reused it
            self.numbers[read] = f"_n{self.n}"
            kind = self.NUMBER
        elif rule.from_ is not None:
            e(f"v = {self.path(rule.from_)}")
        else:
            e("v = None")
        if "default" in rule.model_fields_set:
            if kind != self.SET:
                e(f"if v is None or v == '': v = {ast.unparse(self.const(rule.default))}")
            if is_set(rule.default):
                kind = self.SET
        last = direct and rule.convert is None and rule.currency is None
        if rule.lookup is not None:
            kind = self.lookup_step(indent, rule, kind, label, target if last else None)
            if kind < 0:
                return kind  # the lookup stored the value itself
        if rule.convert is not None:
            kind = self.convert_step(indent, rule.convert, kind, label)
        if rule.currency is not None:
            self.currency_step(indent, rule.currency, label)
            kind = self.OPT  # a Decimal or None
        return kind

    def body(
        self,
        indent: int,
        fields: dict[str, FieldRule],
        children: dict[str, ChildMapping],
        prefix: str,
        tail: str = "return out",
    ) -> None:
        """Emit the code of one level (the record, or an item of a child list)."""
        system = self.spec.source.system
        src = self.scope["src"]
        hoists: dict[str, str] = {}
        self.level_hoists[src] = hoists
        saved_nested, self.nested = self.nested, {}
        self.emit(indent, f"{self.scope['out']} = {{}}")
        start = len(self.lines)
        for target, rule in fields.items():
            if rule.owner not in ("both", system):
                continue  # owned by the other system: this direction never writes it
            self.field(indent, target, rule, f"{prefix}{target}")
        for target, child in children.items():
            self.child(indent, target, child, f"{prefix}{target}")
        # attach nested objects, deepest first, only when something was stored in them
        for path, var in sorted(self.nested.items(), key=lambda kv: -kv[0].count(".")):
            parent_var, key = self.out_var(path)
            self.emit(indent, f"if {var}:")
            self.emit(indent + 1, f"{parent_var}[{key!r}] = {var}")
        self.emit(indent, tail)
        hoisted = [
            ("    " * indent + f"{name} = {src}.get({key!r}) or _E", None) for key, name in hoists.items()
        ]
        hoisted += [("    " * indent + f"{var} = {{}}", None) for var in self.nested.values()]
        self.lines[start:start] = hoisted
        del self.level_hoists[src]
        self.nested = saved_nested

    def child(self, indent: int, target: str, child: ChildMapping, label: str) -> None:
        """Emit a child mapping as a loop over its source list (no function call per item)."""
        each = self.expr(child.each)
        var, key = self.out_var(target)
        self.n += 1
        k = self.n
        rows, item, ln, out = f"_rows{k}", f"_it{k}", f"_ln{k}", f"_r{k}"
        self.emit(indent, f"{rows} = []", label)
        loop = len(self.lines)
        self.emit(indent, f"for {ln}, {item} in _enum(_items({each}), 1):", label)
        saved, saved_invariants = self.scope, self.invariants
        self.scope = {"src": item, "out": out, "parent": saved["src"], "ln": ln}
        self.invariants = []
        try:
            if child.where is not None:
                self.emit(indent + 1, f"if not ({self.expr(child.where)}):", label)
                self.emit(indent + 2, "continue", label)
            self.body(indent + 1, child.fields, child.children, f"{label}[].", tail=f"{rows}.append({out})")
            # the values the items share start unknown, before the loop
            self.lines[loop:loop] = [("    " * indent + f"{c} = _MISS", label) for c in self.invariants]
        finally:
            self.scope, self.invariants = saved, saved_invariants
        self.emit(indent, f"if {rows}:", label)
        self.emit(indent + 1, f"{var}[{key!r}] = {rows}", label)

    def assemble(self) -> tuple[str, dict[int, str]]:
        """The module source and, for each line number, the target field it computes."""
        header = [
            ("def _map(src, ctx=None):", None),
            ("    if src.__class__ is not _dict:", None),
            ("        src = _builtins(src)", None),
            ("    if ctx is None:", None),
            ("        ctx = _E", None),
            ("    root = src", None),
            ("    parent = None", None),
            ("    ln = None", None),
            ("    try:", None),
        ]
        # the handler turns any failure into a MappingError naming the field (see _fail)
        footer = [
            ("    except _BE:", None),
            ("        raise", None),
            ("    except _Exc as exc:", None),
            ("        raise _fail(exc, src) from None", None),
        ]
        # a number kept by a decimal conversion that nothing reused: read the field plainly
        unused = {f"{var} = v" for var in self.numbers.values() if var not in self.numbers_used}
        body = [(text, label) for text, label in self.lines if text.lstrip() not in unused]
        all_lines = header + body + footer
        source = "\n".join(text for text, _ in all_lines)
        labels = {i: lab for i, (_, lab) in enumerate(all_lines, 1) if lab is not None}
        return source, labels


def compile_mapping(spec: MappingSpec, params: Mapping[str, Any] | None = None) -> CompiledMapping:
    """Compile ``spec`` (with ``params`` overriding the spec's parameters) into a function.

    Raises ConfigError when the spec cannot be compiled (bad expression, undefined lookup
    table or parameter). Compile once and reuse: compiling costs milliseconds, calling microseconds.
    """
    merged = {**spec.params, **(params or {})}
    gen = _Gen(spec, merged)
    try:
        gen.body(2, spec.fields, spec.children, "")
    except ExpressionError as exc:
        raise ConfigError(
            f"Mapping {spec.mapping} ({spec.file}) cannot be compiled: {exc}", [str(exc)]
        ) from None
    source, line_fields = gen.assemble()
    masks = dict(gen.masks)
    fname = f"<mapping {spec.mapping}>"

    def fail(exc: Exception, record: Any) -> MappingError:
        return mapping_error(spec, record, failed_field(exc, fname, line_fields), exc, masks)

    gen.ns.update(_fail=fail, _BE=BridgeError, _Exc=Exception)
    exec(compile(source, fname, "exec"), gen.ns)  # noqa: S102 - code generated from a validated spec, no builtins
    return CompiledMapping(spec=spec, function=gen.ns["_map"], source_code=source, masks=masks, params=merged)


class _ExprGen(_Gen):
    """Code context for standalone expressions (step conditions, guard and validation rules)."""

    def lookup(self, table: str) -> ast.expr:
        raise ExpressionError("lookup() is only available inside a mapping")


def compile_expression(text: str, params: Mapping[str, Any] | None = None) -> Callable[[Any, Any], Any]:
    """Compile one expression into ``f(record, context)``; names resolve on ``record``,
    ``context.x`` on the context, ``params.x`` on ``params``. Raises ConfigError when the
    expression is not valid. The returned function raises a MappingError naming the expression
    when it cannot be evaluated on a record (a null operand, a division by zero, text that is
    not a number); a BridgeError raised inside passes through."""
    spec = MappingSpec.model_validate(
        {
            "mapping": "expression",
            "source": {"system": "prestashop"},
            "target": {"system": "ax"},
            "fields": {},
        }
    )
    gen = _ExprGen(spec, dict(params or {}))
    try:
        body = gen.expr(text)
    except ExpressionError as exc:
        raise ConfigError(f"The expression {text!r} is not valid: {exc}", [str(exc)]) from None
    source = (
        "def _expr(src, ctx):\n    root = src\n    parent = None\n    ln = None\n"
        f"    try:\n        return {body}\n"
        "    except _BE:\n        raise\n"
        "    except _Exc as exc:\n        raise _fail(exc) from None\n"
    )
    gen.ns.update(_fail=lambda exc: expression_error(text, exc), _BE=BridgeError, _Exc=Exception)
    exec(compile(source, "<expression>", "exec"), gen.ns)  # noqa: S102 - generated from a checked tree
    return gen.ns["_expr"]  # type: ignore[no-any-return]
