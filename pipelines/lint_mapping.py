"""Lint checks of one mapping spec against the source and target field tables.

Used by :mod:`pipelines.lint`. Checks: unknown source fields (with did-you-mean), unknown or
read-only target fields, undefined lookup tables and parameters, type mismatches (conversions,
constants, lookup and case values against the target's type, enum, length and validator),
unmapped required target fields, unused lookup tables. Each problem carries the YAML path of
the rule so the caller can give its line.
"""

from __future__ import annotations

from typing import Any

from pipelines.expressions import ExpressionError, ParsedExpression, field_path, parse_expression
from pipelines.lint_refs import (
    Report,
    _check_source_path,
    _Scope,
    _suggest,
    divisions_by_field,
    missing_divisor_warning,
    zone_problem,
)
from pipelines.specs import ChildMapping, FieldRule, MappingSpec
from pipelines.targets import EntitySchema, FieldInfo, schema_for
from pipelines.validators import ax_type_problem, php_empty, prestashop_validator

__all__ = ["check_mapping"]

# conversions whose result cannot go into a target of these kinds
_BAD_TARGET_KINDS = {
    "date": {"number", "integer", "bool", "enum"},
    "datetime": {"number", "integer", "bool", "enum"},
    "decimal": {"date", "datetime", "bool", "enum"},
    "int": {"date", "datetime", "enum"},
    "noyes": {"number", "integer", "date", "datetime", "text", "bool"},
    "from_noyes": {"date", "datetime", "enum"},
    "bool01": {"date", "datetime", "enum"},
}


# (source kind, target kind) pairs that cannot be copied as they are
_INCOMPATIBLE = {
    ("date", "number"),
    ("date", "integer"),
    ("date", "bool"),
    ("date", "enum"),
    ("datetime", "number"),
    ("datetime", "integer"),
    ("datetime", "bool"),
    ("datetime", "enum"),
    ("number", "date"),
    ("number", "datetime"),
    ("integer", "date"),
    ("integer", "datetime"),
    ("bool", "enum"),
    ("bool", "date"),
    ("bool", "datetime"),
}


def _expr_refs(text: str, where: tuple[str | int, ...], report: Report) -> ParsedExpression | None:
    try:
        return parse_expression(text)
    except ExpressionError as exc:
        report(where, f"invalid expression {text!r}: {exc} (at column {exc.column + 1})", "error")
        return None


def _value_problem(info: FieldInfo, value: Any, system: str) -> str | None:
    """Why a literal value would be refused by the target field, or None."""
    if value is None:
        return None
    text = format(value, "f") if hasattr(value, "as_tuple") else str(value)
    if info.max_length is not None and len(text) > info.max_length:
        return f"is longer than the {info.max_length} characters of the target field"
    if system == "prestashop":
        check = prestashop_validator(info.validator) if info.validator else None
        if check is not None and not php_empty(value) and not check(text):
            return f"fails the target's validator {info.validator}"
        return None
    return ax_type_problem(info.type, value, info.enum_values)


