"""No secret and no customer's personal data in anything the bridge writes or answers, under chaos.

The suite's chaos campaign (conftest.py: ``benchmarks/chaos.py`` with every fault of the
schedule) runs with the bridge's spans exported to a file. Afterwards every
line the run produced is searched, case-insensitively, for each configured secret (the shop's
webservice key, the webhook secret, the admin token, the AX password, and the Basic credentials
built from them) and for the customers' e-mails, names and street: every Ray log file of the
session (the bridge's actors, the Serve replica and controller, the raylet, the driver), every
span's attributes and events, the admin API's answers (alerts, dead letters, health, messages)
and its error answers, and the campaign's own output. The sandboxes' logs are not searched: the
shop and AX hold that data by right.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from benchmarks._chaos_shop import FIRST, LAST, STREET
from benchmarks.chaos import Secrets
from tests.chaos.conftest import ORDERS, CampaignRun

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]


def _needles(secrets: dict[str, str], ax_user: str) -> dict[str, str]:
    """What must never appear -> a label for the failure message (never the value itself)."""
    out = {value: name for name, value in secrets.items()}
    out[base64.b64encode(f"{secrets['ps_key']}:".encode()).decode()] = "shop Basic credentials"
    out[base64.b64encode(f"{ax_user}:{secrets['ax_password']}".encode()).decode()] = "AX Basic credentials"
    out[secrets["webhook_secret"].removeprefix("whsec_")] = "webhook secret (base64 part)"
    out.update({FIRST: "customer first name", LAST: "customer last name", STREET: "customer street",
                "zq.chaos": "customer e-mail"})
    return out


def _scanned(work: Path, session: Path) -> list[Path]:
    files = [p for p in (session / "logs").rglob("*") if p.is_file()]
    return [*files, work / "spans.jsonl", work / "api.json"]


# the campaign runs in the first chaos test's setup (conftest.py): minutes, not the suite's 300 s
@pytest.mark.timeout(2700)
def test_secrets_and_personal_data_appear_in_no_log_span_alert_or_api_answer(chaos_campaign: CampaignRun) -> None:
    result, work = chaos_campaign.result, chaos_campaign.work
    assert result is not None, chaos_campaign.output[-4000:]
    assert result["orders"] == ORDERS and result["packed"] > 0  # the scenario ran the whole cycle
    _check(work, Path(result["ray_session_dir"]), chaos_campaign.output, ORDERS)


def _check(work: Path, session: Path, output: str, orders: int) -> None:
    secrets = json.loads((work / "secrets.json").read_text())
    needles = _needles(secrets, Secrets().ax_user)
    files = _scanned(work, session)
    spans = [json.loads(line) for line in (work / "spans.jsonl").read_text().splitlines() if line.strip()]
    assert len(spans) > orders * 5  # the orders' traces were exported
    assert any(s.get("events") for s in spans)  # the retries' and errors' events are searched too
    api = json.loads((work / "api.json").read_text())
    assert '"error"' in api["wrong token"] and api["unknown message"]  # error answers are searched
    leaks = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace").lower()
        leaks += [f"{label} in {path.relative_to(path.anchor)}" for needle, label in needles.items()
                  if needle.lower() in text]
    leaks += [f"{label} in the campaign's output" for needle, label in needles.items()
              if needle.lower() in output.lower()]
    assert len(files) > 10, files
    assert leaks == [], "\n".join(leaks)
