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
from decimal import Decimal
from typing import Any

from connectors.errors import BridgeError, ConfigError, MappingError
from pipelines import functions as fn
from pipelines.codegen import Namespace
from pipelines.compiled import (
    _MISSING as _MISS,
)
from pipelines.compiled import (
    CompiledMapping,
    UnmappedValueError,
    _key,
    failed_field,
    mapping_error,
    record_label,
)
from pipelines.expressions import ExpressionError, parse_expression, rewrite
from pipelines.masking import default_mask_for
from pipelines.specs import ChildMapping, Conversion, CurrencyRule, FieldRule, MappingSpec

__all__ = ["CompiledMapping", "UnmappedValueError", "compile_expression", "compile_mapping", "record_label"]


def _is_set(value: Any) -> bool:
    """True when a fixed value is stored as it is (neither missing nor empty text)."""
    return value is not _MISS and value is not None and not (value.__class__ is str and value == "")


class _Gen(Namespace):
    """Generates the code of one mapping: one function, child mappings as loops inside it."""

    def emit(self, indent: int, text: str, label: str | None = None) -> None:
        self.lines.append(("    " * indent + text, label))

    # -- fields ---------------------------------------------------------------------------------
    # What is known of `v` while a field's code is written, so that no check is emitted that
    # cannot fail (a hand-written mapping would not test a Decimal against ""; doing so costs an
    # abstract-class check per value): ANY may be None or "", OPT is None or a real value, SET
    # is a real value.
    ANY, OPT, SET = 0, 1, 2
    NUMBER = 3  # a number read from the source (a Decimal, an int or None), not yet converted

    def field(self, indent: int, target: str, rule: FieldRule, label: str) -> None:
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
            if all(_is_set(x) for x in (*values, rule.else_)):
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
                var, key = self.out_var(target)  # a fixed value or a list: store it, nothing to check
                e(f"{var}[{key!r}] = {ast.unparse(node)}")
                self._mask(rule, target, label)
                return
            e(f"v = {ast.unparse(node)}")
        elif isinstance(rule.from_, list):
            parts = ", ".join(self.path(p) for p in rule.from_)
            e(f"v = _join({rule.join!r}, ({parts},))")
            kind = self.OPT  # join gives None or non-empty text
        elif rule.from_ is not None and self.shares_number(rule):
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
            if _is_set(rule.default):
                kind = self.SET
        last = rule.convert is None and rule.currency is None
        if rule.lookup is not None:
            kind = self.lookup_step(indent, rule, kind, label, target if last else None)
            if kind < 0:
                self._mask(rule, target, label)
                return  # the lookup stored the value itself
        if rule.convert is not None:
            kind = self.convert_step(indent, rule.convert, kind, label)
        if rule.currency is not None:
            self.currency_step(indent, rule.currency, label)
            kind = self.OPT  # a Decimal or None
        self.store(indent, target, rule, kind, label)

    def shares_number(self, rule: FieldRule) -> bool:
        """True when the field reads a source field straight into a decimal conversion: its
        statement runs unconditionally before every later field of the record, so a later
        expression may reuse the number. Target fields (``out.x``) and the context are not
        shared: they are read where they are used."""
        if not (
            isinstance(rule.from_, str)
            and rule.convert is not None
            and rule.convert.to == "decimal"
            and rule.lookup is None
            and "default" not in rule.model_fields_set
        ):
            return False
        refs = parse_expression(rule.from_).refs
        return len(refs) == 1 and refs[0][0] in ("src", "root", "parent")

    def store(self, indent: int, target: str, rule: FieldRule, kind: int, label: str) -> None:
        """Store `v` in the target field, with only the checks `kind` leaves open."""
        var, key = self.out_var(target)
        e = lambda t: self.emit(indent, t, label)  # noqa: E731 - local shorthand
        if rule.required and kind != self.SET:
            e("if v is None:" if kind == self.OPT else "if v is None or v == '':")
            self.emit(indent + 1, "raise _missing()", label)
        if rule.required or kind == self.SET:
            e(f"{var}[{key!r}] = v")
        else:
            e("if v is not None:" if kind == self.OPT else "if v is not None and v != '':")
            self.emit(indent + 1, f"{var}[{key!r}] = v", label)
        self._mask(rule, target, label)

    def lookup_step(self, indent: int, rule: FieldRule, kind: int, label: str, store: str | None) -> int:
        """Emit the lookup of `v`; returns what is known of `v` after it, or -1 when the value
        was stored already (``store`` is the target when nothing follows the lookup)."""
        assert rule.lookup is not None
        spec = self.spec.lookups.get(rule.lookup)
        if spec is None:
            raise ConfigError(
                f"Mapping {self.spec.mapping}: field {label} uses the undefined lookup table '{rule.lookup}'."
            )
        var = self.table(rule.lookup)
        results_set = all(_is_set(x) for x in spec.values.values())
        if spec.on_missing == "default":
            results_set = results_set and _is_set(spec.default)
        after = (self.SET if kind == self.SET else self.OPT) if results_set else self.ANY
        if spec.on_missing == "keep" and after != self.ANY:
            after = kind  # an unmapped value passes through as it was
        direct = store is not None and not rule.required and after != self.ANY
        out = f"{self.out_var(store)[0]}[{self.out_var(store)[1]!r}]" if direct and store else "v"
        k = "v if v.__class__ is _S else _key(v)"
        if kind != self.SET:
            self.emit(indent, "if v is not None:", label)
            indent += 1
        if spec.on_missing == "error":
            self.emit(indent, f"w = {var}.get({k}, _MISS)", label)
            self.emit(indent, "if w is _MISS:", label)
            self.emit(indent + 1, f"raise _unmapped({rule.lookup!r}, v)", label)
            self.emit(indent, f"{out} = w", label)
        elif spec.on_missing == "default":
            self.emit(indent, f"{out} = {var}.get({k}, {ast.unparse(self.const(spec.default))})", label)
        else:
            self.emit(indent, f"{out} = {var}.get({k}, v)", label)
        return -1 if direct else after

    def convert_step(self, indent: int, c: Conversion, kind: int, label: str) -> int:
        """Emit the conversion of `v`; returns what is known of `v` after it."""
        e = lambda t: self.emit(indent, t, label)  # noqa: E731 - local shorthand
        if c.to == "decimal":
            self.decimal(indent, c.places, c.rounding, label, parsed=kind == self.NUMBER)
            return self.OPT
        if c.to == "int":
            e(f"v = _int(v, {c.rounding!r})")
            return self.OPT
        if c.to in ("date", "datetime"):
            out_fmt = c.to_format or ("%Y-%m-%d" if c.to == "date" else "iso")
            e(f"v = {self.date_converter(c.from_format, c.from_tz, out_fmt, c.to_tz)}(v)")
            # a date printed with a year is never empty
            return self.OPT if out_fmt == "iso" or "%Y" in out_fmt else self.ANY
        e(f"v = _{c.to}(v)")
        return self.ANY if c.to == "str" else self.OPT  # noyes, from_noyes, bool01: a fixed word

    def read_number(self, indent: int, label: str) -> None:
        """Emit ``v = _dnum(v)`` with number text parsed inline (the same steps, no call)."""
        for depth, text in (
            (0, "if v.__class__ is _S and v:"),
            (1, "try:"),
            (2, "v = _D(v)"),
            (1, "except _DecErr:"),
            (2, "raise _notnum(v) from None"),
            (0, "else:"),
            (1, "v = _dnum(v)"),
        ):
            self.emit(indent + depth, text, label)

    def decimal(
        self, indent: int, places: int | None, rounding: str, label: str, parsed: bool = False
    ) -> None:
        """Emit ``v = <decimal converter>(v)``, with the two usual inputs (number text, a
        Decimal) converted inline: the same steps as the converter without a call per value.
        ``parsed``: `v` was read by :meth:`read_number` already (text is never left)."""
        conv = self.converter(places, rounding)
        if places is None:
            self.emit(indent, f"v = {conv}(v)", label)
            return
        quantum = f"_q{places}"
        self.ns.setdefault(quantum, Decimal(1).scaleb(-places))
        quantize = f"v.quantize({quantum}, {fn.ROUNDING_MODES[rounding]!r})"
        text_first = (
            []
            if parsed
            else [
                (0, "if v.__class__ is _S and v:"),
                (1, "try:"),
                (2, "v = _D(v)"),
                (1, "except _DecErr:"),
                (2, "raise _notnum(v) from None"),
                (1, f"v = {quantize}"),
            ]
        )
        lines = [
            *text_first,
            (0, "elif v.__class__ is _D:" if text_first else "if v.__class__ is _D:"),
            (1, f"v = {quantize}"),
            (0, "else:"),
            (1, f"v = {conv}(v)"),
        ]
        for depth, text in lines:
            self.emit(indent + depth, text, label)

    def currency_step(self, indent: int, cur: CurrencyRule, label: str) -> None:
        """Emit the currency conversion of `v` (a Decimal or None after it)."""
        e = lambda t: self.emit(indent, t, label)  # noqa: E731 - local shorthand
        if cur.rate is not None:
            e(f"v = _cur(v, {self.path(cur.rate)}, {cur.op!r}, {cur.places!r}, {cur.rounding!r})")
            return
        assert cur.rates is not None and cur.code is not None
        code = rewrite(parse_expression(cur.code), self)
        if not isinstance(code, ast.Constant):
            rate = f"_rate({self.table(cur.rates)}, {ast.unparse(code)}, {cur.rates!r})"
            e(f"v = _cur(v, {rate}, {cur.op!r}, {cur.places!r}, {cur.rounding!r})")
            return
        # e.g. params.company_currency: look the rate up now
        table = self.ns[self.table(cur.rates)]
        if _key(code.value) not in table:
            raise ConfigError(
                f"Mapping {self.spec.mapping}: the lookup table '{cur.rates}' has no rate "
                f"for {code.value!r} (field {label})."
            )
        rate_value = fn.num(table[_key(code.value)])
        if not rate_value:
            raise ConfigError(
                f"Mapping {self.spec.mapping}: the rate for {code.value!r} in '{cur.rates}' "
                f"is zero or missing (field {label})."
            )
        # a fixed rate: multiply or divide inline, then round
        op = "*" if cur.op == "multiply" else "/"
        e("if v is not None:")
        if rate_value == 1:  # same currency: only the rounding applies
            self.decimal(indent + 1, cur.places, cur.rounding, label)
        else:
            self.emit(
                indent + 1,
                f"v = {self.converter(cur.places, cur.rounding)}("
                f"_fn_num(v) {op} {ast.unparse(self.const(fn.to_decimal(rate_value, None)))})",
                label,
            )
        self.function("num")

    def _mask(self, rule: FieldRule, target: str, label: str) -> None:
        kind = rule.mask or default_mask_for(target)
        if kind is not None:
            self.masks[label] = kind

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
        self.emit(indent, f"for {ln}, {item} in _enum(_items({each}), 1):", label)
        saved = self.scope
        self.scope = {"src": item, "out": out, "parent": saved["src"], "ln": ln}
        try:
            if child.where is not None:
                self.emit(indent + 1, f"if not ({self.expr(child.where)}):", label)
                self.emit(indent + 2, "continue", label)
            self.body(indent + 1, child.fields, child.children, f"{label}[].", tail=f"{rows}.append({out})")
        finally:
            self.scope = saved
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
    expression is not valid; the returned function raises what the expression raises."""
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
    source = f"def _expr(src, ctx):\n    root = src\n    parent = None\n    ln = None\n    return {body}\n"
    exec(compile(source, "<expression>", "exec"), gen.ns)  # noqa: S102 - generated from a checked tree
    return gen.ns["_expr"]  # type: ignore[no-any-return]
