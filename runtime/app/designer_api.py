"""Admin API of the visual flow designer (Bearer token, like the rest of ``/api/v1``).

* ``GET /api/v1/designer/schema`` -- the JSON schemas of a step, a mapping rule and a lookup
  table (from the pydantic models of :mod:`pipelines.specs`), the edit operations and step kinds:
  the console builds its forms from them;
* ``GET /api/v1/designer/fields/{system}/{entity}`` -- the field table of a PrestaShop resource
  or an AX document service/entity (name, type, required, max length, enum values);
* ``GET /api/v1/designer/flows/{name}`` -- the flow's files (display name, YAML text, hash),
  its parsed spec, its mappings (spec + source and target fields), the deployed version and the
  shipped sample record;
* ``POST .../flows/{name}/check`` ``{edits}`` -- the edits applied in memory: a diff per file
  and the lint problems (each with its did-you-mean ``suggestion``); nothing is written;
* ``POST .../flows/{name}/test`` ``{edits?, sample?}`` -- test-run of the flow *as edited* on a
  sample (default: the shipped one), each step's output, personal data masked;
* ``POST .../flows/{name}/save`` ``{edits, base}`` -- applied to the files' round-trip documents
  and written (only the edited lines change); 409 when a file changed since it was loaded
  (``base``), 422 (nothing written) when the edited flow has lint errors;
* ``GET .../flows/{name}/deploy-preview`` -- the diff between the deployed version and the
  files now; ``POST .../flows/{name}/deploy`` ``{version_id}`` -- deploys the files' version if it
  is still the one previewed (409 otherwise), as ``presta-ax flow deploy`` does.

The edits are those of :mod:`pipelines.yaml_edit`; the files are handled by
:class:`pipelines.flow_workspace.FlowWorkspace`. Flow folders are read on every request.
Problems name files by their place in the flow folder, never by a path of the machine.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.errors import ConfigError
from runtime.app.admin import json_body
from runtime.app.webhooks import error
from runtime.store import AsyncStore

__all__ = ["designer_routes", "openapi_paths"]

_MAX_FIELDS = 3000


def _flatten(schema: Any, prefix: str = "", depth: int = 0, out: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Fields of an :class:`pipelines.targets.EntitySchema`, nested ones dotted (3 levels)."""
    out = [] if out is None else out
    if schema is None:
        return out
    for name, info in schema.fields.items():
        out.append({"name": prefix + name, "type": info.type, "required": info.required,
                    "max_length": info.max_length, "enum": list(info.enum_values) if info.enum_values else None,
                    "read_only": info.read_only})
    if depth < 2:
        for name in [*schema.children, *schema.includes]:
            _flatten(schema.child(name), f"{prefix}{name}.", depth + 1, out)
    return out[:_MAX_FIELDS]


def mapping_fields(spec: Any) -> dict[str, list[dict[str, Any]]]:
    """Source and target fields of a mapping, from the connectors' field tables."""
    from pipelines.targets import schema_for

    s, t = spec.source, spec.target
    return {"source": _flatten(schema_for(s.system, s.resource, s.service, s.entity, s.includes)),
            "target": _flatten(schema_for(t.system, t.resource, t.service, t.entity))}


def _sample(flow: Any) -> dict[str, Any] | None:
    from pipelines.registry import DEFAULT_FLOWS_DIR
    from pipelines.testrun import load_sample, sample_path

    path = sample_path(flow) or DEFAULT_FLOWS_DIR / "samples" / f"{flow.name}.json"
    return load_sample(path) if path.is_file() else None


def _render(record: dict[str, Any]) -> str:
    """A deployed version's content as YAML text, the same way for both sides of a diff."""
    import io

    from ruamel.yaml import YAML

    y = YAML(typ="safe")
    y.default_flow_style = False
    y.width = 4096
    y.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # keep the models' key order
    out = io.StringIO()
    y.dump({"flow": record.get("spec"), "mappings": record.get("mapping_specs")}, out)
    return out.getvalue()


