"""Small XML helpers for the raw-HTTP contract tests (parsing only; no sandbox code)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

XLINK = "{http://www.w3.org/1999/xlink}href"


def root(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def errors(text: str) -> list[tuple[int, str]]:
    return [(int(e.findtext("code") or 0), e.findtext("message") or "") for e in root(text).iter("error")]


def obj(text: str, node: str) -> ET.Element:
    found = root(text).find(node)
    assert found is not None, f"no <{node}> in {text[:200]}"
    return found


def field(text: str, node: str, name: str) -> str:
    return obj(text, node).findtext(name) or ""


def created_id(text: str, node: str) -> int:
    return int(field(text, node, "id"))
