"""The files of one flow as the visual designer edits them: read, edit, check, test-run, save.

A :class:`FlowWorkspace` holds the flow file and the mapping files its map steps use, as found
by :class:`pipelines.registry.FlowRegistry`. :meth:`FlowWorkspace.edit` applies structured edits
(:mod:`pipelines.yaml_edit`) to the files' round-trip documents and returns an :class:`Edited`:
the new texts, a unified diff per file, lint problems and the flow loaded from the new texts
(for a test-run) -- all without touching the files. :meth:`Edited.save` then writes the changed
files, each atomically.

Files are named to the outside by a *display name* relative to their flow folder
(``ps_order_to_ax.yaml``, ``mappings/ps_order_to_ax_sales_order.yaml``), never by an absolute
path. A file that lives among the shipped defaults (``pipelines/flows``) is never overwritten:
it is saved as a copy in the first user flow folder (the flow next to its mappings), where the
registry finds it before the default; with no user folder, saving raises :class:`ConfigError`.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.errors import ConfigError
from pipelines.lint import Problem, lint_file, lint_flow
from pipelines.registry import DEFAULT_FLOWS_DIR, LoadedFlow, load_flow_bundle
from pipelines.yaml_edit import RoundTripFile, apply_edits

__all__ = ["Edited", "FlowWorkspace", "text_hash"]

_HINT = re.compile(r"did you mean '([^']+)'", re.IGNORECASE)
_UNKNOWN_SOURCE = re.compile(r"unknown source field '([^']+)'")


def text_hash(text: str) -> str:
    """What the designer sends back as ``base`` to prove it edited the text it was shown."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _is_default(path: Path) -> bool:
    try:
        path.resolve().relative_to(DEFAULT_FLOWS_DIR)
    except ValueError:
        return False
    return True


@dataclass
class _File:
    display: str
    path: Path
    text: str
    mapping: str | None = None  # None for the flow file


@dataclass
class Edited:
    """The outcome of edits, not yet written (see the module docstring)."""

    workspace: FlowWorkspace
    texts: dict[str, str]  # display name -> new text, changed files only
    problems: list[dict[str, Any]]
    flow: LoadedFlow | None  # None when the edited files do not load

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [p for p in self.problems if p["severity"] == "error"]

    def diffs(self) -> list[dict[str, str]]:
        """``[{file, diff}]``: a unified diff (3 lines of context) per changed file."""
        out = []
        for name, new in self.texts.items():
            old = self.workspace.files[name].text
            diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{name}", f"b/{name}"))
            out.append({"file": name, "diff": diff})
        return out

    def save(self, user_dirs: list[Path]) -> list[str]:
        """Write the changed files (atomically, each); returns the display names written."""
        written = []
        for name, text in self.texts.items():
            f = self.workspace.files[name]
            target = f.path
            if _is_default(target):
                if not user_dirs:
                    raise ConfigError(f"{name} is a default flow file shipped with the bridge and no user flow "
                                      "folder is configured (flow_dirs) to save a copy in.")
                home = self.workspace.files[self.workspace.flow_display].path.parent
                base = home if not _is_default(home) else user_dirs[0]
                target = base / f.path.name if f.mapping is None else base / "mappings" / f.path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                if target.exists():
                    os.chmod(tmp, target.stat().st_mode & 0o777)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            written.append(name)
        return written


