"""Masking of sensitive values."""

from __future__ import annotations

import pytest

from pipelines.masking import mask_record, mask_value

pytestmark = pytest.mark.unit


def test_mask_kinds_hide_the_value() -> None:
    assert mask_value("jane.doe@example.com", "email") == "'j***@e***.com'"
    assert mask_value("+33 1 23 45 67 89", "phone") == "'***89'"
    assert mask_value("Jane", "name") == "'J***'"
    assert mask_value("s3cret", "full") == "'***'"
    assert mask_value(None, "email") == "<missing>"
    assert mask_value("x" * 80, None).endswith("...'")


def test_mask_record_walks_nested_lists_and_known_names() -> None:
    doc = {
        "Email": "jane@example.com",
        "DirParty": {"Contacts": [{"Locator": "jane@example.com", "Type": "Email"}]},
        "passwd": "plain",
        "City": "Paris",
    }
    masked = mask_record(doc, {"DirParty.Contacts[].Locator": "email"})
    assert masked["Email"] == "j***@e***.com"
    assert masked["DirParty"]["Contacts"][0]["Locator"] == "j***@e***.com"
    assert masked["DirParty"]["Contacts"][0]["Type"] == "Email"
    assert masked["passwd"] == "***"
    assert masked["City"] == "Paris"
    assert doc["Email"] == "jane@example.com"  # the original is untouched
