"""The README's hand-sent webhook works as written against the demo.

The python block under "To send a webhook by hand" is taken from README.md and run as a user
runs it (``python -`` in a subprocess), against a bridge app served over real HTTP with the
demo's setup: both sandboxes seeded as ``presta-ax demo`` seeds them (its ``--seed`` default),
the demo's flows (:func:`runtime.demo.configure_demo`) and the demo's webhook secret. The
journaled message is then processed by the entity worker with the registered YAML flows, the
way an entity actor does, and must end ``done``. If the README names a customer the demo shop
does not have, a secret the demo does not use, or a body the bridge refuses, this test fails.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr

from connectors._serving import serve_in_thread
from connectors.dynamics_ax.sandbox.cli import seeded_sizes
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from runtime import cli_serve
from runtime.app import build_app
from runtime.config import Settings
from runtime.demo import configure_demo
from runtime.flows import FlowRegistry
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.worker import EntityWorker
from runtime.yaml_flows import register_yaml_flows

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
PS_KEY = "READMEKEY0123456789ABCDEFGHIJKLM"
#: what `presta-ax demo` seeds both sandboxes with when run without --seed
DEMO_SEED: int = inspect.signature(cli_serve.demo).parameters["seed"].default.default
DEMO_BRIDGE_URL = "http://127.0.0.1:8000"


def readme_webhook_snippet() -> str:
    """The python program of the README's "To send a webhook by hand" block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("To send a webhook by hand")
    block = re.search(r"<<'PY'\n(.*?)\nPY\n", text[start:], re.S)
    assert block is not None, "the README's webhook example has no `python - <<'PY' ... PY` program"
    return block.group(1)


def snippet_constants(snippet: str) -> tuple[str, dict]:
    """(webhook secret, the body's JSON object) as the README's program writes them."""
    tree = ast.parse(snippet)
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = node.value
    secret = ast.literal_eval(values["secret"])
    dumps = values["body"].func.value  # json.dumps({...}).encode()
    return secret, ast.literal_eval(dumps.args[0])


@pytest.fixture(scope="module")
def ps_url() -> Iterator[str]:
    with run_ps(SandboxConfig.simple(PS_KEY, seed=DEMO_SEED)) as url:
        yield url


@pytest.fixture(scope="module")
def ax_url() -> Iterator[str]:
    items, customers, open_orders = seeded_sizes(DEMO_SEED)
    with run_ax(AxSandboxConfig(seed=DEMO_SEED, items=items, customers=customers, open_orders=open_orders)) as url:
        yield url


def test_the_readme_secret_is_the_demo_secret_and_the_customer_is_seeded() -> None:
    secret, body = snippet_constants(readme_webhook_snippet())
    # the demo's default webhook secret is set in the demo command itself
    assert f'SecretStr("{secret}")' in inspect.getsource(cli_serve.demo)
    assert body["type"] == "customer.updated"
    assert DEMO_BRIDGE_URL + "/webhooks/prestashop" in readme_webhook_snippet()


async def test_the_readme_webhook_is_accepted_and_its_flow_completes(
    ps_url: str, ax_url: str, tmp_path: Path
) -> None:
    snippet = readme_webhook_snippet()
    secret, body = snippet_constants(snippet)
    key = str(body["data"]["id"])
    # the customer exists in the demo's shop, with the date_upd the README sends
    async with Client(ClientConfig(base_url=ps_url, api_key=PS_KEY)) as shop:
        customer = await shop.get("customers", int(key))
    assert customer["date_upd"] == body["data"]["date_upd"]

    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "prestashop-key").write_text(PS_KEY)
    settings = Settings.model_validate({"data_dir": str(tmp_path)})
    settings.server.webhook_secrets = [SecretStr(secret)]
    await asyncio.to_thread(configure_demo, settings, ps_port=urlsplit(ps_url).port,
                            ax_port=urlsplit(ax_url).port, items=2)
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'journal.db'}", grace_s=0.0))
    registry = FlowRegistry()
    register_yaml_flows(registry, settings, store)
    nudged: list[tuple[str, str]] = []
    app = build_app(store, webhook_secrets=[secret], admin_token="readme-test-admin-token",
                    nudge=lambda e, k, c: nudged.append((e, k)))
    try:
        with serve_in_thread(app, name="bridge") as bridge_url:
            program = snippet.replace(DEMO_BRIDGE_URL, bridge_url)
            runs = [
                await asyncio.to_thread(subprocess.run, [sys.executable, "-"], input=program, text=True,
                                        capture_output=True, cwd=ROOT, timeout=60)
                for _ in range(2)
            ]
        for run in runs:
            assert run.returncode == 0, run.stderr
        first, again = (run.stdout.split(" ", 1) for run in runs)
        # as the README says: 202 with the message id, then 200 for the same webhook again
        assert first[0] == "202" and again[0] == "200", (runs[0].stdout, runs[1].stdout)
        message_id = ast.literal_eval(first[1].strip())["message_id"]
        assert ast.literal_eval(again[1].strip()) == {"message_id": message_id, "duplicate": True}
        assert nudged == [("customer", key)]

        worker = EntityWorker("customer", store, registry, RetryPolicy(0.01, 0.02, 2, random.Random(1)),
                              lease_s=60, unhandled="dead")
        await worker.nudge(key)
        message = store.sync.get(message_id)
        timeline = store.sync.timeline(message_id)
        assert message is not None and message.status == "done", json.dumps(timeline, default=str)
        assert message.flow == "customer_sync"
        assert await store.get_xref("customer", ps_id=key) is not None  # the AX customer is linked
    finally:
        store.close()
