"""Schema files of the mapping suggester, read and checked at the boundary; and the schema of a
PrestaShop resource or an AX document entity, made from the connectors' field tables.

A schema file: ``{"system": str, "entity": str, "fields": [{"name": str, "type": str,
"samples": [...], "label": str (optional)}]}``; dotted names for nested fields
(``billing.email``, ``SalesLine.ItemId``). :func:`parse_schema` raises ``ValueError`` listing
every problem with its path (``fields[3].name: missing``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

__all__ = ["Field", "Schema", "ax_schema", "parse_schema", "prestashop_schema", "with_samples"]


@dataclass(frozen=True)
class Field:
    name: str
    type: str | None = None
    samples: tuple[Any, ...] = ()
    label: str | None = None


@dataclass
class Schema:
    system: str
    entity: str
    fields: list[Field] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.system, "entity": self.entity,
                "fields": [{"name": f.name, "type": f.type, "samples": list(f.samples),
                            **({"label": f.label} if f.label else {})} for f in self.fields]}


def parse_schema(data: Any, where: str = "schema") -> Schema:
    """A :class:`Schema` from decoded JSON; ``ValueError`` naming every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ValueError(f"{where}: a schema must be a JSON object with 'system', 'entity' and 'fields'.")
    for key in ("system", "entity"):
        if not isinstance(data.get(key), str) or not data.get(key):
            problems.append(f"{where}.{key}: missing or not a text")
    raw = data.get("fields")
    if not isinstance(raw, list) or not raw:
        problems.append(f"{where}.fields: must be a non-empty list")
        raw = []
    out: list[Field] = []
    seen: set[str] = set()
    for i, f in enumerate(raw[:5000]):
        at = f"{where}.fields[{i}]"
        if not isinstance(f, dict):
            problems.append(f"{at}: must be an object")
            continue
        name = f.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{at}.name: missing")
            continue
        if name in seen:
            problems.append(f"{at}.name: '{name[:80]}' appears twice")
        seen.add(name)
        samples = f.get("samples", [])
        if not isinstance(samples, list):
            problems.append(f"{at}.samples: must be a list")
            samples = []
        label = f.get("label")
        typ = f.get("type")
        out.append(Field(name, str(typ) if typ is not None else None, tuple(samples[:50]),
                         label if isinstance(label, str) and label else None))
    if len(raw) > 5000:
        problems.append(f"{where}.fields: more than 5000 fields")
    if problems:
        raise ValueError(f"The {where} has {len(problems)} problem(s): " + "; ".join(problems[:10]))
    return Schema(str(data["system"]), str(data["entity"]), out)


def prestashop_schema(resource: str) -> Schema:
    """The fields of a PrestaShop resource (and of its associations, dotted) from the
    connector's resource table; ``ValueError`` for an unknown resource."""
    raw = json.loads(resources.files("connectors.prestashop").joinpath("resources.json").read_text("utf-8"))
    if resource not in raw or not isinstance(raw[resource], dict):
        known = ", ".join(sorted(k for k, v in raw.items() if isinstance(v, dict) and "fields" in v))
        raise ValueError(f"Unknown PrestaShop resource '{resource[:60]}'; known: {known}.")
    spec = raw[resource]
    fields = [Field(n, str(f.get("type") or "string")) for n, f in (spec.get("fields") or {}).items()]
    for assoc, a in (spec.get("associations") or {}).items():
        if isinstance(a, dict):
            for n, f in (a.get("fields") or {}).items():
                fields.append(Field(f"{assoc}.{n}", str((f or {}).get("type") or "string")
                                    if isinstance(f, dict) else "string"))
    return Schema("prestashop", resource, fields)


def ax_schema(name: str) -> Schema:
    """The fields of an AX document service (every entity, dotted: ``SalesLine.ItemId``) or of
    one entity (``SalesTable``) from the connector's document table; ``ValueError`` if unknown."""
    raw = json.loads(resources.files("connectors.dynamics_ax").joinpath("documents.json").read_text("utf-8"))
    services = {k: v for k, v in raw.items() if isinstance(v, dict) and "entities" in v}
    if name in services:
        entities = services[name]["entities"]
        fields = [Field(f"{e}.{n}", str(f.get("type") or "string")) for e, spec in entities.items()
                  for n, f in (spec.get("fields") or {}).items() if not n.startswith("_")]
        return Schema("ax", name, fields)
    for service in services.values():
        spec = service["entities"].get(name)
        if spec is not None:
            return Schema("ax", name, [Field(n, str(f.get("type") or "string"))
                                       for n, f in (spec.get("fields") or {}).items() if not n.startswith("_")])
    raise ValueError(f"Unknown AX document service or entity '{name[:60]}'; services: {', '.join(sorted(services))}.")


_SECRET_WORDS = ("passw", "secure_key", "secret", "token", "api_key", "apikey")


def _values(record: Any, path: list[str]) -> list[Any]:
    """The values at a dotted path; a list on the way (order rows) yields one value per item."""
    if not path:
        return [record] if not isinstance(record, (dict, list)) else []
    if isinstance(record, list):
        return [v for item in record for v in _values(item, path)]
    if not isinstance(record, dict):
        return []
    head, rest = path[0], path[1:]
    if head not in record and isinstance(record.get("associations"), dict):
        return _values(record["associations"].get(head), rest)  # the webservice nests rows there
    return _values(record.get(head), rest)


def with_samples(schema: Schema, records: list[Any], per_field: int = 5) -> Schema:
    """The schema with up to ``per_field`` distinct non-empty values per field from ``records``
    (a field's own samples are kept when the records have none). Personal data may be among
    them: the file is the user's, written where they say."""
    fields = []
    for f in schema.fields:
        if any(word in f.name.rsplit(".", 1)[-1].lower() for word in _SECRET_WORDS):
            fields.append(f)  # never copy a password hash, a key or a token into a file
            continue
        seen: list[Any] = []
        for record in records:
            for v in _values(record, f.name.split(".")):
                if v not in (None, "") and v not in seen and not isinstance(v, dict):
                    seen.append(v)
            if len(seen) >= per_field:
                break
        fields.append(Field(f.name, f.type, tuple(seen[:per_field]) or f.samples, f.label))
    return Schema(schema.system, schema.entity, fields)