def designer_routes(store: AsyncStore, flow_dirs: list[Path], guarded: Callable[[Any], Any]) -> list[Route]:
    from pipelines.flow_workspace import FileChangedError, FlowWorkspace, text_hash
    from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry, load_flow_bundle
    from pipelines.yaml_edit import EDIT_OPS, EditError

    def _flow(name: str) -> Any:
        # the registry loads every flow; the designer needs one: find its file by its `flow:`
        # line (the first folder holding it wins, as in the registry) and load only that
        registry = FlowRegistry(flow_dirs)
        line = re.compile(rf"^flow:\s*['\"]?{re.escape(name)}['\"]?\s*(#.*)?$", re.MULTILINE)
        for path in registry.flow_files():
            try:
                head = path.read_text(encoding="utf-8")[:8000]
            except OSError:
                continue
            if line.search(head):
                return load_flow_bundle(path, search=[d for d in registry.dirs if d != DEFAULT_FLOWS_DIR])
        return registry.get(name)  # raises with a did-you-mean

    def relative(text: str) -> str:
        """A loader's message with the flow folders' paths taken out (files by their place)."""
        for d in sorted([*flow_dirs, DEFAULT_FLOWS_DIR], key=lambda d: -len(str(d))):
            text = text.replace(f"{Path(d).resolve()}/", "").replace(f"{d}/", "")
        return text

    def invalid(exc: ConfigError) -> Response:
        return JSONResponse({"error": "invalid_flow", "detail": relative(exc.message),
                             "problems": [relative(p) for p in exc.problems]}, status_code=422)

    async def off_loop(fn: Callable[[], Any]) -> Any:
        # YAML, pydantic and lint work is CPU-bound: keep the ingress event loop free
        return await asyncio.get_running_loop().run_in_executor(None, fn)

    async def schema(request: Request) -> Response:
        from pipelines.specs import FieldRule, FlowSpec, LookupTable, Step, Trigger

        return JSONResponse({
            "step": Step.model_json_schema(by_alias=True), "rule": FieldRule.model_json_schema(by_alias=True),
            "lookup": LookupTable.model_json_schema(by_alias=True),
            "trigger": Trigger.model_json_schema(by_alias=True), "flow": FlowSpec.model_json_schema(by_alias=True),
            "ops": list(EDIT_OPS), "step_kinds": ["extract", "map", "validate", "guard", "load", "write-back"]})

    async def fields(request: Request) -> Response:
        from pipelines.targets import schema_for

        system, entity = request.path_params["system"], request.path_params["entity"]
        if system not in ("prestashop", "ax"):
            return error(404, "not_found", f"Unknown system '{system[:40]}'; use prestashop or ax.")
        service, _, ent = entity.partition(".")
        found = schema_for("prestashop", entity) if system == "prestashop" else schema_for("ax", None, service, ent)
        if found is None:
            hint = "a resource such as orders" if system == "prestashop" else "Service.Entity, e.g. SalesOrderService.SalesTable"
            return error(404, "not_found", f"No {system} entity '{entity[:60]}': name {hint}.")
        return JSONResponse({"system": system, "entity": entity, "fields": _flatten(found)})

    async def show(request: Request) -> Response:
        name = request.path_params["name"]

        def build() -> dict[str, Any]:
            flow = _flow(name)
            ws = FlowWorkspace.of(flow, flow_dirs)
            return {
                "name": flow.name, "entity": flow.spec.entity, "version_id": flow.version_id,
                "flow_file": ws.flow_display,
                "files": [{"file": d, "mapping": f.mapping, "text": f.text, "hash": text_hash(f.text)}
                          for d, f in ws.files.items()],
                "flow": flow.spec.model_dump(mode="json", by_alias=True, exclude_unset=True),
                "mappings": {n: {"file": ws.mapping_display(n),
                                 "spec": m.model_dump(mode="json", by_alias=True, exclude_unset=True),
                                 "fields": mapping_fields(m)} for n, m in sorted(flow.mappings.items())},
                "sample": _sample(flow)}

        try:
            data = await off_loop(build)
        except ConfigError as exc:
            if "no flow named" not in exc.message:  # the flow exists but its files do not load
                return invalid(exc)
            return error(404, "not_found", exc.message)
        deployed = await store.flow_versions(name)
        data["deployed_version"] = deployed[0]["version"] if deployed else None
        return JSONResponse(data)

    async def _edited(request: Request, need_edits: bool) -> tuple[Any, Any, dict[str, Any]]:
        body = await json_body(request)
        edits = body.get("edits") or []
        if need_edits and not edits:
            raise ValueError("Send 'edits': a non-empty list of changes.")

        def run() -> tuple[Any, Any]:
            ws = FlowWorkspace.of(_flow(request.path_params["name"]), flow_dirs)
            if "base" in body or need_edits:
                ws.check_base(body.get("base"))
            return ws, ws.edit(edits)

        ws, edited = await off_loop(run)
        return ws, edited, body

    def _guard_edits(fn: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def wrapper(request: Request) -> Response:
            try:
                return await fn(request)  # type: ignore[no-any-return]
            except FileChangedError as exc:
                return error(409, "changed_on_disk", str(exc))
            except EditError as exc:
                return error(422, "invalid_edit", str(exc))
            except ConfigError as exc:
                if "no flow named" in exc.message:
                    return error(404, "not_found", exc.message)
                return invalid(exc)
        return wrapper

    @_guard_edits
    async def check(request: Request) -> Response:
        _, edited, _ = await _edited(request, False)
        return JSONResponse({"diffs": edited.diffs(), "problems": edited.problems,
                             "version_id": edited.flow.version_id if edited.flow else None})

    @_guard_edits
    async def test(request: Request) -> Response:
        from pipelines.testrun import run_flow_test

        ws, edited, body = await _edited(request, False)
        sample = body.get("sample")
        if sample is None:
            sample = await off_loop(lambda: _sample(_flow(ws.name)))
        if not isinstance(sample, dict):
            raise ValueError("Send 'sample': the record (or {record, context, message}) to run the flow on; this "
                             "flow ships no sample.")
        if edited.flow is None:
            return JSONResponse({"error": "invalid_flow", "detail": "The edited flow does not load: "
                                 f"{edited.errors[0]['message'] if edited.errors else 'see problems'}",
                                 "problems": edited.problems}, status_code=422)
        result = await off_loop(lambda: run_flow_test(edited.flow, sample, masked=True))
        return JSONResponse({**result, "problems": edited.problems})

    @_guard_edits
    async def save(request: Request) -> Response:
        _, edited, _ = await _edited(request, True)
        if edited.errors or edited.flow is None:
            first = edited.errors[0] if edited.errors else {"file": "?", "line": 1, "message": "does not load"}
            return JSONResponse({"error": "invalid_flow", "problems": edited.problems, "diffs": edited.diffs(),
                                 "detail": f"Not saved: {len(edited.errors)} problem(s), the first in {first['file']} "
                                           f"line {first['line']}: {first['message']}"}, status_code=422)
        written = await off_loop(lambda: edited.save(flow_dirs))
        return JSONResponse({"saved": written, "diffs": edited.diffs(), "problems": edited.problems,
                             "version_id": edited.flow.version_id})

    async def _versions(name: str) -> tuple[Any, dict[str, Any] | None]:
        flow = await off_loop(lambda: _flow(name))
        deployed = (await store.deployed_flows()).get(name)
        return flow, deployed

    @_guard_edits
    async def deploy_preview(request: Request) -> Response:
        from pipelines.lint import lint_flow

        flow, deployed = await _versions(request.path_params["name"])
        now = _render(flow.record())
        before = _render(json.loads(deployed["content"])) if deployed else ""
        label = deployed["version"] if deployed else "nothing deployed"
        diff = "".join(difflib.unified_diff(before.splitlines(True), now.splitlines(True), f"deployed {label}",
                                            f"files {flow.version_id}"))
        problems = [p.to_dict() | {"file": Path(p.file).name} for p in await off_loop(lambda: lint_flow(flow))]
        return JSONResponse({"name": flow.name, "version_id": flow.version_id,
                             "deployed_version": deployed["version"] if deployed else None,
                             "changed": not deployed or deployed["version"] != flow.version_id, "diff": diff,
                             "problems": [p for p in problems if p["severity"] == "error"]})

    @_guard_edits
    async def deploy(request: Request) -> Response:
        from pipelines.lint import lint_flow

        body = await json_body(request)
        expected = body.get("version_id")
        if not isinstance(expected, str) or not expected:
            raise ValueError("Send 'version_id': the version shown by deploy-preview, so that what you reviewed "
                             "is what gets deployed.")
        flow = await off_loop(lambda: _flow(request.path_params["name"]))
        if flow.version_id != expected:
            return error(409, "changed_on_disk", f"The flow's files are now version {flow.version_id}, not the "
                         f"{expected[:40]} you previewed; look at the diff again.")
        problems = [p for p in await off_loop(lambda: lint_flow(flow)) if p.severity == "error"]
        if problems:
            return JSONResponse({"error": "invalid_flow", "detail": f"Not deployed: {len(problems)} problem(s): "
                                 f"{problems[0].message}", "problems": [p.message for p in problems]}, status_code=422)
        new = await store.record_flow_version(flow.name, flow.version_id, json.dumps(flow.record()))
        return JSONResponse({"name": flow.name, "version_id": flow.version_id, "deployed": new,
                             "status": "deployed" if new else "already deployed"})

    base = "/api/v1/designer"
    return [
        Route(f"{base}/schema", guarded(schema), methods=["GET"]),
        Route(f"{base}/fields/{{system}}/{{entity}}", guarded(fields), methods=["GET"]),
        Route(f"{base}/flows/{{name}}", guarded(show), methods=["GET"]),
        Route(f"{base}/flows/{{name}}/check", guarded(check), methods=["POST"]),
        Route(f"{base}/flows/{{name}}/test", guarded(test), methods=["POST"]),
        Route(f"{base}/flows/{{name}}/save", guarded(save), methods=["POST"]),
        Route(f"{base}/flows/{{name}}/deploy-preview", guarded(deploy_preview), methods=["GET"]),
        Route(f"{base}/flows/{{name}}/deploy", guarded(deploy), methods=["POST"]),
    ]


def openapi_paths() -> dict[str, Any]:
    """This module's paths for :mod:`runtime.app.openapi`."""
    err = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    auth = {"401": err}
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Flow name"}
    obj = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    edits = {"type": "array", "maxItems": 500, "items": {"type": "object", "required": ["op"], "properties": {
        "op": {"type": "string", "enum": ["add_step", "remove_step", "move_step", "set_step_option", "set_rule",
                                          "remove_rule", "set_lookup"]}}}}

    def body(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {"required": bool(required), "content": {"application/json": {"schema": {
            "type": "object", "required": required, "properties": props}}}}

    edit_codes = {"400": err, "404": err, "409": err, "422": err, **auth}
    return {
        "/api/v1/designer/schema": {"get": {"summary": "JSON schemas of steps, rules and lookups (designer forms)",
                                            "responses": {"200": obj, **auth}}},
        "/api/v1/designer/fields/{system}/{entity}": {"get": {
            "summary": "Field table of a PrestaShop resource or an AX Service.Entity",
            "parameters": [{"name": "system", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": ["prestashop", "ax"]}},
                           {"name": "entity", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": obj, "404": err, **auth}}},
        "/api/v1/designer/flows/{name}": {"get": {"summary": "A flow's files, spec, mappings with field tables, sample",
                                                  "parameters": [name], "responses": {"200": obj, "404": err, **auth}}},
        "/api/v1/designer/flows/{name}/check": {"post": {
            "summary": "Apply edits in memory: diff per file and lint problems (nothing written)",
            "parameters": [name], "requestBody": body({"edits": edits, "base": {"type": "object"}}, []),
            "responses": {"200": obj, **edit_codes}}},
        "/api/v1/designer/flows/{name}/test": {"post": {
            "summary": "Test-run the flow as edited on a sample (each step's output, masked)",
            "parameters": [name], "requestBody": body({"edits": edits, "sample": {"type": "object"}}, []),
            "responses": {"200": obj, **edit_codes}}},
        "/api/v1/designer/flows/{name}/save": {"post": {
            "summary": "Apply edits to the YAML files, round-trip (only edited lines change)",
            "parameters": [name],
            "requestBody": body({"edits": {**edits, "minItems": 1}, "base": {"type": "object"}}, ["edits", "base"]),
            "responses": {"200": obj, **edit_codes}}},
        "/api/v1/designer/flows/{name}/deploy-preview": {"get": {
            "summary": "Diff between the deployed version and the files now", "parameters": [name],
            "responses": {"200": obj, "404": err, **auth}}},
        "/api/v1/designer/flows/{name}/deploy": {"post": {
            "summary": "Deploy the files' version, if it is still the one previewed", "parameters": [name],
            "requestBody": body({"version_id": {"type": "string", "minLength": 1}}, ["version_id"]),
            "responses": {"200": obj, **edit_codes}}},
    }
