"""Flow registry: find flow files, resolve the mappings they use, and version them by content.

A :class:`LoadedFlow` is a flow with its mappings loaded and compiled on demand. Its
``version_id`` is a hash of the *meaning* of the flow and every mapping it uses (the validated
models, not the file bytes), so re-indenting or commenting a file keeps the version while any
change of a field, lookup table or rule makes a new one. The runtime records the deployed
``version_id`` in the store; :meth:`LoadedFlow.record` is the data model it stores, content
included, and :func:`loaded_from_record` rebuilds the very same flow from it (the runtime runs
the deployed version, not the files).

Mappings named by a flow are looked up in ``<flow dir>/mappings/``, ``<flow dir>/``, then in
each extra search directory (and its ``mappings/``), then in the default flows shipped here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.errors import ConfigError
from pipelines.compiler import CompiledMapping, compile_mapping
from pipelines.specs import FlowSpec, MappingSpec, load_flow, load_mapping, parse_flow, parse_mapping

__all__ = [
    "DEFAULT_FLOWS_DIR",
    "FlowRegistry",
    "LoadedFlow",
    "content_hash",
    "find_mapping_file",
    "load_flow_bundle",
    "loaded_from_record",
]

DEFAULT_FLOWS_DIR = Path(__file__).resolve().parent / "flows"


def content_hash(*models: FlowSpec | MappingSpec) -> str:
    """A short, stable hash of the models' content (``sha256:`` + 16 hex digits)."""
    h = hashlib.sha256()
    for m in models:
        data = m.model_dump(mode="json", by_alias=True, exclude_defaults=False)
        h.update(json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode())
    return "sha256:" + h.hexdigest()[:16]


def find_mapping_file(
    name: str, flow_file: Path | None = None, search: list[Path] | None = None
) -> Path | None:
    """The file of mapping ``name``, or ``None``. See the module docstring for the order."""
    dirs: list[Path] = []
    if flow_file is not None:
        dirs += [flow_file.parent / "mappings", flow_file.parent]
    for d in search or []:
        dirs += [d / "mappings", d]
    dirs += [DEFAULT_FLOWS_DIR / "mappings"]
    for d in dirs:
        for ext in (".yaml", ".yml"):
            candidate = d / f"{name}{ext}"
            if candidate.is_file():
                return candidate
    return None


def mapping_names(search: list[Path] | None = None) -> list[str]:
    """Names of all mapping files visible from the search directories (for suggestions)."""
    names: set[str] = set()
    for d in [*(search or []), DEFAULT_FLOWS_DIR]:
        for sub in (d, d / "mappings"):
            if sub.is_dir():
                names.update(p.stem for p in sub.glob("*.y*ml") if _is_mapping_file(p))
    return sorted(names)


