"""Structured edits of flow and mapping files that keep everything else of the file as it was.

The visual designer never sends a whole file: it sends a list of changes (add, remove or move
a step, set a step's option, set or remove a mapping rule, set a lookup table), and
:func:`apply_edits` applies them to the ruamel.yaml *round-trip* documents of the files. Only
the nodes an edit touches are rebuilt, so comments, key order, quoting, flow/block style and
blank lines of everything else survive, and ``git diff`` shows just the edited lines.

An edit is a JSON object with ``op``:

* ``add_step`` ``{step: {id, kind, ...}, after?: step id}`` -- inserted after ``after``
  (default: at the end);
* ``remove_step`` ``{step: id}``; ``move_step`` ``{step: id, to: index}`` (0-based);
* ``set_step_option`` ``{step: id, key, value}`` -- ``value: null`` removes the option;
* ``set_rule`` ``{mapping, field, rule, child?}`` -- adds or replaces the rule of target
  ``field``; ``rule`` is a source path (the short form) or a rule object
  (``{from|expr|const|cases, default, lookup, convert, ...}``); ``child`` names a child mapping
  (``SalesLine``; nested ones dotted). A changed rule is updated in place (its comments stay);
* ``remove_rule`` ``{mapping, field, child?}``;
* ``set_lookup`` ``{mapping, table, lookup: {values, on_missing, default?}}``, ``lookup: null``
  removes the table;
* ``add_trigger`` ``{trigger: {type, ...}}`` -- appended to ``triggers`` (one line, as the
  shipped flows write them); ``remove_trigger`` ``{trigger: index}`` (0-based);
  ``set_trigger_option`` ``{trigger: index, key, value}`` -- ``value: null`` removes the option;
  the trigger keeps its style and the comments around it.

:class:`EditError` (a ``ValueError``) names the edit (``edits[2]``) and says why it cannot be
applied, with a did-you-mean for a misspelt step, mapping, field or child. Edits apply in order;
whether the result is a valid flow is checked afterwards by the caller (pydantic + lint), not here.
"""

from __future__ import annotations

import copy
import io
import re
from collections.abc import Mapping
from difflib import get_close_matches
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

__all__ = ["EDIT_OPS", "EditError", "RoundTripFile", "apply_edits"]

EDIT_OPS = ("add_step", "remove_step", "move_step", "set_step_option", "set_rule", "remove_rule", "set_lookup",
            "add_trigger", "remove_trigger", "set_trigger_option")
_STEP_KEY_ORDER = ("id", "kind", "when", "system", "operation", "include", "mapping", "input", "output", "inputs",
                   "mode", "rules", "anomaly")


class EditError(ValueError):
    """An edit that cannot be applied; the message names the edit and the reason."""


