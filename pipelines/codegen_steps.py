"""The steps of one target field in generated mapping code: each takes the value `v` through a
lookup table, a conversion or a currency conversion and stores it, emitting only the checks
that can fail. :class:`pipelines.compiler._Gen` writes the value sources, levels and loops.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from typing import Any

from connectors.errors import ConfigError
from pipelines import functions as fn
from pipelines.codegen import Namespace
from pipelines.compiled import _MISSING as _MISS
from pipelines.compiled import _key
from pipelines.expressions import parse_expression, rewrite
from pipelines.masking import default_mask_for
from pipelines.specs import Conversion, CurrencyRule, FieldRule

__all__ = ["FieldSteps", "is_set"]


def is_set(value: Any) -> bool:
    """True when a fixed value is stored as it is (neither missing nor empty text)."""
    return value is not _MISS and value is not None and not (value.__class__ is str and value == "")


class FieldSteps(Namespace):
    """Emitters of the steps of a field (see the module docstring)."""

    def emit(self, indent: int, text: str, label: str | None = None) -> None:
        self.lines.append(("    " * indent + text, label))

    # -- fields ---------------------------------------------------------------------------------
    # What is known of `v` while a field's code is written, so that no check is emitted that
    # cannot fail (a hand-written mapping would not test a Decimal against ""; doing so costs an
    # abstract-class check per value): ANY may be None or "", OPT is None or a real value, SET
    # is a real value.
    ANY, OPT, SET = 0, 1, 2
    NUMBER = 3  # a number read from the source (a Decimal, an int or None), not yet converted

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
        results_set = all(is_set(x) for x in spec.values.values())
        if spec.on_missing == "default":
            results_set = results_set and is_set(spec.default)
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
