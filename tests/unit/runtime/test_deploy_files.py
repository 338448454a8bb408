"""cluster.yaml and the Serve config are checked offline with Ray's own validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]


def test_cluster_yaml_passes_rays_own_validation() -> None:
    from ray.autoscaler._private.util import prepare_config, validate_config

    cfg = YAML(typ="safe").load((ROOT / "cluster.yaml").read_text())
    validate_config(prepare_config(cfg))  # raises on any schema or cross-field problem
    assert cfg["available_node_types"]["bulk_worker"]["resources"]["bulk"] > 0


def test_cluster_yaml_validation_catches_a_typo() -> None:
    import jsonschema
    from ray.autoscaler._private.util import prepare_config, validate_config

    cfg = YAML(typ="safe").load((ROOT / "cluster.yaml").read_text())
    cfg["available_node_types"]["bulk_worker"]["min_worker"] = 1
    with pytest.raises((jsonschema.ValidationError, ValueError)):
        validate_config(prepare_config(cfg))


def _unknown_keys(model: type, data: object, path: str = "") -> list[str]:
    """Serve's schemas ignore unknown keys; find them ourselves, recursively."""
    from pydantic import BaseModel

    problems: list[str] = []
    if not (isinstance(data, dict) and isinstance(model, type) and issubclass(model, BaseModel)):
        return problems
    fields = model.model_fields
    for key, value in data.items():
        if key not in fields:
            problems.append(f"{path}{key}")
            continue
        models = {sub for cand in (fields[key].annotation, *getattr(fields[key].annotation, "__args__", ()))
                  for sub in (cand, *getattr(cand, "__args__", ()))
                  if isinstance(sub, type) and issubclass(sub, BaseModel)}
        for sub in models:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    problems += _unknown_keys(sub, item, f"{path}{key}[{i}].")
            else:
                problems += _unknown_keys(sub, value, f"{path}{key}.")
    return problems


def test_serve_config_is_valid_and_has_no_unknown_keys() -> None:
    from ray.serve.schema import ServeDeploySchema

    data = YAML(typ="safe").load((ROOT / "deploy" / "serve-config.yaml").read_text())
    ServeDeploySchema.model_validate(data)
    assert _unknown_keys(ServeDeploySchema, data) == []
    data["applications"][0]["deployments"][0]["max_ongoing_request"] = 3
    assert _unknown_keys(ServeDeploySchema, data) == ["applications[0].deployments[0].max_ongoing_request"]