def _is_mapping_file(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8")[:4000]
    except OSError:
        return False
    return any(line.startswith("mapping:") for line in head.splitlines())


@dataclass
class LoadedFlow:
    """A flow, the mappings its steps use, and its content version."""

    spec: FlowSpec
    mappings: dict[str, MappingSpec]
    version_id: str
    _compiled: dict[str, CompiledMapping] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.spec.flow

    def compiled(self, mapping: str) -> CompiledMapping:
        """The compiled mapping (compiled once, then reused)."""
        cm = self._compiled.get(mapping)
        if cm is None:
            cm = compile_mapping(self.mappings[mapping])
            self._compiled[mapping] = cm
        return cm

    def compiled_unowned(self, mapping: str) -> CompiledMapping:
        """The mapping compiled with no owner filter: every field, whichever system owns it
        (the conflict log compares both sides' values of every field)."""
        key = f"{mapping}#unowned"
        cm = self._compiled.get(key)
        if cm is None:
            spec = self.mappings[mapping].model_copy(deep=True)
            for rules in _field_levels(spec.fields, spec.children):
                for rule in rules.values():
                    rule.owner = "both"
            cm = compile_mapping(spec)
            self._compiled[key] = cm
        return cm

    def record(self) -> dict[str, Any]:
        """The registry record the store keeps for a deployed version (JSON-safe)."""
        return {
            "name": self.spec.flow,
            "label": str(self.spec.version),
            "version_id": self.version_id,
            "entity": self.spec.entity,
            "description": self.spec.description,
            "file": self.spec.file,
            "triggers": [t.model_dump(mode="json", exclude_none=True) for t in self.spec.triggers],
            "steps": [
                {k: v for k, v in s.model_dump(mode="json", exclude_none=True, exclude_defaults=True).items()}
                | {"id": s.id, "kind": s.kind}
                for s in self.spec.steps
            ],
            "mappings": {n: content_hash(m) for n, m in sorted(self.mappings.items())},
            # the content itself, so a runtime can rebuild exactly this version (loaded_from_record)
            "spec": self.spec.model_dump(mode="json", by_alias=True, exclude_unset=True),
            "mapping_specs": {n: m.model_dump(mode="json", by_alias=True, exclude_unset=True)
                              for n, m in sorted(self.mappings.items())},
        }


def loaded_from_record(record: dict[str, Any]) -> LoadedFlow:
    """Rebuild the flow of a deployed version from its :meth:`LoadedFlow.record`.

    Raises ConfigError when the record holds no content (recorded before versions carried it) or
    when the rebuilt content does not hash to the recorded ``version_id`` (a damaged record).
    """
    name = record.get("name", "?")
    if not isinstance(record.get("spec"), dict) or not isinstance(record.get("mapping_specs"), dict):
        raise ConfigError(f"The deployed version {record.get('version_id')} of flow {name} carries no content "
                          "(it was deployed by an older version of the bridge); deploy the flow again.")
    spec = parse_flow(record["spec"], file=f"<deployed {name} {record.get('version_id')}>")
    mappings = {n: parse_mapping(m, file=f"<deployed mapping {n}>") for n, m in record["mapping_specs"].items()}
    version = content_hash(spec, *(mappings[n] for n in sorted(mappings)))
    if version != record.get("version_id"):
        raise ConfigError(f"The deployed version {record.get('version_id')} of flow {name} does not rebuild to "
                          f"itself (it hashes to {version}); deploy the flow again.")
    return LoadedFlow(spec=spec, mappings=mappings, version_id=version)


def _field_levels(fields: dict[str, Any], children: dict[str, Any]) -> list[dict[str, Any]]:
    levels = [fields]
    for child in children.values():
        levels += _field_levels(child.fields, child.children)
    return levels


def load_flow_bundle(flow: Path | FlowSpec, search: list[Path] | None = None) -> LoadedFlow:
    """Load a flow file (or take a parsed spec) and every mapping its map steps name.

    Raises ConfigError listing each mapping that cannot be found or loaded.
    """
    spec = load_flow(Path(flow)) if not isinstance(flow, FlowSpec) else flow
    flow_file = Path(spec.file) if spec.file != "<memory>" else None
    mappings: dict[str, MappingSpec] = {}
    problems: list[str] = []
    for i, step in enumerate(spec.steps):
        if step.kind != "map" or step.mapping is None or step.mapping in mappings:
            continue
        path = find_mapping_file(step.mapping, flow_file, search)
        if path is None:
            line = spec.lines.line_of(("steps", i, "mapping"))
            problems.append(
                f"{spec.file}:{line}: steps[{i}].mapping: no mapping named '{step.mapping}' was found"
            )
            continue
        try:
            mappings[step.mapping] = load_mapping(path)
        except ConfigError as exc:
            problems += exc.problems or [str(exc)]
    if problems:
        raise ConfigError(f"The flow {spec.flow} cannot be loaded: {problems[0]}", problems)
    version = content_hash(spec, *(mappings[n] for n in sorted(mappings)))
    return LoadedFlow(spec=spec, mappings=mappings, version_id=version)


class FlowRegistry:
    """The flows found in some directories (default: the flows shipped in ``pipelines/flows``).

    A user directory listed first wins over a default flow of the same name, so a user can
    copy a default flow, change it, and have theirs used.
    """

    def __init__(self, dirs: list[Path] | None = None, include_defaults: bool = True) -> None:
        self.dirs = list(dirs or [])
        if include_defaults:
            self.dirs.append(DEFAULT_FLOWS_DIR)
        self._flows: dict[str, LoadedFlow] | None = None

    def flow_files(self) -> list[Path]:
        files = []
        for d in self.dirs:
            if d.is_dir():
                files += sorted(p for p in d.glob("*.y*ml") if not _is_mapping_file(p))
        return files

    def flows(self) -> dict[str, LoadedFlow]:
        """All flows by name (loaded once; raises ConfigError for a broken flow file)."""
        if self._flows is None:
            found: dict[str, LoadedFlow] = {}
            for path in self.flow_files():
                loaded = load_flow_bundle(path, search=[d for d in self.dirs if d != DEFAULT_FLOWS_DIR])
                found.setdefault(loaded.name, loaded)
            self._flows = found
        return self._flows

    def get(self, name: str) -> LoadedFlow:
        """The flow ``name``; raises ConfigError with a did-you-mean suggestion when unknown."""
        flows = self.flows()
        if name in flows:
            return flows[name]
        from difflib import get_close_matches

        close = get_close_matches(name, list(flows), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"There is no flow named '{name}'.{hint} Known flows: {', '.join(sorted(flows))}.")