@dataclass
class FlowWorkspace:
    """The flow file and its mapping files (see the module docstring)."""

    name: str
    flow_display: str
    files: dict[str, _File] = field(default_factory=dict)
    search: list[Path] = field(default_factory=list)

    @classmethod
    def of(cls, flow: LoadedFlow, search: list[Path] | None = None) -> FlowWorkspace:
        """The workspace of a flow loaded from files; ConfigError when a file cannot be read."""
        flow_path = Path(flow.spec.file)
        if not flow_path.is_file():
            raise ConfigError(f"The flow {flow.name} has no file to edit (it was loaded from a deployed record).")
        root = flow_path.parent
        ws = cls(flow.name, flow_path.name, search=list(search or []))
        ws.files[flow_path.name] = _File(flow_path.name, flow_path, flow_path.read_text(encoding="utf-8"))
        for name, spec in sorted(flow.mappings.items()):
            path = Path(spec.file)
            try:
                display = str(path.relative_to(root))
            except ValueError:
                display = f"mappings/{path.name}"  # a shared or default mapping: shown by its role
            ws.files[display] = _File(display, path, path.read_text(encoding="utf-8"), name)
        return ws

    def mapping_display(self, mapping: str) -> str:
        return next(d for d, f in self.files.items() if f.mapping == mapping)

    def check_base(self, base: Any) -> None:
        """ValueError unless ``base`` (``{display name: text_hash}``) matches every file now:
        someone else saved meanwhile and the edits were made on an older text."""
        if not isinstance(base, dict):
            raise ValueError("Send 'base': {file: hash} of the files as you loaded them (see GET the flow).")
        for name, f in self.files.items():
            if name in base and base[name] != text_hash(f.text):
                raise FileChangedError(f"{name} changed on disk since you opened it; reload the flow and "
                                       "apply your change again.")

    def edit(self, edits: Any) -> Edited:
        """Apply ``edits`` (EditError for one that cannot apply) and check the result."""
        flow_doc = RoundTripFile(self.files[self.flow_display].text, self.flow_display)
        docs = _LazyDocs({f.mapping: (f.text, d) for d, f in self.files.items() if f.mapping})
        changed = apply_edits(flow_doc, docs, edits) if edits else set()
        texts: dict[str, str] = {}
        for key in changed:
            name = self.flow_display if key == "" else self.mapping_display(key)
            new = (flow_doc if key == "" else docs[key]).dump()
            if new != self.files[name].text:
                texts[name] = new
        problems, loaded = self._check(texts)
        return Edited(self, texts, problems, loaded)

    def _check(self, texts: dict[str, str]) -> tuple[list[dict[str, Any]], LoadedFlow | None]:
        """Lint the flow as it would be with ``texts`` (in a scratch copy of its files); the
        same content is linted once (the designer checks, test-runs and saves the same edits)."""
        key = hashlib.sha256(json.dumps([self.flow_display, sorted((n, texts.get(n, f.text))
                                                                   for n, f in self.files.items()),
                                         [str(d) for d in self.search]]).encode()).hexdigest()
        hit = _CHECKED.get(key)
        if hit is None:
            hit = self._lint(texts)
            _CHECKED[key] = hit
            while len(_CHECKED) > 16:
                _CHECKED.pop(next(iter(_CHECKED)))
        problems, loaded = hit
        return [dict(p) for p in problems], loaded

    def _lint(self, texts: dict[str, str]) -> tuple[list[dict[str, Any]], LoadedFlow | None]:
        with tempfile.TemporaryDirectory(prefix="designer-") as tmp:
            root = Path(tmp)
            where: dict[str, str] = {}
            for name, f in self.files.items():
                target = root / (f.path.name if f.mapping is None else f"mappings/{f.path.name}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(texts.get(name, f.text), encoding="utf-8")
                where[str(target)] = name
            loaded: LoadedFlow | None = None
            try:
                loaded = load_flow_bundle(root / self.files[self.flow_display].path.name, search=self.search)
                found = lint_flow(loaded)
            except ConfigError:
                found = [p for path in where for p in lint_file(Path(path))]
            problems = [_problem_json(p, where) for p in found]
        if loaded is not None:
            loaded = _detached(loaded)
        return problems, loaded


#: lint results by content (see FlowWorkspace._check): the flows are rebuilt from text, never shared
_CHECKED: dict[str, tuple[list[dict[str, Any]], LoadedFlow | None]] = {}


class _LazyDocs(Mapping[str, RoundTripFile]):
    """Mapping documents parsed on first use: an edit of one mapping parses only that file."""

    def __init__(self, sources: dict[str, tuple[str, str]]) -> None:
        self.sources = sources
        self.docs: dict[str, RoundTripFile] = {}

    def __getitem__(self, name: str) -> RoundTripFile:
        if name not in self.docs:
            text, display = self.sources[name]
            self.docs[name] = RoundTripFile(text, display)
        return self.docs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)


class FileChangedError(ValueError):
    """The file on disk is not the one the edits were made on."""


def _detached(flow: LoadedFlow) -> LoadedFlow:
    """The flow without its scratch file names (the scratch folder is gone after the check)."""
    flow.spec._file = "<edited>"  # type: ignore[attr-defined]
    for m in flow.mappings.values():
        m._file = "<edited>"  # type: ignore[attr-defined]
    return flow


def _problem_json(p: Problem, where: dict[str, str]) -> dict[str, Any]:
    hint = _HINT.search(p.message)
    suggestion = hint.group(1) if hint else None
    unknown = _UNKNOWN_SOURCE.search(p.message)
    if suggestion and unknown and "." in unknown.group(1) and "." not in suggestion:
        # lint names the field within its record (city); the editor replaces the whole path
        suggestion = unknown.group(1).rsplit(".", 1)[0] + "." + suggestion
    return {"file": where.get(p.file, Path(p.file).name), "line": p.line, "path": p.path, "message": p.message,
            "severity": p.severity, "suggestion": suggestion}
