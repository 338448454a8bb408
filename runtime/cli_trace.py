"""``presta-ax trace ORDER_REF``: where is this order? Its messages, trace ids, Jaeger links and a
text waterfall of each trace.

``ORDER_REF`` may be the shop's order id (digits), the shop's order reference (e.g.
``XKBKNABJK``) or the AX ``SalesId``. It is resolved, in this order: digits -> the shop order id;
the ``order`` cross-reference by AX id (a SalesId); Jaeger's search by the span attribute
``shop.order_reference`` (when ``tracing.ui_url`` is set); the shop's webservice by
``reference`` (when ``systems.prestashop`` is set). The order's messages come from the running
bridge's admin API (``entity=order, key=<shop id>``); their trace ids, and every message of those
traces (the AX fulfilment messages of the order join its trace), are listed.

The waterfall is read from Jaeger (``tracing.ui_url``: the spans, durations, indented by
parent, with the process that ran each one); without Jaeger, or when Jaeger does not have the
trace, from the journal's timelines (received, attempts, failures, outcomes). Exit codes: 0
found; 1 no such order, or the bridge/Jaeger unreachable; 2 bad usage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from runtime.cli_common import ConfigOpt, TokenOpt, UrlOpt, console, err
from runtime.cli_common import load as _settings

__all__ = ["register", "trace"]


def register(app: typer.Typer) -> None:
    """Add ``trace`` to ``app``."""
    app.command()(trace)


def _shop_order_id(settings: Any, reference: str) -> str | None:
    """The shop's order id for ``reference``, asked of the configured shop (None without one)."""
    if settings.systems.prestashop is None:
        return None
    import asyncio

    from connectors.prestashop import Client, F

    async def look() -> str | None:
        async with Client(settings.systems.prestashop) as shop:
            rows = await shop.list("orders", display="[id,reference]", filters={"reference": F.eq(reference)})
            return str(rows[0]["id"]) if rows else None

    try:
        return asyncio.run(look())
    except Exception as exc:  # noqa: BLE001 - one resolver failing leaves the others
        err.print(f"[yellow]The shop could not be asked for reference {escape(reference)}: "
                  f"{escape(type(exc).__name__)}.[/yellow]")
        return None


def _trace_ids(messages: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for m in sorted(messages, key=lambda m: m.get("seq") or 0):
        if m.get("trace_id") and m["trace_id"] not in seen:
            seen.append(m["trace_id"])
    return seen


def trace(order_ref: str = typer.Argument(..., help="Shop order reference or id, or AX SalesId."),
          no_waterfall: bool = typer.Option(False, "--no-waterfall", help="Only the messages and trace ids."),
          as_json: bool = typer.Option(False, "--json", help="Print messages, trace ids and links as JSON."),
          config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Find an order's messages and traces: trace ids, Jaeger links and a text waterfall."""
    from runtime.cli_ops import _Api
    from runtime.trace_view import JaegerQuery, journal_waterfall, spans_of, trace_link, waterfall

    ref = order_ref.strip()
    if not ref or len(ref) > 64 or any(c.isspace() for c in ref):
        err.print("[red]Give one order reference, shop order id or AX SalesId (no spaces, at most 64 characters).[/red]")
        raise typer.Exit(2)
    settings = _settings(config)
    api = _Api(config, url, token)
    ui_url = settings.tracing.ui_url
    jaeger = JaegerQuery(ui_url) if ui_url else None
    service = settings.tracing.service_name
    try:
        shop_id: str | None = ref if ref.isdigit() else None
        if shop_id is None:
            xref = api("GET", "/api/v1/xrefs", params={"entity": "order", "ax_id": ref})["items"]
            shop_id = str(xref[0]["ps_id"]) if xref else None
        if shop_id is None and jaeger is not None:
            try:
                found = jaeger.find(service, {"shop.order_reference": ref})
            except Exception as exc:  # noqa: BLE001 - Jaeger down: the journal still answers
                err.print(f"[yellow]Jaeger at {escape(ui_url or '')} did not answer ({escape(type(exc).__name__)}).[/yellow]")
                found = []
            shop_id = next((str(s.tags["shop.order_id"]) for t in found for s in spans_of(t)
                            if s.tags.get("shop.order_id")), None)
        if shop_id is None:
            shop_id = _shop_order_id(settings, ref)
        # the order's messages, then every message of their traces (the AX fulfilment messages of
        # the order carry its trace): the journal is the authority on which traces are the order's
        messages: dict[str, dict[str, Any]] = {}
        if shop_id is not None:
            for m in api("GET", "/api/v1/messages", params={"entity": "order", "key": shop_id, "limit": 1000})["items"]:
                messages[m["id"]] = m
        trace_ids = _trace_ids(list(messages.values()))
        for tid in trace_ids:
            for m in api("GET", "/api/v1/messages", params={"trace_id": tid, "limit": 1000})["items"]:
                messages.setdefault(m["id"], m)
        if not messages:
            err.print(f"[red]No order found for '{escape(ref)}': no shop order id, AX SalesId or shop reference "
                      "the bridge has seen.[/red]")
            raise typer.Exit(1)
        if as_json:
            typer.echo(json.dumps({"shop_order_id": shop_id, "trace_ids": trace_ids,
                                   "links": [trace_link(ui_url, t) for t in trace_ids] if ui_url else [],
                                   "messages": [{k: m.get(k) for k in ("id", "entity", "key", "event", "status",
                                                                       "flow", "attempts", "trace_id")}
                                                for m in messages.values()]}, indent=2))
            return
        console.print(f"[bold]Order {escape(ref)}[/bold]" + (f" (shop order id {escape(shop_id)})" if shop_id else ""))
        for m in sorted(messages.values(), key=lambda m: m.get("seq") or 0):
            console.print(f"  {m['id']}  {escape(m['entity'])} {escape(m['key'])} {escape(m['event'])}  "
                          f"{m['status']}  attempts {m['attempts']}  trace {m.get('trace_id') or '-'}")
        for tid in trace_ids:
            console.print(f"\n[bold]trace {tid}[/bold]" + (f"  {trace_link(ui_url, tid)}" if ui_url else ""))
            if no_waterfall:
                continue
            doc = None
            if jaeger is not None:
                try:
                    doc = jaeger.trace(tid)
                except Exception as exc:  # noqa: BLE001
                    err.print(f"[yellow]Jaeger did not answer for trace {tid} ({escape(type(exc).__name__)}); "
                              "showing the journal's timeline.[/yellow]")
            if doc is not None:
                lines = waterfall(spans_of(doc))
            else:
                detail = [api("GET", f"/api/v1/messages/{m['id']}") for m in messages.values()
                          if m.get("trace_id") == tid]
                lines = ["(from the journal: no Jaeger configured, or it does not have this trace)",
                         *journal_waterfall(detail)]
            for line in lines:
                console.print(escape(line), highlight=False)
    finally:
        if jaeger is not None:
            jaeger.close()
