"""Resource definitions of the emulated shop, loaded from the shipped field tables.

The field tables (``connectors/prestashop/resources.json``) were read from PrestaShop 8.2.0's own
entity classes. This module turns them into small immutable descriptions the sandbox works from:
a :class:`Resource` per webservice resource with its :class:`Field` list in canonical output order
and its :class:`Association` list. Nothing here holds data; the store and the request handlers do.

The sandbox deliberately does not import the connector's own codec or schemas: it is checked
against the reference independently of the client it serves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "Association",
    "CORE_RESOURCES",
    "Field",
    "Resource",
    "load_resources",
    "PSWS_VERSION",
]

PSWS_VERSION = "8.2.0"

# Every resource name a stock 8.2 shop declares (reference §2.1). Error 27 lists all of them; the
# sandbox serves those with a field table and answers the others as "not granted to this key".
CORE_RESOURCES: tuple[str, ...] = (
    "addresses", "attachments", "carriers", "carts", "cart_rules", "categories", "combinations",
    "configurations", "contacts", "content_management_system", "countries", "currencies",
    "customers", "customer_messages", "customer_threads", "customizations", "deliveries",
    "employees", "groups", "guests", "images", "image_types", "languages", "manufacturers",
    "messages", "order_carriers", "order_cart_rules", "order_details", "order_histories",
    "order_invoices", "order_payments", "order_slip", "order_states", "orders", "price_ranges",
    "product_customization_fields", "product_feature_values", "product_features",
    "product_option_values", "product_options", "product_suppliers", "products", "search",
    "shop_groups", "shop_urls", "shops", "specific_price_rules", "specific_prices", "states",
    "stock_availables", "stock_movement_reasons", "stock_movements", "stocks", "stores",
    "suppliers", "supply_order_details", "supply_order_histories", "supply_order_receipt_histories",
    "supply_order_states", "supply_orders", "tags", "tax_rule_groups", "tax_rules", "taxes",
    "translated_configurations", "warehouse_product_locations", "warehouses", "weight_ranges",
    "zones",
)

# DATE (not DATETIME) columns print as 0000-00-00 when empty.
_DATE_ONLY = frozenset({"birthday", "available_date"})


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a resource, as the webservice declares it."""

    name: str
    type: str  # int | float | bool | string | html | date
    required: bool
    size: int | None
    validate: str | None
    lang: bool
    read_only: bool  # setter => false: sending it is error 93
    synopsis_read_only: bool  # setter => null: shown readOnly but writable
    virtual: bool
    getter: str | None
    setter: str | None
    not_filterable: bool
    hidden: bool
    xlink: str | None
    allow_null: bool
    server_managed: bool
    values: tuple[str, ...] | None
    default: str | None
    range: tuple[int, int] | None
    modifier_methods: tuple[str, ...]

    @property
    def filterable(self) -> bool:
        """Whether ``filter[...]``/``sort`` may use it (real column, no getter, not hidden)."""
        return not (self.virtual or self.getter or self.not_filterable or self.hidden)

    @property
    def numeric(self) -> bool:
        return self.type in ("int", "float", "bool")

    @property
    def date_only(self) -> bool:
        return self.name in _DATE_ONLY


@dataclass(frozen=True, slots=True)
class AssocField:
    name: str
    required: bool
    read_only: bool
    xlink: str | None


@dataclass(frozen=True, slots=True)
class Association:
    """An ``<associations>`` child: items of ``node`` linking to ``api`` (or virtual rows)."""

    name: str
    node: str
    api: str | None
    virtual_entity: bool
    writable: bool
    fields: tuple[AssocField, ...]

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True, slots=True, eq=False)
class Resource:
    """A webservice resource (``customers``) and everything needed to serve it.

    ``visible_fields`` (all but hidden ones) and the name index are computed once at load time:
    they are read for every object rendered.
    """

    name: str
    class_name: str
    node: str
    list_node: str
    description: str
    forbidden_methods: frozenset[str]
    fields: tuple[Field, ...]
    associations: tuple[Association, ...]
    has_add_ws: bool
    has_update_ws: bool
    visible_fields: tuple[Field, ...]
    by_name: dict[str, Field]

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name)

    def association(self, name: str) -> Association | None:
        for assoc in self.associations:
            if assoc.name == name:
                return assoc
        return None


def _resources_path() -> Path:
    # The JSON ships one folder up, next to the connector; it is package data, so a path relative
    # to this module works in a source checkout and in an installed wheel alike.
    return Path(__file__).resolve().parent.parent / "resources.json"


def _field(name: str, raw: dict[str, Any]) -> Field:
    modifier = raw.get("ws_modifier") or {}
    rng = raw.get("range")
    return Field(
        name=name,
        type=str(raw.get("type") or "string"),
        required=bool(raw.get("required")),
        size=raw.get("size") if isinstance(raw.get("size"), int) else None,
        validate=raw.get("validate"),
        lang=bool(raw.get("lang")),
        read_only=bool(raw.get("read_only")),
        synopsis_read_only=bool(raw.get("synopsis_read_only")),
        virtual=bool(raw.get("virtual")),
        getter=raw.get("getter"),
        setter=raw.get("setter"),
        not_filterable=bool(raw.get("not_filterable")),
        hidden=bool(raw.get("hidden")),
        xlink=raw.get("xlink_resource"),
        allow_null=bool(raw.get("allow_null")),
        server_managed=bool(raw.get("server_managed")),
        values=tuple(raw["values"]) if raw.get("values") else None,
        default=raw.get("default"),
        range=(int(rng["min"]), int(rng["max"])) if rng else None,
        modifier_methods=tuple(modifier.get("methods") or ()),
    )


def _association(name: str, raw: dict[str, Any]) -> Association:
    fields = tuple(
        AssocField(
            name=fname,
            required=bool(fraw.get("required")),
            read_only=bool(fraw.get("read_only")),
            xlink=fraw.get("xlink_resource"),
        )
        for fname, fraw in (raw.get("fields") or {"id": {}}).items()
    )
    return Association(
        name=name,
        node=str(raw["node"]),
        api=raw.get("api"),
        virtual_entity=bool(raw.get("virtual_entity")),
        writable=bool(raw.get("writable")),
        fields=fields,
    )


@cache
def load_resources() -> dict[str, Resource]:
    """All resources with a field table, keyed by resource name (``customers`` ...).

    Raises ``FileNotFoundError``/``ValueError`` if the shipped JSON is missing or malformed: the
    sandbox cannot run without it.
    """
    data = json.loads(_resources_path().read_text(encoding="utf-8"))
    out: dict[str, Resource] = {}
    for name, raw in data.items():
        methods = raw.get("object_methods") or {}
        fields = tuple(_field(f, fr) for f, fr in raw["fields"].items())
        out[name] = Resource(
            name=name,
            class_name=str(raw["class"]),
            node=str(raw["node_name"]),
            list_node=str(raw["list_node_name"]),
            description=str(raw.get("description") or ""),
            forbidden_methods=frozenset(raw.get("forbidden_methods") or ()),
            fields=fields,
            associations=tuple(_association(a, ar) for a, ar in (raw.get("associations") or {}).items()),
            has_add_ws="add" in methods,
            has_update_ws="update" in methods,
            visible_fields=tuple(f for f in fields if not f.hidden),
            by_name={f.name: f for f in fields},
        )
    return out
