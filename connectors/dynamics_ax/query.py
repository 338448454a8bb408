"""QueryCriteria for ``find`` and ``findKeys``: every operator AIF knows, checked before sending.

A criterion names a data source of the document's query (``SalesTable``, ``CustTable``,
``DirPartyContactInfoView``...), a field of it, an operator and one value (two for ``Range``,
inclusive). Values travel as strings in AX's formats: dates ``YYYY-MM-DD``, enums by symbol name.

How AX combines several criteria is not settled by the sources (TechNet says OR, query-range
semantics would AND different fields — reference §5.2), so the helpers here never rely on it:
each lookup the connector makes uses criteria on ONE field, where both readings agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = ["Criterion", "Operator", "criteria_payload", "eq", "range_"]


class Operator(StrEnum):
    """The ``Operator`` enumeration of the QueryCriteria schema."""

    EQUAL = "Equal"
    NOT_EQUAL = "NotEqual"
    GREATER = "Greater"
    GREATER_OR_EQUAL = "GreaterOrEqual"
    LESS = "Less"
    LESS_OR_EQUAL = "LessOrEqual"
    RANGE = "Range"


Scalar = str | int | Decimal | dt.date | dt.datetime | bool


def _fmt(value: Scalar) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"  # NoYes enum symbols
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One ``CriteriaElement``. ``value2`` is required for ``Range`` and refused otherwise."""

    data_source: str
    field: str
    operator: Operator
    value1: Scalar
    value2: Scalar | None = None

    def __post_init__(self) -> None:
        if not self.data_source or not self.field:
            raise ValueError("A query criterion needs a data source name and a field name.")
        op = Operator(self.operator)  # raises ValueError for an unknown operator
        object.__setattr__(self, "operator", op)
        if op is Operator.RANGE and self.value2 is None:
            raise ValueError(f"The Range criterion on {self.data_source}.{self.field} needs value2 (inclusive upper bound).")
        if op is not Operator.RANGE and self.value2 is not None:
            raise ValueError(f"Only a Range criterion takes value2; {op.value} on {self.data_source}.{self.field} does not.")

    def as_element(self) -> dict[str, str]:
        out = {"DataSourceName": self.data_source, "FieldName": self.field, "Operator": self.operator.value,
               "Value1": _fmt(self.value1)}
        if self.value2 is not None:
            out["Value2"] = _fmt(self.value2)
        return out


def eq(data_source: str, field: str, value: Scalar) -> Criterion:
    return Criterion(data_source, field, Operator.EQUAL, value)


def range_(data_source: str, field: str, low: Scalar, high: Scalar) -> Criterion:
    return Criterion(data_source, field, Operator.RANGE, low, high)


def criteria_payload(criteria: list[Criterion] | tuple[Criterion, ...]) -> dict[str, list[dict[str, str]]]:
    """The ``QueryCriteria`` value for zeep: ``{"CriteriaElement": [...]}`` (at least one element)."""
    if not criteria:
        raise ValueError("QueryCriteria needs at least one criterion; use getKeys to list everything.")
    return {"CriteriaElement": [c.as_element() for c in criteria]}
