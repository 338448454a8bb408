"""docs/configuration.md documents every setting of ``integration.yaml`` with its real default."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from ruamel.yaml import YAML

from runtime.config import Settings

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def leaf_settings(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """``{dotted name: default}`` of every leaf setting (``systems`` belongs to the connectors' docs)."""
    out: dict[str, Any] = {}
    instance = model()
    for name in model.model_fields:
        dotted = f"{prefix}{name}"
        if dotted == "systems":
            continue
        value = getattr(instance, name)
        if isinstance(value, BaseModel):
            out.update(leaf_settings(type(value), dotted + "."))
        else:
            out[dotted] = value
    return out


def documented_defaults() -> dict[str, str]:
    """``{name: first backticked text of the default column}`` from the tables of the doc."""
    rows = re.findall(r"^\| `([a-z_.]+)` \| ([^|]+) \|", DOC.read_text(encoding="utf-8"), re.M)
    out = {}
    for name, default in rows:
        found = re.search(r"`([^`]*)`", default)
        out[name] = found.group(1) if found else default.strip()
    return out


def test_every_setting_is_documented_with_its_default() -> None:
    documented = documented_defaults()
    settings = leaf_settings(Settings)
    assert sorted(set(settings) - set(documented)) == [], "settings missing from docs/configuration.md"
    assert sorted(set(documented) - set(settings)) == [], "docs/configuration.md names settings that do not exist"
    for name, default in settings.items():
        shown = YAML(typ="safe").load(documented[name])
        actual = str(default) if isinstance(default, Path) else default
        if isinstance(actual, list | dict):
            actual = type(actual)(actual)  # secret lists and maps are empty by default
        assert shown == actual, f"{name}: the doc says {documented[name]!r}, the default is {default!r}"


def test_the_example_is_marked_as_an_example_and_the_tracing_default_is_given() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "This is an **example**" in text
    assert documented_defaults()["tracing.exporter"] == "none"
