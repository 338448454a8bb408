"""Typed models of flow and mapping files (pydantic), and their loaders.

A **mapping** (``mapping: name``) turns one source record into one target document: target
fields, each with a rule (``from``, ``expr``, ``const``, ``cases``, then ``default``,
``lookup``, ``convert``, ``currency``), lookup tables, parameters and child mappings (order rows
-> sales lines). A **flow** (``flow: name``) lists its triggers and ordered steps. See
``docs/flows-and-mappings.md`` for the language with examples.

:func:`load_mapping` / :func:`load_flow` read a file and raise
:class:`connectors.errors.ConfigError` whose ``problems`` are ``file:line: path: message``.
The loaded model keeps its file and :class:`~pipelines.yamlio.LineIndex` for lint.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from connectors.errors import ConfigError
from pipelines.masking import MASK_KINDS
from pipelines.yamlio import LineIndex, format_path, load_yaml

__all__ = [
    "AnomalySpec",
    "CONVERSIONS",
    "Case",
    "ChildMapping",
    "Conversion",
    "CurrencyRule",
    "FieldRule",
    "FlowSpec",
    "GuardRule",
    "LookupTable",
    "MappingSpec",
    "OWNERS",
    "SourceSpec",
    "Step",
    "TargetSpec",
    "Trigger",
    "ValidationRule",
    "load_flow",
    "load_mapping",
    "parse_flow",
    "parse_mapping",
]

CONVERSIONS = ("str", "int", "decimal", "date", "datetime", "noyes", "from_noyes", "bool01")
Rounding = Literal["half_up", "half_even", "half_down", "up", "down", "ceiling", "floor"]
System = Literal["prestashop", "ax"]


OWNERS = ("prestashop", "ax")


def _check_owner(value: Any, allow_both: bool) -> Any:
    """``owner:`` names the system whose value of a field wins (see docs, "Field ownership")."""
    allowed = (*OWNERS, "both") if allow_both else OWNERS
    if value not in allowed:
        hint = " ('shop' is spelled prestashop)" if str(value).lower() in ("shop", "ps", "presta") else ""
        raise ValueError(f"unknown owner {value!r}{hint}; use one of {', '.join(allowed)}: the system whose "
                         "value of the field wins")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=False)


class Conversion(_Model):
    """``convert:`` — a type conversion. Dates: ``from_format`` (strptime, default ISO 8601)
    read in ``from_tz``, written with ``to_format`` (``iso`` or strptime) in ``to_tz``. A time
    zone may be ``params.NAME`` (resolved when the mapping is compiled)."""

    to: Literal["str", "int", "decimal", "date", "datetime", "noyes", "from_noyes", "bool01"]
    places: int | None = Field(default=None, ge=0, le=9)
    rounding: Rounding = "half_up"
    from_format: str | None = None
    from_tz: str = "UTC"
    to_format: str | None = None
    to_tz: str = "UTC"


class CurrencyRule(_Model):
    """``currency:`` — convert an amount with a rate read from the record (``rate:`` path, e.g.
    the order's ``conversion_rate``) or from a lookup table keyed by a currency code
    (``rates:`` table name + ``code:`` path); ``op`` multiply or divide; explicit rounding."""

    rate: str | None = None
    rates: str | None = None
    code: str | None = None
    op: Literal["multiply", "divide"] = "multiply"
    places: int | None = Field(default=2, ge=0, le=9)
    rounding: Rounding = "half_up"

    @model_validator(mode="after")
    def _one_source(self) -> CurrencyRule:
        if (self.rate is None) == (self.rates is None):
            raise ValueError(
                "give either 'rate' (a field with the rate) or 'rates' (a lookup table) with 'code'"
            )
        if self.rates is not None and self.code is None:
            raise ValueError("'rates' needs 'code': the field holding the currency code")
        return self


class Case(_Model):
    """One branch of ``cases:``: when the expression ``if`` holds, the value is ``then``
    (a literal) or ``expr`` (an expression)."""

    if_: str = Field(alias="if")
    then: Any = None
    expr: str | None = None


class FieldRule(_Model):
    """How one target field gets its value. Exactly one value source among ``from`` (a path,
    or a list of paths joined with ``join``), ``expr``, ``const``, ``cases``; then, in order:
    ``default`` when missing, ``lookup`` table, ``convert``, ``currency``. ``owner`` says which
    system owns the field (it is only written when mapping from that system or ``both``; the
    flow's ``owners``/``owner`` decide only conflicts, see :class:`FlowSpec`);
    ``mask`` hides the value in logs and errors; ``required`` makes a missing value an error."""

    from_: str | list[str] | None = Field(default=None, alias="from")
    join: str = " "
    expr: str | None = None
    const: Any = None
    cases: list[Case] | None = None
    else_: Any = Field(default=None, alias="else")
    default: Any = None
    lookup: str | None = None
    convert: Conversion | None = None
    currency: CurrencyRule | None = None
    mask: str | None = None
    owner: Literal["prestashop", "ax", "both"] = "both"
    required: bool = False

    @field_validator("owner", mode="before")
    @classmethod
    def _known_owner(cls, value: Any) -> Any:
        return _check_owner(value, allow_both=True)

    @field_validator("convert", mode="before")
    @classmethod
    def _short_convert(cls, value: Any) -> Any:
        return {"to": value} if isinstance(value, str) else value

    @field_validator("mask")
    @classmethod
    def _known_mask(cls, value: str | None) -> str | None:
        if value is not None and value not in MASK_KINDS:
            raise ValueError(f"unknown mask '{value}'; use one of {', '.join(MASK_KINDS)}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        given = [n for n in ("from_", "expr", "const", "cases") if n in self.model_fields_set]
        if len(given) > 1:
            names = ", ".join("from" if n == "from_" else n for n in given)
            raise ValueError(f"give only one of from, expr, const, cases (found {names})")
        if not given and "default" not in self.model_fields_set:
            raise ValueError("a field needs a value: from, expr, const, cases or default")
        return self

    @property
    def has_const(self) -> bool:
        """True when ``const`` was given (``const: null`` is a valid constant)."""
        return "const" in self.model_fields_set


class LookupTable(_Model):
    """A lookup table: ``values`` (source value -> target value) and what an unmapped value
    does: ``on_missing: error`` (the record goes to the dead-letter queue), ``default`` (use
    ``default``) or ``keep`` (pass the value through)."""

    values: dict[str, Any]
    default: Any = None
    on_missing: Literal["error", "default", "keep"] = "error"
    description: str | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _text_keys(cls, value: Any) -> Any:
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


class SourceSpec(_Model):
    """What a mapping reads: a PrestaShop ``resource`` or an AX ``service`` + ``entity``, and
    ``includes``: records the extract step nests under a name (``customer: customers``,
    ``Sales: ItemService.Sales``), used by lint to check field names."""

    system: System
    resource: str | None = None
    service: str | None = None
    entity: str | None = None
    includes: dict[str, str] = Field(default_factory=dict)
    open: bool = False


class TargetSpec(_Model):
    """What a mapping writes: a PrestaShop ``resource`` or an AX ``service`` + ``entity``."""

    system: System
    resource: str | None = None
    service: str | None = None
    entity: str | None = None


class ChildMapping(_Model):
    """A list in the output built from a list in the source (``each``, a path or an expression
    giving a list, e.g. ``"[root]"`` to make a one-item list of the record): one output item
    per source item that passes ``where``. Fields see the item; ``parent``/``root`` the outer
    records; ``line_number`` the 1-based position. ``entity`` names the target entity of the
    items when it differs from the key; ``resource`` makes the items separate PrestaShop
    records of that resource (e.g. ``specific_prices`` next to a product), validated against
    it. ``includes`` names records nested in each item, as in the mapping's source."""

    each: str
    where: str | None = None
    entity: str | None = None
    resource: str | None = None
    includes: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, FieldRule]
    children: dict[str, ChildMapping] = Field(default_factory=dict)

    @field_validator("fields", mode="before")
    @classmethod
    def _short_fields(cls, value: Any) -> Any:
        return _expand_fields(value)


class MappingSpec(_Model):
    """A mapping file. ``key`` is the source path that names the record in errors."""

    mapping: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int | str = 1
    description: str | None = None
    source: SourceSpec
    target: TargetSpec
    key: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    lookups: dict[str, LookupTable] = Field(default_factory=dict)
    fields: dict[str, FieldRule]
    children: dict[str, ChildMapping] = Field(default_factory=dict)

    _file: str = PrivateAttr(default="<memory>")
    _lines: LineIndex = PrivateAttr(default_factory=LineIndex)

    @field_validator("fields", mode="before")
    @classmethod
    def _short_fields(cls, value: Any) -> Any:
        return _expand_fields(value)

    @property
    def file(self) -> str:
        return self._file

    @property
    def lines(self) -> LineIndex:
        return self._lines


def _expand_fields(value: Any) -> Any:
    # `Name: customer.email` is short for `Name: {from: customer.email}`
    if isinstance(value, dict):
        return {k: ({"from": v} if isinstance(v, (str, list)) else v) for k, v in value.items()}
    return value


_EVERY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*")


class Trigger(_Model):
    """What starts a flow: a ``webhook`` event, a ``poll`` of a resource/service, a
    ``schedule`` (cron) or a ``bulk`` run."""

    type: Literal["webhook", "poll", "schedule", "bulk"]
    source: System | None = None
    event: str | None = None
    resource: str | None = None
    service: str | None = None
    every: str | None = Field(default=None, description="How often a poll runs: a number and a unit "
                                                        "(500ms, 30s, 2m, 1h, 1d).")
    cron: str | None = None

    @field_validator("every")
    @classmethod
    def _every_is_an_interval(cls, value: str | None) -> str | None:
        # the grammar of runtime/poll_schedule.py's parse_every, checked when the flow is linted
        if value is None:
            return value
        match = _EVERY.fullmatch(value)
        if match is None or float(match.group(1)) <= 0:
            raise ValueError(f"'{value[:40]}' is not an interval: write a number and a unit, e.g. 30s, 2m or 1h")
        return value


class GuardRule(_Model):
    """A guard check: when ``if`` holds, ``action`` the record (hold it for review, drop it,
    or fail it to the dead-letter queue) with ``reason``."""

    if_: str = Field(alias="if")
    action: Literal["hold", "drop", "fail"] = "hold"
    reason: str


class AnomalySpec(_Model):
    """``anomaly:`` of a guard step -- score the step's input against what the bridge has seen
    (per item, per customer) and ``action`` it (hold for review, or fail) when suspicious.
    ``kind`` order, price or stock; ``fields`` maps the guard's event fields to paths in the
    input (or ``context.<path>``), see :data:`pipelines.ai.guard.flow.DEFAULT_FIELDS`;
    ``thresholds`` override :class:`pipelines.ai.guard.scorer.Thresholds`; ``currencies`` are
    the shop's (unset: learned from the orders seen). See ``docs/ai.md``."""

    kind: Literal["order", "price", "stock"]
    fields: dict[str, str] = Field(default_factory=dict)
    thresholds: dict[str, float] = Field(default_factory=dict)
    currencies: list[str] | None = None
    #: the message events scored (unset: all); e.g. ``[order.created]``, so that an order's
    #: later updates are not counted as more orders of its customer
    events: list[str] | None = None
    action: Literal["hold", "fail"] = "hold"

    @model_validator(mode="after")
    def _known(self) -> AnomalySpec:
        from pipelines.ai.guard.flow import DEFAULT_FIELDS
        from pipelines.ai.guard.scorer import Thresholds

        unknown = sorted(set(self.fields) - set(DEFAULT_FIELDS[self.kind]))
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)} for a {self.kind} anomaly check; known: "
                             f"{', '.join(DEFAULT_FIELDS[self.kind])}")
        Thresholds.from_dict(self.thresholds)
        return self


