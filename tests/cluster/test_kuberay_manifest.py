"""deploy/kuberay/rayservice.yaml against the KubeRay RayService CRD schema kept in the repo
(deploy/kuberay/crd/, validated strictly: an unknown key is an error), its embedded Serve config
against Ray's own schema (strictly too), its integration.yaml against the bridge's settings and
cluster checks; secrets only from the Kubernetes Secret, the PostgreSQL URL from the ConfigMap."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from ruamel.yaml import YAML

from runtime.cluster_checks import setting_problems
from runtime.config import load_settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
KUBERAY = ROOT / "deploy" / "kuberay"
SECRET_ENV = {"PRESTA_AX_WEBHOOK_SECRETS", "PRESTA_AX_ADMIN_TOKEN", "PGPASSWORD", "PRESTASHOP_KEY", "AX_PASSWORD"}


def _strict(schema: Any) -> Any:
    """Every object schema with ``properties`` and no ``additionalProperties`` gets
    ``additionalProperties: false`` (what ``kubeconform -strict`` does with a CRD)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = _strict(YAML(typ="safe").load((KUBERAY / "crd" / "rayservice-v1.schema.yaml").read_text()))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in YAML(typ="safe").load_all((KUBERAY / "rayservice.yaml").read_text()) if d}


def _errors(validator: jsonschema.Draft202012Validator, doc: Any) -> list[str]:
    return sorted(f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc))


def test_the_rayservice_is_valid_against_the_crd_schema(validator: Any, docs: dict[str, Any]) -> None:
    service = docs["RayService"]
    assert service["apiVersion"] == "ray.io/v1"
    assert _errors(validator, service) == []


@pytest.mark.parametrize("change, where", [
    (lambda s: s["spec"]["rayClusterConfig"]["workerGroupSpecs"][0].update(minReplica=1),
     "spec.rayClusterConfig.workerGroupSpecs.0: Additional properties are not allowed ('minReplica'"),
    (lambda s: s["spec"]["rayClusterConfig"]["headGroupSpec"].pop("rayStartParams"),
     "spec.rayClusterConfig.headGroupSpec: 'rayStartParams' is a required property"),
    (lambda s: s["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["rayStartParams"].update({"num-cpus": 2}),
     "spec.rayClusterConfig.workerGroupSpecs.0.rayStartParams.num-cpus: 2 is not of type 'string'"),
    (lambda s: s["spec"]["rayClusterConfig"]["headGroupSpec"]["template"]["spec"]["containers"][0]["env"][0].pop("name"),
     "spec.rayClusterConfig.headGroupSpec.template.spec.containers.0.env.0: 'name' is a required property"),
])
def test_the_schema_catches_mistakes(validator: Any, docs: dict[str, Any], change: Any, where: str) -> None:
    service = copy.deepcopy(docs["RayService"])
    change(service)
    assert any(e.startswith(where) for e in _errors(validator, service)), _errors(validator, service)


def _containers(service: dict[str, Any]) -> list[dict[str, Any]]:
    cluster = service["spec"]["rayClusterConfig"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    return [c for g in groups for c in g["template"]["spec"]["containers"]]


def test_secrets_come_from_the_secret_and_the_store_url_from_the_configmap(docs: dict[str, Any]) -> None:
    for container in _containers(docs["RayService"]):
        env = {e["name"]: e for e in container["env"]}
        for name in SECRET_ENV:
            assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]["name"] == "presta-ax-secrets"
        assert {"configMapRef": {"name": "presta-ax-config"}} in container["envFrom"]
        assert env["RAY_SERVE_ENABLE_HA_PROXY"]["value"] == "1"  # fast mode: set before Ray starts, every node
    url = docs["ConfigMap"]["data"]["PRESTA_AX_STORE_URL"]
    assert url.startswith("postgresql://") and urlsplit(url).password is None


def test_the_embedded_serve_config_is_valid_and_strict(docs: dict[str, Any]) -> None:
    from ray.serve.schema import ServeDeploySchema

    from tests.unit.runtime.test_deploy_files import _unknown_keys

    serve = YAML(typ="safe").load(docs["RayService"]["spec"]["serveConfigV2"])
    ServeDeploySchema.model_validate(serve)
    assert _unknown_keys(ServeDeploySchema, serve) == []
    # the ingress, and the app that starts the dispatcher and the pollers (no `presta-ax serve` on KubeRay)
    ingress, workers = serve["applications"]
    assert ingress["import_path"] == "runtime.deploy_entry:app" and ingress["route_prefix"] == "/"
    assert workers["import_path"] == "runtime.deploy_workers:app" and workers["route_prefix"] is None


def test_the_configmaps_settings_load_and_pass_the_cluster_checks(docs: dict[str, Any], tmp_path: Path) -> None:
    cfg = tmp_path / "integration.yaml"
    cfg.write_text(docs["ConfigMap"]["data"]["integration.yaml"])
    env = {"PRESTA_AX_STORE_URL": docs["ConfigMap"]["data"]["PRESTA_AX_STORE_URL"], "PRESTASHOP_KEY": "K" * 32,
           "AX_PASSWORD": "pw"}
    settings = load_settings(cfg, env=env)
    assert setting_problems(settings, 3) == []
    # the placement resources are the ones the groups' nodes offer
    cluster = docs["RayService"]["spec"]["rayClusterConfig"]
    head = cluster["headGroupSpec"]["rayStartParams"]["resources"]
    worker = cluster["workerGroupSpecs"][0]["rayStartParams"]["resources"]
    assert settings.placement.ingress_resource in head and settings.placement.actor_resource in worker
    assert settings.placement.bulk_resource in worker
    serve = YAML(typ="safe").load(docs["RayService"]["spec"]["serveConfigV2"])
    options = serve["applications"][0]["deployments"][0]["ray_actor_options"]
    assert options["resources"] == {settings.placement.ingress_resource: 1}
