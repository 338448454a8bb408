"""Validate a mapped document against its target before anything is sent.

:func:`validate_document` checks required fields, lengths (AX field lengths from the XSD,
PrestaShop sizes in characters, every language of a multilingual field), PrestaShop validators
and AX types/enum values, walking nested entities and lists. It returns every problem;
:func:`check_document` raises :class:`RecordValidationError` (a
:class:`connectors.errors.ValidationError`) whose message names the record, each field, the
rule and the value — masked where the field is sensitive — ready for the dead-letter queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.errors import ValidationError
from pipelines.masking import default_mask_for, mask_value
from pipelines.specs import MappingSpec
from pipelines.targets import EntitySchema, FieldInfo, schema_for
from pipelines.validators import ax_type_problem, php_empty, prestashop_validator

__all__ = ["FieldProblem", "RecordValidationError", "check_document", "mapping_target", "validate_document"]


@dataclass(frozen=True)
class FieldProblem:
    """One broken rule: the field path, the rule name and a sentence with the (masked) value."""

    field: str
    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


class RecordValidationError(ValidationError):
    """The target would refuse the record. ``problems`` lists each broken rule."""

    def __init__(self, message: str, problems: list[FieldProblem], **kw: Any) -> None:
        super().__init__(message, code="validation_failed", **kw)
        self.problems = problems

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out["problems"] = [p.to_dict() for p in self.problems]
        return out


def _shown(path: str, value: Any, masks: Mapping[str, str]) -> str:
    generic = path.replace("[]", "")
    kind = masks.get(path) or masks.get(generic) or default_mask_for(path.split("[", 1)[0].split(".")[-1])
    return mask_value(value, kind)


def _scalar_problems(
    path: str, info: FieldInfo, value: Any, system: str, masks: Mapping[str, str]
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    values: list[tuple[str, Any]]
    if info.lang and isinstance(value, list):
        values = [
            (f"{path}[lang {v.get('id')}]", v.get("value")) if isinstance(v, Mapping) else (path, v)
            for v in value
        ]
    else:
        values = [(path, value)]
    for path, v in values:
        if isinstance(v, (Mapping, list)):
            problems.append(
                FieldProblem(path, "type", f"{path}: expected a single value, got a {type(v).__name__}")
            )
            continue
        text = "" if v is None else (format(v, "f") if hasattr(v, "as_tuple") else str(v))
        if info.max_length is not None and len(text) > info.max_length:
            problems.append(
                FieldProblem(
                    path,
                    f"max_length({info.max_length})",
                    f"{path}: value {_shown(path, text, masks)} has {len(text)} characters, more than the {info.max_length} allowed",
                )
            )
        if system == "prestashop":
            if info.validator and not info.setter and not php_empty(v):
                check = prestashop_validator(info.validator)
                if check is not None and not check(text):
                    problems.append(
                        FieldProblem(
                            path,
                            info.validator,
                            f"{path}: value {_shown(path, text, masks)} fails {info.validator}",
                        )
                    )
        elif v is not None:
            issue = ax_type_problem(info.type, v, info.enum_values)
            if issue is not None:
                problems.append(
                    FieldProblem(
                        path, f"type({info.type})", f"{path}: value {_shown(path, text, masks)} {issue}"
                    )
                )
    return problems


def validate_document(
    document: Mapping[str, Any],
    schema: EntitySchema,
    *,
    masks: Mapping[str, str] | None = None,
    require: bool = True,
    prefix: str = "",
    extra: Mapping[str, EntitySchema] | None = None,
) -> list[FieldProblem]:
    """Every problem of ``document`` against ``schema`` (empty list when valid).

    ``require=False`` skips required-field checks (partial updates such as a PATCH).
    Unknown fields are reported too: the target would ignore or refuse them. ``extra`` maps
    top-level keys holding lists of separate records (e.g. ``specific_prices`` next to a
    product) to their own schema.
    """
    masks = masks or {}
    problems: list[FieldProblem] = []
    if extra:
        document = dict(document)
        for key, sub_schema in extra.items():
            for i, item in enumerate(document.pop(key, None) or []):
                problems += validate_document(
                    item, sub_schema, masks=_item_masks(masks, key, i), require=require, prefix=f"{key}[{i}]."
                )
    if require:
        for name, info in schema.fields.items():
            if info.required and not info.read_only and php_empty_required(document.get(name)):
                problems.append(
                    FieldProblem(f"{prefix}{name}", "required", f"{prefix}{name}: a value is required")
                )
    for name, value in document.items():
        path = f"{prefix}{name}"
        field_info = schema.fields.get(name)
        if field_info is not None and not (isinstance(value, (Mapping, list)) and not field_info.lang):
            problems += _scalar_problems(path, field_info, value, schema.system, masks)
            continue
        sub = schema.child(name)
        if sub is None:
            if not schema.open:
                problems.append(
                    FieldProblem(path, "unknown_field", f"{path}: the target {schema.name} has no such field")
                )
            continue
        if isinstance(value, Mapping):
            problems += validate_document(value, sub, masks=masks, require=require, prefix=f"{path}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    problems += validate_document(
                        item, sub, masks=_item_masks(masks, path, i), require=require, prefix=f"{path}[{i}]."
                    )
    return problems


def _item_masks(masks: Mapping[str, str], path: str, index: int) -> Mapping[str, str]:
    # mask paths of list items are recorded as "SalesLine[].Name"; errors show "SalesLine[2].Name"
    generic = f"{path}[]."
    extra = {f"{path}[{index}].{k[len(generic) :]}": v for k, v in masks.items() if k.startswith(generic)}
    return {**masks, **extra} if extra else masks


def php_empty_required(value: Any) -> bool:
    """Missing for a required field: None, "" or an empty list (``0`` is a value)."""
    return value is None or value == "" or value == []


def mapping_target(spec: MappingSpec) -> tuple[EntitySchema | None, dict[str, EntitySchema]]:
    """The target schema of a mapping and the schemas of its children that are separate
    PrestaShop records (``resource:``)."""
    t = spec.target
    schema = schema_for(t.system, t.resource, t.service, t.entity)
    extra = {}
    for key, child in spec.children.items():
        if child.resource:
            sub = schema_for("prestashop", child.resource)
            if sub is not None:
                extra[key] = sub
    return schema, extra


def check_document(
    document: Mapping[str, Any],
    schema: EntitySchema,
    *,
    record: str,
    masks: Mapping[str, str] | None = None,
    require: bool = True,
    extra: Mapping[str, EntitySchema] | None = None,
) -> None:
    """Raise RecordValidationError naming ``record`` when ``document`` breaks any rule."""
    problems = validate_document(document, schema, masks=masks, require=require, extra=extra)
    if problems:
        first = problems[0].message
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise RecordValidationError(
            f"The {schema.system} target {schema.name} would refuse {record}: {first}{more}.", problems
        )
