"""Reading flow and mapping YAML while keeping the line of every key.

:func:`load_yaml` returns plain Python data (dicts, lists, str, int, Decimal for YAML floats,
bool, None) plus a :class:`LineIndex` that answers "on which line is
``steps[2].mapping``?" so that every error can name its file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from connectors.errors import ConfigError

__all__ = ["LineIndex", "format_path", "load_yaml", "load_yaml_text"]

PathT = tuple[str | int, ...]


def format_path(path: PathT) -> str:
    """``("steps", 2, "map")`` -> ``steps[2].map``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass
class LineIndex:
    """1-based line numbers of keys and list items, by path."""

    lines: dict[PathT, int] = field(default_factory=dict)

    def line_of(self, path: PathT) -> int:
        """Line of ``path``, or of its nearest ancestor that has one (1 when none has)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


def _plain(node: Any, path: PathT, index: LineIndex) -> Any:
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key, value in node.items():
            sub = (*path, str(key))
            try:
                index.lines[sub] = node.lc.key(key)[0] + 1
            except (KeyError, TypeError, AttributeError):
                index.lines[sub] = index.line_of(path)
            out[str(key)] = _plain(value, sub, index)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            sub = (*path, i)
            try:
                index.lines[sub] = node.lc.item(i)[0] + 1
            except (KeyError, TypeError, AttributeError):
                index.lines[sub] = index.line_of(path)
            items.append(_plain(value, sub, index))
        return items
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, float):
        # exact decimals: a rate of 1.1 must not become 1.100000000000000088817841970012523
        return Decimal(repr(float(node)))
    if isinstance(node, int):
        return int(node)
    if isinstance(node, str):
        return str(node)
    return node


def load_yaml_text(text: str, source: str) -> tuple[Any, LineIndex]:
    """Parse YAML text; raises ConfigError naming ``source`` and the line of a syntax error."""
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else 1
        problem = f"{source}:{line}: YAML syntax error: {exc.problem}"
        raise ConfigError(
            f"The file {source} is not valid YAML (line {line}: {exc.problem}).", [problem]
        ) from None
    index = LineIndex()
    index.lines[()] = 1
    return _plain(data, (), index), index


def load_yaml(path: Path) -> tuple[Any, LineIndex]:
    """Read and parse a YAML file (see :func:`load_yaml_text`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"The file {path} cannot be read: {exc.strerror}.", [f"{path}:1: cannot be read"]
        ) from None
    return load_yaml_text(text, str(path))
