"""Helpers of the browser tests: the shop client on a thread of its own, waiting for an order's
messages to finish, logging in, moving between screens, and an axe-core accessibility audit."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from connectors.prestashop import Client, ClientConfig
from tests.contract.runtime_operations.support import PS_KEY, place_order
from tests.e2e.exactly_once_support import order_messages
from tests.e2e.support import TOKEN, wait_until

__all__ = ["finished", "login", "nav", "order", "run", "serious_a11y_violations"]


def run(coro: Any) -> Any:
    """Run a coroutine to its end on a thread of its own: Playwright's sync API keeps an event
    loop set on the test's thread, where asyncio.run refuses to start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def order(ps_url: str, email: str, reference: str = "A0001", quantity: int = 1) -> dict[str, Any]:
    """Place an order in the shop sandbox (a new customer "Bea Buyer" with ``email``)."""
    async def go() -> dict[str, Any]:
        async with Client(ClientConfig(base_url=ps_url, api_key=PS_KEY)) as shop:
            return await place_order(shop, email, quantity=quantity, reference=reference)
    return run(go())  # type: ignore[no-any-return]


def finished(store: Any, key: str) -> None:
    """Wait until every message of order ``key`` is done or dead."""
    async def done() -> bool:
        msgs = order_messages(store, key)
        return bool(msgs) and all(m.status in ("done", "dead") for m in msgs)
    run(wait_until(done, timeout_s=120))  # a ceiling, not a timing: CI machines are shared


def nav(page: Page, screen: str) -> None:
    page.get_by_role("navigation", name="Screens").get_by_role("link", name=screen, exact=True).click()


def login(page: Page, url: str, token: str = TOKEN) -> None:
    page.goto(f"{url}/console/")
    page.get_by_label("Admin token").fill(token)
    page.get_by_role("button", name="Log in").click()


AXE = Path(__file__).resolve().parents[2] / "console" / "node_modules" / "axe-core" / "axe.min.js"


def serious_a11y_violations(page: Page) -> list[str]:
    """The serious and critical violations axe-core (npm ``axe-core``, a devDependency of the
    console) finds on the page as it is now, one line each (rule, impact, the first elements).

    axe is evaluated through the browser's debugging protocol, which the console's CSP (scripts
    from its own origin only) does not apply to, so the page under test is the page users get."""
    assert AXE.is_file(), "axe-core is not installed: run `make console` (npm ci installs the console's devDependencies)"
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate("""async () => {
        const r = await window.axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
    }""")
    return list(found)