class ValidationRule(_Model):
    """An extra validation rule on a mapped document: ``check`` must hold, else ``message``.
    ``input`` limits the rule to one of the step's inputs (default: every input)."""

    check: str
    input: str | None = None
    field: str | None = None
    message: str


class Step(_Model):
    """One step. ``extract``/``load``/``write-back`` call a connector ``operation`` on
    ``system``; ``map`` runs ``mapping`` on ``input`` (default: the record) into ``output``;
    ``validate`` checks ``inputs`` against their targets plus ``rules``; ``guard`` applies
    ``rules``, then its ``anomaly`` check. ``when`` skips the step when it does not hold."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    kind: Literal["extract", "map", "validate", "guard", "load", "write-back"]
    when: str | None = None
    system: System | None = None
    operation: str | None = None
    include: list[str] = Field(default_factory=list)
    mapping: str | None = None
    input: str | None = None
    output: str | None = None
    inputs: list[str] = Field(default_factory=list)
    mode: Literal["create", "update", "upsert"] | None = None
    rules: list[dict[str, Any]] = Field(default_factory=list)
    anomaly: AnomalySpec | None = None

    @model_validator(mode="after")
    def _kind_needs(self) -> Step:
        if self.kind in ("extract", "load", "write-back") and (self.system is None or self.operation is None):
            raise ValueError(f"a {self.kind} step needs 'system' and 'operation'")
        if self.kind == "map" and (self.mapping is None or self.output is None):
            raise ValueError("a map step needs 'mapping' and 'output'")
        if self.kind == "validate" and not self.inputs:
            raise ValueError("a validate step needs 'inputs': the outputs of map steps to check")
        if self.kind == "guard" and not self.rules and self.anomaly is None:
            raise ValueError("a guard step needs 'rules' or 'anomaly'")
        if self.anomaly is not None and self.kind != "guard":
            raise ValueError("only a guard step takes 'anomaly'")
        model = GuardRule if self.kind == "guard" else ValidationRule
        for rule in self.rules:
            model.model_validate(rule)
        return self

    def guard_rules(self) -> list[GuardRule]:
        return [GuardRule.model_validate(r) for r in self.rules] if self.kind == "guard" else []

    def validation_rules(self) -> list[ValidationRule]:
        return [ValidationRule.model_validate(r) for r in self.rules] if self.kind == "validate" else []


class FlowSpec(_Model):
    """A flow file: ``flow`` name, the ``entity`` it moves, ``triggers`` and ordered ``steps``."""

    flow: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int | str = 1
    description: str | None = None
    entity: str
    #: who wins a field when a record changed on both sides since the last sync: ``owners`` per
    #: target field name (``email: prestashop``, ``CustGroup: ax``), else ``owner`` for every other
    #: field (unset: the change processed last wins). A mapping rule's own ``owner:`` is stronger:
    #: such a field is never written from the other side at all. See docs, "Field ownership".
    owner: System | None = None
    owners: dict[str, System] = Field(default_factory=dict)
    triggers: list[Trigger] = Field(min_length=1)
    steps: list[Step] = Field(min_length=1)

    _file: str = PrivateAttr(default="<memory>")
    _lines: LineIndex = PrivateAttr(default_factory=LineIndex)

    @field_validator("owner", mode="before")
    @classmethod
    def _known_owner(cls, value: Any) -> Any:
        return None if value is None else _check_owner(value, allow_both=False)

    @field_validator("owners", mode="before")
    @classmethod
    def _known_owners(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name, owner in value.items():
                try:
                    _check_owner(owner, allow_both=False)
                except ValueError as exc:
                    raise ValueError(f"field '{name}': {exc}") from None
        return value

    @property
    def file(self) -> str:
        return self._file

    @property
    def lines(self) -> LineIndex:
        return self._lines


def pydantic_problems(
    exc: PydanticValidationError, file: str, lines: LineIndex
) -> list[tuple[int, str, str]]:
    """(line, path, message) for each pydantic error, with the YAML alias names in paths."""
    out = []
    for err in exc.errors():
        loc = tuple(
            p
            for p in err["loc"]
            if not (
                isinstance(p, str) and (p.startswith("function-") or p in {"str", "list[str]", "Conversion"})
            )
        )
        msg = err["msg"].removeprefix("Value error, ")
        out.append((lines.line_of(loc), format_path(loc), msg))
    return out


def _parse(model: type[_Model], data: Any, file: str, lines: LineIndex) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(
            f"The file {file} must hold a YAML mapping at its top level.", [f"{file}:1: not a mapping"]
        )
    try:
        spec = model.model_validate(data)
    except PydanticValidationError as exc:
        problems = [
            f"{file}:{line}: {path}: {msg}" for line, path, msg in pydantic_problems(exc, file, lines)
        ]
        raise ConfigError(
            f"The file {file} has {len(problems)} problem(s): {problems[0]}", problems
        ) from None
    spec._file = file  # type: ignore[attr-defined]
    spec._lines = lines  # type: ignore[attr-defined]
    return spec


def parse_mapping(data: Any, file: str = "<memory>", lines: LineIndex | None = None) -> MappingSpec:
    """Validate already-loaded mapping data (see :func:`load_mapping`)."""
    return _parse(MappingSpec, data, file, lines or LineIndex())  # type: ignore[no-any-return]


def parse_flow(data: Any, file: str = "<memory>", lines: LineIndex | None = None) -> FlowSpec:
    """Validate already-loaded flow data (see :func:`load_flow`)."""
    return _parse(FlowSpec, data, file, lines or LineIndex())  # type: ignore[no-any-return]


def load_mapping(path: Path) -> MappingSpec:
    """Read a mapping file; raises ConfigError with ``file:line: path: message`` problems."""
    data, lines = load_yaml(path)
    return parse_mapping(data, str(path), lines)


def load_flow(path: Path) -> FlowSpec:
    """Read a flow file; raises ConfigError with ``file:line: path: message`` problems."""
    data, lines = load_yaml(path)
    return parse_flow(data, str(path), lines)