def _hint(name: str, names: list[str]) -> str:
    close = get_close_matches(name, names, n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


_KEY_LINE = re.compile(r"^( *)[^\s#-][^#]*:\s*(#.*)?$")
_DASH_LINE = re.compile(r"^( *)- ")


def _guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, offset of a block sequence's dash under its key) as the file writes
    them; cheaper than ruamel's guess, which parses the whole file once more."""
    indent, offset = 0, -1
    previous: re.Match[str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        dash = _DASH_LINE.match(line)
        if dash and previous is not None and offset < 0:
            offset = len(dash.group(1)) - len(previous.group(1))
        key = _KEY_LINE.match(line)
        if key and previous is not None and not indent and len(key.group(1)) > len(previous.group(1)):
            indent = len(key.group(1)) - len(previous.group(1))
        previous = key if key and line.rstrip().endswith(":") else None
    return indent or 2, max(offset, 0)


class RoundTripFile:
    """One YAML file loaded for round-trip editing; :meth:`dump` gives its text back.

    The indentation is taken from the file (``steps:`` lists indented by two with the dash, or
    not), so an unedited document dumps to exactly its original text.
    """

    def __init__(self, text: str, name: str = "<memory>") -> None:
        self.name = name
        self.original = text
        self.yaml = YAML(typ="rt")
        self.yaml.preserve_quotes = True
        try:
            self.data = self.yaml.load(text)
        except MarkedYAMLError as exc:
            raise EditError(f"The file {name} is not valid YAML: {exc.problem}.") from None
        indent, seq_offset = _guess_indent(text)
        if seq_offset:
            self.yaml.indent(mapping=indent, sequence=indent + seq_offset, offset=seq_offset)
        else:
            self.yaml.indent(mapping=indent, sequence=indent, offset=0)
        if not isinstance(self.data, CommentedMap):
            raise EditError(f"The file {name} must hold a YAML mapping at its top level.")
        # a file written by a YAML dumper has its long scalars folded at that dumper's width (80
        # by default): emit at the width that gives the file back unchanged, else never fold
        for width in (4096, 80):
            self.yaml.width = width
            if self.dump() == text:
                break
        else:
            self.yaml.width = 4096

    def dump(self) -> str:
        out = io.StringIO()
        self.yaml.dump(self.data, out)
        return out.getvalue()


# ------------------------------------------------------------------ building new nodes

def _node(value: Any, flow: bool) -> Any:
    """A JSON value as a ruamel node; maps and lists in flow style (``{a: 1}``) when ``flow``."""
    if isinstance(value, Mapping):
        m = CommentedMap((str(k), _node(v, flow)) for k, v in value.items())
        if flow:
            m.fa.set_flow_style()
        return m
    if isinstance(value, list):
        scalars = all(not isinstance(v, (Mapping, list)) for v in value)
        s = CommentedSeq(_node(v, flow or scalars) for v in value)
        if flow or scalars:
            s.fa.set_flow_style()
        return s
    return value


def _rule_node(rule: Any) -> Any:
    """The short form for a plain ``from`` path, a one-line ``{...}`` for a simple rule, block
    style for ``cases`` (as the shipped mappings write them)."""
    if isinstance(rule, str):
        return rule
    if not isinstance(rule, Mapping) or not rule:
        raise ValueError("a rule is a source path or an object such as {from: ..., default: ...}")
    if set(rule) == {"from"} and isinstance(rule["from"], str):
        return rule["from"]
    if "cases" in rule:
        m = CommentedMap()
        for k, v in rule.items():
            m[str(k)] = _node(v, flow=k != "cases") if k != "cases" else CommentedSeq(_node(c, True) for c in v)
        return m
    return _node(rule, flow=True)


def _tail(cmap: CommentedMap) -> tuple[CommentedMap, Any] | None:
    """The map and key whose end-of-line token holds what follows ``cmap`` in the file: its
    last entry, or the last entry of that entry's block map, and so on down."""
    if not cmap:
        return None
    last = list(cmap)[-1]
    value = cmap[last]
    if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
        return _tail(value)
    return cmap, last


def _append(cmap: CommentedMap, key: str, value: Any) -> None:
    """Add ``key`` at the end of ``cmap``; blank lines and comments that followed the old last
    entry (they belong to what comes next in the file) move below the new one."""
    tail = _tail(cmap)
    cmap[key] = value
    entry: list[Any] | None = tail[0].ca.items.get(tail[1]) if tail else None
    token = entry[2] if entry and len(entry) > 2 else None
    if entry is None or tail is None or token is None or isinstance(value, CommentedSeq) and not value.fa.flow_style():
        return
    own, _, rest = token.value.partition("\n")
    if not rest:
        return
    # ruamel keeps "# the entry's own comment\n<what follows>" as one token of the old entry
    if own.strip():
        token.value = own + "\n"
    else:
        entry[2] = None
    moved = copy.copy(token)
    moved.value = "\n" + rest
    new_tail = _tail(cmap)
    assert new_tail is not None
    new_tail[0].ca.items[new_tail[1]] = [None, None, moved, None]


def _set_keys(target: CommentedMap, new: Mapping[str, Any], flow: bool) -> None:
    """Make ``target`` hold exactly ``new``'s keys, updating in place (kept keys keep their
    position, style and comments; new ones go at the end)."""
    for k in [k for k in target if k not in new]:
        del target[k]
    for k, v in new.items():
        old = target.get(k)
        if k in target and old == v:
            continue
        if isinstance(old, CommentedMap) and isinstance(v, Mapping):
            _set_keys(old, v, bool(old.fa.flow_style()))
        elif k in target:
            target[k] = _node(v, flow)
        else:
            _append(target, str(k), _node(v, flow))


# ------------------------------------------------------------------ the edits

def _steps(flow: RoundTripFile) -> CommentedSeq:
    steps = flow.data.get("steps")
    if not isinstance(steps, CommentedSeq):
        raise EditError(f"The flow file {flow.name} has no list of steps.")
    return steps


def _step_index(steps: CommentedSeq, step_id: Any, where: str) -> int:
    ids = [str(s.get("id")) for s in steps if isinstance(s, Mapping)]
    if not isinstance(step_id, str) or step_id not in ids:
        raise EditError(f"{where}: the flow has no step '{str(step_id)[:60]}'.{_hint(str(step_id), ids)} "
                        f"Steps: {', '.join(ids)}.")
    return ids.index(step_id)


def _triggers(flow: RoundTripFile, create: bool = False) -> CommentedSeq:
    triggers = flow.data.get("triggers")
    if not isinstance(triggers, CommentedSeq):
        if not create:
            raise EditError(f"The flow file {flow.name} has no list of triggers.")
        triggers = CommentedSeq()
        flow.data.insert(list(flow.data).index("steps") if "steps" in flow.data else len(flow.data),
                         "triggers", triggers)
    return triggers


def _trigger_index(triggers: CommentedSeq, index: Any, where: str) -> int:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(triggers):
        raise EditError(f"{where}: 'trigger' must be a trigger's position, from 0 to {len(triggers) - 1}.")
    return index


def _apply_trigger(flow: RoundTripFile, edit: Mapping[str, Any], op: str, where: str) -> None:
    """The trigger edits (see the module docstring)."""
    if op == "add_trigger":
        trigger = edit.get("trigger")
        if not isinstance(trigger, Mapping) or not trigger.get("type"):
            raise EditError(f"{where}: add_trigger needs 'trigger' with at least 'type'.")
        _triggers(flow, create=True).append(_node({k: v for k, v in trigger.items() if v is not None}, flow=True))
        return
    triggers = _triggers(flow)
    i = _trigger_index(triggers, edit.get("trigger"), where)
    if op == "remove_trigger":
        del triggers[i]
        return
    key = edit.get("key")
    if not isinstance(key, str) or not key:
        raise EditError(f"{where}: set_trigger_option needs 'key' (e.g. 'every').")
    node = triggers[i]
    if not isinstance(node, CommentedMap):
        raise EditError(f"{where}: trigger {i} is not an object.")
    value = edit.get("value")
    if value is None:
        node.pop(key, None)
    else:
        node[key] = _node(value, flow=True)  # in place; a new key goes at the end of the line


def _mapping_fields(docs: Mapping[str, RoundTripFile], edit: Mapping[str, Any], where: str,
                    create: bool) -> tuple[CommentedMap, str]:
    name = edit.get("mapping")
    if not isinstance(name, str) or name not in docs:
        raise EditError(f"{where}: the flow uses no mapping '{str(name)[:60]}'.{_hint(str(name), list(docs))} "
                        f"Its mappings: {', '.join(docs) or 'none'}.")
    node: CommentedMap = docs[name].data
    label = name
    child = edit.get("child")
    if child:
        for part in str(child).split("."):
            children = node.get("children")
            known = list(children) if isinstance(children, Mapping) else []
            if part not in known:
                raise EditError(f"{where}: mapping {label} has no child mapping '{part[:60]}'.{_hint(part, known)}")
            node = children[part]
            label = f"{label}.children.{part}"
    fields = node.get("fields")
    if not isinstance(fields, CommentedMap):
        if not create:
            raise EditError(f"{where}: mapping {label} has no fields.")
        fields = CommentedMap()
        _append(node, "fields", fields)
    return fields, label


def _apply_one(flow: RoundTripFile, docs: Mapping[str, RoundTripFile], edit: Any, where: str) -> str:
    """Apply one edit; returns the name of the document it changed (``""`` for the flow)."""
    if not isinstance(edit, Mapping):
        raise EditError(f"{where}: an edit must be an object with 'op'.")
    op = edit.get("op")
    if op not in EDIT_OPS:
        raise EditError(f"{where}: unknown op '{str(op)[:40]}'.{_hint(str(op), list(EDIT_OPS))} "
                        f"Known: {', '.join(EDIT_OPS)}.")
    if op in ("add_trigger", "remove_trigger", "set_trigger_option"):
        _apply_trigger(flow, edit, op, where)
        return ""
    if op in ("add_step", "remove_step", "move_step", "set_step_option"):
        steps = _steps(flow)
        if op == "add_step":
            step = edit.get("step")
            if not isinstance(step, Mapping) or not isinstance(step.get("id"), str) or not step.get("kind"):
                raise EditError(f"{where}: add_step needs 'step' with at least 'id' and 'kind'.")
            ids = [str(s.get("id")) for s in steps if isinstance(s, Mapping)]
            if step["id"] in ids:
                raise EditError(f"{where}: the flow already has a step '{step['id'][:60]}'; step ids are unique.")
            ordered = {k: step[k] for k in _STEP_KEY_ORDER if k in step} | dict(step)
            node = CommentedMap()
            for k, v in ordered.items():
                if v is not None:
                    node[str(k)] = _node(v, flow=isinstance(v, list) and k != "rules")
            after = edit.get("after")
            pos = _step_index(steps, after, where) + 1 if after is not None else len(steps)
            steps.insert(pos, node)
        elif op == "remove_step":
            del steps[_step_index(steps, edit.get("step"), where)]
        elif op == "move_step":
            i = _step_index(steps, edit.get("step"), where)
            to = edit.get("to")
            if isinstance(to, bool) or not isinstance(to, int) or not 0 <= to < len(steps):
                raise EditError(f"{where}: 'to' must be a position from 0 to {len(steps) - 1}.")
            if to != i:
                item = steps.pop(i)
                steps.insert(to, item)
        else:
            step = steps[_step_index(steps, edit.get("step"), where)]
            key = edit.get("key")
            if not isinstance(key, str) or not key or key in ("id",):
                raise EditError(f"{where}: set_step_option needs 'key' (an option other than 'id').")
            value = edit.get("value")
            if value is None:
                step.pop(key, None)
            elif key in step and isinstance(step[key], CommentedMap) and isinstance(value, Mapping):
                _set_keys(step[key], value, step[key].fa.flow_style())
            elif key in step:
                step[key] = _node(value, flow=isinstance(value, list) and key != "rules")
            else:
                _append(step, key, _node(value, flow=isinstance(value, list) and key != "rules"))
        return ""
    name = str(edit.get("mapping"))
    if op == "set_lookup":
        _mapping_fields(docs, edit, where, create=True)  # checks the mapping name
        table, lookup = edit.get("table"), edit.get("lookup")
        if not isinstance(table, str) or not table:
            raise EditError(f"{where}: set_lookup needs 'table': the lookup table's name.")
        data = docs[name].data
        lookups = data.get("lookups")
        if lookup is None:
            if isinstance(lookups, CommentedMap):
                lookups.pop(table, None)
            return name
        if not isinstance(lookup, Mapping):
            raise EditError(f"{where}: 'lookup' must be an object: {{values: {{...}}, on_missing: ...}}.")
        if not isinstance(lookups, CommentedMap):
            lookups = CommentedMap()
            data.insert(list(data).index("fields") if "fields" in data else len(data), "lookups", lookups)
        if isinstance(lookups.get(table), CommentedMap):
            _set_keys(lookups[table], lookup, flow=True)
        else:
            node = _node(lookup, flow=False)
            for v in node.values():  # values as one line, as the shipped tables write them
                if isinstance(v, CommentedMap):
                    v.fa.set_flow_style()
            _append(lookups, table, node)
        return name
    field = edit.get("field")
    if not isinstance(field, str) or not field.strip():
        raise EditError(f"{where}: '{op}' needs 'field': the target field's name.")
    fields, label = _mapping_fields(docs, edit, where, create=op == "set_rule")
    if op == "remove_rule":
        if field not in fields:
            raise EditError(f"{where}: mapping {label} has no rule for '{field[:80]}'.{_hint(field, list(fields))}")
        del fields[field]
        return name
    try:
        rule = _rule_node(edit.get("rule"))
    except ValueError as exc:
        raise EditError(f"{where}: {exc}.") from None
    old = fields.get(field)
    if field in fields and isinstance(old, CommentedMap) and isinstance(rule, CommentedMap):
        _set_keys(old, dict(edit["rule"]), flow=bool(old.fa.flow_style()))
    elif field in fields:
        fields[field] = rule
    else:
        _append(fields, field, rule)
    return name


def apply_edits(flow: RoundTripFile, mappings: Mapping[str, RoundTripFile], edits: Any) -> set[str]:
    """Apply ``edits`` in order to the flow document and its mapping documents (by mapping
    name); returns the names of the documents changed (``""`` stands for the flow file).

    Raises :class:`EditError` at the first edit that cannot be applied (the documents may then
    hold the edits before it: load them afresh to try again).
    """
    if not isinstance(edits, list) or not edits:
        raise EditError("Send 'edits': a non-empty list of changes, e.g. "
                        "[{\"op\": \"set_rule\", \"mapping\": ..., \"field\": ..., \"rule\": ...}].")
    if len(edits) > 500:
        raise EditError("At most 500 edits at a time.")
    changed: set[str] = set()
    for i, edit in enumerate(edits):
        changed.add(_apply_one(flow, mappings, edit, f"edits[{i}]"))
    return changed
