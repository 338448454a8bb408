"""What a compiled mapping is made of at run time: the helpers its generated code calls,
:class:`CompiledMapping` (the callable), and how a failure becomes a MappingError.

Kept apart from :mod:`pipelines.compiler` (which writes the code) so that what runs per
record is small and easy to read.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import msgspec

from connectors.errors import MappingError
from pipelines import functions as fn
from pipelines.masking import mask_record
from pipelines.specs import MappingSpec

__all__ = [
    "HELPERS",
    "CompiledMapping",
    "OperandError",
    "OperandSite",
    "UnmappedValueError",
    "expression_error",
    "failed_field",
    "mapping_error",
    "operand_failure",
    "record_label",
]

_MISSING = object()


class UnmappedValueError(ValueError):
    """A lookup table has no entry for a value and its policy is ``on_missing: error``."""


class OperandError(ValueError):
    """Arithmetic or an order comparison met a null operand, or a division a zero divisor.

    The message names the operation and the operand as the expression wrote them
    (``total_paid / conversion_rate: conversion_rate is null``) and never a value, so it is
    safe to show even for a sensitive field."""


@dataclass(frozen=True)
class OperandSite:
    """One checked operation of generated code: its text and, for each checked operand (in
    the order the generated code passes them to :func:`operand_failure`), its text and whether
    it must be non-null (``null``) or non-null and non-zero (``zero``, a divisor)."""

    text: str
    checks: tuple[tuple[str, str], ...]


def operand_failure(site: OperandSite, *values: Any) -> Any:
    """Raise the :class:`OperandError` for the first checked operand that failed. Generated code
    calls this only after its own test found a null operand or a zero divisor."""
    for (name, check), value in zip(site.checks, values, strict=True):
        if value is None:
            raise OperandError(f"{site.text}: {name} is null")
        if check == "zero" and not value:
            raise OperandError(f"{site.text}: {name} is zero (division by zero)")
    raise OperandError(f"{site.text}: an operand is null")  # pragma: no cover - the test said so


def _at(value: Any, index: int) -> Any:
    if value is None:
        return None
    try:
        return value[index]
    except (IndexError, KeyError):
        return None


def _put(out: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = out
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def _items(value: Any) -> list[Any]:
    if value.__class__ is list:
        return value  # type: ignore[no-any-return]
    if value is None or value == "":
        return []
    if isinstance(value, Mapping):
        return [value]  # one association row may decode as an object instead of a list
    return list(value)


def _key(value: Any) -> str:
    return fn.to_str(value) or ""


def _unmapped(table: str, value: Any) -> UnmappedValueError:
    return UnmappedValueError(
        f"the value {_key(value)!r} is not in the lookup table '{table}' and the table has no default"
    )


def _rate(table: dict[str, Any], code: Any, name: str) -> Any:
    rate = table.get(_key(code))
    if rate is None:
        raise ValueError(f"no rate for the currency {_key(code)!r} in the lookup table '{name}'")
    return rate


def _builtins(record: Any) -> Any:
    """A msgspec Struct read as builtins (dicts and lists); anything else as it is."""
    return msgspec.to_builtins(record) if isinstance(record, msgspec.Struct) else record


HELPERS: dict[str, Any] = {
    "_dict": dict,
    "_I": int,
    "_builtins": _builtins,
    "_at": _at,
    "_put": _put,
    "_items": _items,
    "_key": _key,
    "_unmapped": _unmapped,
    "_rate": _rate,
    "_MISS": _MISSING,
    "_S": str,
    "_D": Decimal,
    "_missing": lambda: ValueError("the value is missing and the field is required"),
    "_enum": enumerate,
    "_E": {},
    "_dec": fn.to_decimal,
    "_dnum": fn.decimal_number,
    "_DecErr": decimal.InvalidOperation,
    "_notnum": fn.not_a_number,
    "_int": fn.to_int,
    "_str": fn.to_str,
    "_noyes": fn.to_noyes,
    "_from_noyes": fn.from_noyes,
    "_bool01": fn.to_bool01,
    "_pdt": fn.parse_datetime,
    "_fdt": fn.format_datetime,
    "_cur": fn.convert_currency,
    "_join": fn.join,
    "_opfail": operand_failure,
}


def record_label(spec: MappingSpec, record: Any) -> str:
    """How errors name a record: ``orders 'XKBKNABJK'`` from the mapping's ``key`` path."""
    what = spec.source.resource or spec.source.entity or "record"
    if spec.key and isinstance(record, Mapping):
        value: Any = record
        for part in spec.key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and value != "":
            return f"{what} {fn.to_str(value)!r}"
    return f"{what} (no key)"