class _MappingLinter:
    def __init__(self, spec: MappingSpec, report: Report) -> None:
        self.spec = spec
        self.report = report
        self.used_tables: set[str] = set()
        src = spec.source
        self.source = schema_for(src.system, src.resource, src.service, src.entity, src.includes)
        tgt = spec.target
        self.target = schema_for(tgt.system, tgt.resource, tgt.service, tgt.entity)

    def run(self) -> None:
        spec = self.spec
        if self.source is None:
            what = (
                spec.source.resource
                if spec.source.system == "prestashop"
                else f"{spec.source.service}.{spec.source.entity}"
            )
            self.report(("source",), f"unknown {spec.source.system} source '{what}'", "error")
        else:
            for name, ref in spec.source.includes.items():
                if (
                    ref != "open"
                    and self.source.includes.get(name) is not None
                    and self.source.includes[name].open
                    and not self.source.includes[name].fields
                ):
                    self.report(
                        ("source", "includes", name),
                        f"include '{name}': unknown schema '{ref}' (write 'open' "
                        "for records without a field table)",
                        "error",
                    )
        if self.target is None:
            what = (
                spec.target.resource
                if spec.target.system == "prestashop"
                else f"{spec.target.service}.{spec.target.entity}"
            )
            self.report(("target",), f"unknown {spec.target.system} target '{what}'", "error")
        top = _Scope(self.source, None, self.source)
        self.fields(top, self.target, spec.fields, ("fields",))
        self.children(top, self.target, spec.children, ("children",))
        for name in spec.lookups:
            if name not in self.used_tables:
                self.report(("lookups", name), f"lookup table '{name}' is never used", "warning")

    def fields(
        self,
        scope: _Scope,
        target: EntitySchema | None,
        fields: dict[str, FieldRule],
        where: tuple[str | int, ...],
    ) -> None:
        mapped = set()
        system = self.spec.source.system
        for name, rule in fields.items():
            # a rule owned by the other system is never written in this direction
            if rule.owner in ("both", system):
                mapped.add(name.split(".")[0])
            self.field(scope, target, name, rule, (*where, name))
        if target is not None and target.system == "ax" or (target is not None and not target.open):
            self.required(target, fields, where, mapped)

    def required(
        self,
        target: EntitySchema,
        fields: dict[str, FieldRule],
        where: tuple[str | int, ...],
        mapped: set[str],
    ) -> None:
        for fname, info in target.fields.items():
            if info.required and not info.read_only and fname not in mapped:
                owner = fields[fname].owner if fname in fields else None
                why = (
                    f" (its rule is owned by {owner}, so mapping from {self.spec.source.system} never writes it)"
                    if owner is not None
                    else ""
                )
                self.report(
                    where, f"required target field '{fname}' of {target.name} is not mapped{why}", "error"
                )
        # nested entities that are written need their own required fields
        for top in {n.split(".")[0] for n in fields if "." in n}:
            sub = target.child(top)
            if sub is not None:
                inner = {n.split(".", 1)[1] for n in fields if n.startswith(top + ".")}
                for fname, info in sub.fields.items():
                    if info.required and fname not in {i.split(".")[0] for i in inner}:
                        self.report(
                            where,
                            f"required target field '{top}.{fname}' of {sub.name} is not mapped",
                            "error",
                        )

    def field(
        self,
        scope: _Scope,
        target: EntitySchema | None,
        name: str,
        rule: FieldRule,
        where: tuple[str | int, ...],
    ) -> None:
        info: FieldInfo | None = None
        if target is not None:
            found = target.resolve(tuple(name.split(".")))
            if found is None:
                last = name.split(".")[-1]
                parent = target.resolve(tuple(name.split(".")[:-1])) if "." in name else target
                names = parent.names() if isinstance(parent, EntitySchema) else target.names()
                self.report(
                    where, f"unknown target field '{name}' in {target.name}{_suggest(last, names)}", "error"
                )
            elif isinstance(found, FieldInfo):
                info = found
                if info.read_only:
                    self.report(
                        where,
                        f"target field '{name}' is read-only in {target.name}: the target refuses it",
                        "error",
                    )
        sources: list[tuple[str, tuple[str | int, ...]]] = []
        if isinstance(rule.from_, list):
            sources = [(p, (*where, "from", i)) for i, p in enumerate(rule.from_)]
        elif rule.from_ is not None:
            sources = [(rule.from_, (*where, "from"))]
        exprs: list[tuple[str, tuple[str | int, ...]]] = []
        if rule.expr is not None:
            exprs.append((rule.expr, (*where, "expr")))
        for i, case in enumerate(rule.cases or []):
            exprs.append((case.if_, (*where, "cases", i, "if")))
            if case.expr is not None:
                exprs.append((case.expr, (*where, "cases", i, "expr")))
        if rule.currency is not None:
            for key in ("rate", "code"):
                value = getattr(rule.currency, key)
                if value is not None:
                    exprs.append((value, (*where, "currency", key)))
            if rule.currency.rates is not None:
                self.table_ref(rule.currency.rates, (*where, "currency", "rates"))
        source_info: FieldInfo | None = None
        for text, w in [*sources, *exprs]:
            parsed = _expr_refs(text, w, self.report)
            if parsed is None:
                continue
            for root, path in parsed.refs:
                found_info = _check_source_path(scope, root, path, w, self.spec, self.report)
                if w == (*where, "from"):
                    source_info = found_info
            for table in parsed.lookups:
                self.table_ref(table, w)
            if w != (*where, "from"):
                self.divisors(scope, parsed, w)
        plain_copy = not (rule.convert or rule.lookup or rule.currency)
        if info is not None and source_info is not None and plain_copy:
            if (source_info.kind, info.kind) in _INCOMPATIBLE:
                hint = (
                    " (add convert: noyes)"
                    if source_info.kind == "bool" and info.enum_values and "Yes" in info.enum_values
                    else ""
                )
                self.report(
                    (*where, "from"),
                    f"type mismatch: source field '{source_info.name}' ({source_info.type}) "
                    f"cannot be copied into target field '{info.name}' ({info.type}) without a conversion{hint}",
                    "error",
                )
        if rule.lookup is not None:
            self.table_ref(rule.lookup, (*where, "lookup"))
        if rule.convert is not None and rule.convert.to in ("date", "datetime"):
            for key in ("from_tz", "to_tz"):
                issue = zone_problem(getattr(rule.convert, key), self.spec)
                if issue is not None:
                    self.report((*where, "convert", key), issue, "error")
        if info is not None:
            self.types(info, rule, where)

    def divisors(self, scope: _Scope, parsed: ParsedExpression, where: tuple[str | int, ...]) -> None:
        """Warn where the expression divides by a field that may be missing: the record then
        fails with a null operand (see :mod:`pipelines.expressions`)."""
        for division, root, path in divisions_by_field(parsed):
            if root == "out":
                continue  # a target field mapped above: its own rule says whether it is set
            schema = {
                "src": scope.schema,
                "root": scope.root,
                "parent": scope.parent.schema if scope.parent else None,
            }.get(root)
            name = schema.name if schema is not None else "the source record"
            issue = missing_divisor_warning(division, root, path, schema, name)
            if issue is not None:
                self.report(where, issue, "warning")

    def table_ref(self, table: str, where: tuple[str | int, ...]) -> None:
        self.used_tables.add(table)
        if table not in self.spec.lookups:
            self.report(where, f"unknown lookup table '{table}'{_suggest(table, self.spec.lookups)}", "error")

    def types(self, info: FieldInfo, rule: FieldRule, where: tuple[str | int, ...]) -> None:
        system = self.spec.target.system
        if rule.convert is not None:
            bad = _BAD_TARGET_KINDS.get(rule.convert.to, set())
            kind = info.kind
            if (
                rule.convert.to == "noyes"
                and kind == "enum"
                and info.enum_values
                and "Yes" not in info.enum_values
            ):
                bad = {"enum"}
            if kind in bad:
                self.report(
                    (*where, "convert"),
                    f"type mismatch: convert to {rule.convert.to} gives a value the "
                    f"target field of type {info.type} cannot hold",
                    "error",
                )
        literals: list[tuple[Any, tuple[str | int, ...]]] = []
        if rule.has_const:
            literals.append((rule.const, (*where, "const")))
        for i, case in enumerate(rule.cases or []):
            if case.expr is None:
                literals.append((case.then, (*where, "cases", i, "then")))
        if rule.cases is not None:
            literals.append((rule.else_, (*where, "else")))
        if rule.lookup is not None and rule.lookup in self.spec.lookups and rule.convert is None:
            table = self.spec.lookups[rule.lookup]
            for key, value in table.values.items():
                literals.append((value, ("lookups", rule.lookup, "values", key)))
            if table.on_missing == "default":
                literals.append((table.default, ("lookups", rule.lookup, "default")))
        for value, w in literals:
            issue = _value_problem(info, value, system)
            if issue is not None:
                shown = format(value, "f") if hasattr(value, "as_tuple") else str(value)
                self.report(w, f"value {shown!r} for target field '{info.name}' {issue}", "error")

    def children(
        self,
        scope: _Scope,
        target: EntitySchema | None,
        children: dict[str, ChildMapping],
        where: tuple[str | int, ...],
    ) -> None:
        for key, child in children.items():
            w = (*where, key)
            child_target: EntitySchema | None = None
            if child.resource is not None:
                child_target = schema_for("prestashop", child.resource)
                if child_target is None:
                    self.report((*w, "resource"), f"unknown PrestaShop resource '{child.resource}'", "error")
            elif target is not None:
                found = target.resolve(tuple(key.split(".")))
                if isinstance(found, EntitySchema):
                    child_target = found
                else:
                    last = key.split(".")[-1]
                    self.report(
                        w,
                        f"unknown target list '{key}' in {target.name}{_suggest(last, target.names())}",
                        "error",
                    )
            child_source = self.each_schema(scope, child, w)
            inner = _Scope(child_source, scope, self.source)
            if child.where is not None:
                parsed = _expr_refs(child.where, (*w, "where"), self.report)
                for root, path in parsed.refs if parsed else []:
                    _check_source_path(inner, root, path, (*w, "where"), self.spec, self.report)
                if parsed is not None:
                    self.divisors(inner, parsed, (*w, "where"))
            self.fields(inner, child_target, child.fields, (*w, "fields"))
            self.children(inner, child_target, child.children, (*w, "children"))

    def each_schema(
        self, scope: _Scope, child: ChildMapping, where: tuple[str | int, ...]
    ) -> EntitySchema | None:
        parsed = _expr_refs(child.each, (*where, "each"), self.report)
        if parsed is None:
            return None
        for root, path in parsed.refs:
            _check_source_path(scope, root, path, (*where, "each"), self.spec, self.report)
        base: EntitySchema | None = None
        ref = field_path(parsed.tree)
        if ref is not None:
            root, path = ref
            start = scope.schema if root == "src" else (scope.root if root == "root" else None)
            found = start.resolve(path) if start is not None and path else start
            base = found if isinstance(found, EntitySchema) else None
        elif parsed.text.replace(" ", "") == "[root]":
            base = scope.root
        if base is not None and child.includes:
            extra = {}
            for name, include in child.includes.items():
                extra[name] = schema_for(
                    "prestashop" if base.system == "prestashop" else "ax",
                    resource=include,
                    service=include.split(".")[0],
                    entity=include.split(".")[-1],
                ) or EntitySchema(base.system, include, open=True)
            base = EntitySchema(
                base.system, base.name, base.fields, base.children, base.open, {**base.includes, **extra}
            )
        return base


def check_mapping(spec: MappingSpec, report: Report) -> None:
    """Run every mapping check, calling ``report(yaml_path, message, severity)`` per problem."""
    _MappingLinter(spec, report).run()
