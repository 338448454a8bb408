"""Passing settings to other Ray processes.

Settings travel to actors and replicas as a plain dict with secret values revealed (Ray pickles
arguments into its object store, which is inside the cluster's trust boundary); they are turned
back into :class:`Settings` at once and never logged.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from runtime.config import Settings

__all__ = ["to_wire", "from_wire"]


def _reveal(v: Any) -> Any:
    if isinstance(v, SecretStr):
        return v.get_secret_value()
    if isinstance(v, dict):
        return {k: _reveal(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_reveal(x) for x in v]
    if hasattr(v, "__fspath__"):
        return str(v)
    return v


def to_wire(settings: Settings) -> dict[str, Any]:
    return _reveal(settings.model_dump(mode="python"))


def from_wire(data: dict[str, Any]) -> Settings:
    return Settings.model_validate(data)