@dataclass
class CompiledMapping:
    """A mapping ready to run: ``cm(record, context)`` returns the target document."""

    spec: MappingSpec
    function: Callable[[Any, Any], dict[str, Any]]
    source_code: str
    masks: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.mapping

    if TYPE_CHECKING:

        def __call__(self, record: Any, context: Mapping[str, Any] | None = None) -> dict[str, Any]:
            """Map one record: a dict (decoded JSON) or a msgspec Struct (read as builtins)."""
            ...

    else:
        # Calling the mapping calls the generated function itself (it reads a Struct as
        # builtins and a missing context as empty): a C-level getter hands it out, so no
        # Python frame is added per record.
        __call__ = property(attrgetter("function"))

    def mask(self, document: Any) -> Any:
        """A copy of a mapped document safe to log or show (sensitive fields masked)."""
        return mask_record(document, self.masks)

    def label(self, record: Any) -> str:
        return record_label(self.spec, record)


def failed_field(exc: BaseException, fname: str, line_fields: dict[int, str]) -> str:
    tb = exc.__traceback__
    target = "?"
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == fname and tb.tb_lineno in line_fields:
            target = line_fields[tb.tb_lineno]
        tb = tb.tb_next
    return target


def mapping_error(
    spec: MappingSpec, record: Any, target: str, exc: Exception, masks: dict[str, str]
) -> MappingError:
    if isinstance(exc, OperandError):
        reason = str(exc)  # names the operation and operand, never a value
    elif target in masks:
        reason = f"the value could not be mapped ({type(exc).__name__}; value hidden: the field is sensitive)"
    elif isinstance(exc, (ValueError, ArithmeticError)):
        reason = str(exc) or type(exc).__name__
    elif isinstance(exc, (TypeError, AttributeError)):
        reason = "a value has the wrong type for this rule (for example text where a number or an object is expected)"
    else:
        reason = f"unexpected {type(exc).__name__} while mapping"
    err = MappingError(
        f"Mapping {spec.mapping} failed on {record_label(spec, record)}, target field {target}: {reason}.",
        code="unmapped_value" if isinstance(exc, UnmappedValueError) else "mapping_failed",
    )
    err.field = target  # type: ignore[attr-defined]
    return err


def expression_error(text: str, exc: Exception) -> MappingError:
    """The MappingError for a standalone expression (a step condition, guard or validation
    rule) that failed on a record: it names the expression and what was wrong."""
    if isinstance(exc, (OperandError, ArithmeticError)):
        reason = str(exc) or type(exc).__name__  # names the operand's path, never its value
    elif isinstance(exc, ValueError):
        # conversions say which text they could not read: that text may be personal data,
        # and this error travels to the dead-letter queue and the logs
        reason = "a value cannot be converted (for example text that is not a number or a date)"
    elif isinstance(exc, (TypeError, AttributeError)):
        reason = "a value has the wrong type (for example text where a number or an object is expected)"
    else:
        reason = f"unexpected {type(exc).__name__}"
    return MappingError(
        f"The expression {text!r} cannot be evaluated on this record: {reason}.", code="expression_failed"
    )
