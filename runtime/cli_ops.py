"""Operator commands: ``status``, ``messages list|show``, ``dlq list|replay|discard``, ``conflicts list``.

They talk to a running server's admin API; the token comes from ``--token``,
``PRESTA_AX_ADMIN_TOKEN``, the config, or ``<data_dir>/admin-token``. Registered on the main app
by :func:`register` (see :mod:`runtime.cli`).

Exit codes: 0 done; 1 the server refused or is unreachable, or a given message id does not exist;
2 bad usage (no ids, no token).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from runtime.cli_common import ConfigOpt, TokenOpt, UrlOpt, console, err
from runtime.cli_common import load as _settings
from runtime.cli_common import when as _when
from runtime.messages import STATUSES

__all__ = ["register"]

messages_app = typer.Typer(help="Inspect messages in the journal.", no_args_is_help=True)
dlq_app = typer.Typer(help="The dead-letter queue: list, replay, discard.", no_args_is_help=True)

_STATUS_HELP = f"Only messages in this status: {', '.join(STATUSES)}."
EntityOpt = typer.Option(None, "--entity", help="Only messages of this entity (order, customer, product, ...).")
AllOpt = typer.Option(False, "--all", help="Every message in the dead-letter queue (instead of ids).")


conflicts_app = typer.Typer(help="The conflict log: field values that lost when a record changed on both sides.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``status``, ``messages``, ``dlq`` and ``conflicts`` to ``app``."""
    app.command()(status)
    app.add_typer(messages_app, name="messages")
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(conflicts_app, name="conflicts")


@conflicts_app.command("list")
def conflicts_list(entity: str | None = EntityOpt,
                   key: str | None = typer.Option(None, "--key", help="Only this record (its key on the side written)."),
                   limit: int = typer.Option(50, "--limit", min=1, max=1000, help="At most this many (1-1000)."),
                   unmasked: bool = typer.Option(False, "--unmasked", help="Show personal values (masked by default)."),
                   as_json: bool = typer.Option(False, "--json", help="Print the conflicts as JSON."),
                   config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Conflicts, newest first: the field, both values and versions, who won and by which rule."""
    params: dict[str, Any] = {"limit": limit, "unmasked": "true" if unmasked else "false"}
    params.update({k: v for k, v in {"entity": entity, "key": key}.items() if v})
    items = _Api(config, url, token)("GET", "/api/v1/conflicts", params=params)["items"]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    for c in items:
        console.print(f"[bold]{escape(c['entity'])} {escape(c['key'])}[/bold]  {escape(c['field'])}  "
                      f"winner={c['winner']}  {_when(c['at'])}  flow={escape(c.get('flow') or '-')}")
        console.print(f"  shop: {escape(json.dumps(c.get('ps_value')))} (version {escape(str(c.get('ps_version') or '-'))})"
                      f"   AX: {escape(json.dumps(c.get('ax_value')))} (version {escape(str(c.get('ax_version') or '-'))})")
        console.print(f"  rule: {escape(c['rule'])}")
    console.print(f"{len(items)} conflict(s).")


class _Api:
    """A client of the admin API that turns every failure into one line and an exit code."""

    def __init__(self, config: Path | None, url: str | None, token: str | None) -> None:
        import httpx

        settings = _settings(config)
        host = settings.server.host if settings.server.host not in ("0.0.0.0", "::") else "127.0.0.1"
        self.base = (url or f"http://{host}:{settings.server.port}").rstrip("/")
        if token is None:
            if settings.server.admin_token is not None:
                token = settings.server.admin_token.get_secret_value()
            else:
                path = Path(settings.data_dir) / "admin-token"
                token = path.read_text().strip() if path.exists() else None
        if not token:
            err.print("[red]No admin token: pass --token or set PRESTA_AX_ADMIN_TOKEN.[/red]")
            raise typer.Exit(2)
        self.client = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=15)

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            r = self.client.request(method, path, **kw)
        except httpx.HTTPError:
            err.print(f"[red]Cannot reach the bridge at {escape(self.base)}: is `presta-ax serve` running?[/red]")
            raise typer.Exit(1) from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            err.print(f"[red]{r.status_code}: {escape(str(detail))}[/red]")
            raise typer.Exit(1)
        return r.json()


def status(config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Message counts by status, per entity."""
    health = _Api(config, url, token)("GET", "/api/v1/health")
    table = Table("entity", *STATUSES, title=f"Presta-AX Bridge {health['version']}")
    for entity, counts in sorted(health["counts"].items()):
        table.add_row(entity, *(str(counts.get(s, 0)) for s in STATUSES))
    console.print(table)


def _message_table(items: list[dict[str, Any]], title: str, width: int) -> Table:
    """Messages as a borderless table that fits the console: the id is never cut or folded (it is
    what the other commands take), the record is ``entity key``, a long cell folds rather than
    being cut; attempts and receive time are shown where they fit (100 columns or more)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, title_justify="left")
    table.add_column("id", no_wrap=True, min_width=26)
    wide = width >= 100
    for name in ("record", "event", "status", "flow", *(("tries", "received") if wide else ())):
        table.add_column(name, overflow="fold")
    for m in items:
        row = [m["id"], f"{m['entity']} {m['key']}", m["event"], m["status"], m.get("flow") or "-"]
        if wide:
            row += [m["attempts"], _when(m["received_at"])]
        table.add_row(*(escape(str(c)) for c in row))
    return table


@messages_app.command("list")
def messages_list(
    status_: str | None = typer.Option(None, "--status", help=_STATUS_HELP),
    entity: str | None = EntityOpt,
    key: str | None = typer.Option(None, "--key", help="Only messages of this record (its key in the source system)."),
    trace_id: str | None = typer.Option(None, "--trace-id", help="Only messages of this W3C trace id (32 hex)."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="At most this many messages (1-1000)."),
    as_json: bool = typer.Option(False, "--json", help="Print the messages as JSON instead of a table."),
    config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt,
) -> None:
    """List messages, newest first, filtered by status, entity, key or trace id."""
    if status_ is not None and status_ not in STATUSES:
        err.print(f"[red]Unknown status {escape(status_)!r}: use one of {', '.join(STATUSES)}.[/red]")
        raise typer.Exit(2)
    params = {k: v for k, v in {"status": status_, "entity": entity, "key": key, "trace_id": trace_id,
                                "limit": limit}.items() if v is not None}
    items = _Api(config, url, token)("GET", "/api/v1/messages", params=params)["items"]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
    else:
        console.print(_message_table(items, "Messages", console.width))


def _detail_lines(kind: str, detail: dict[str, Any]) -> list[str]:
    """What an event's detail says, as indented lines: the flow's steps and results, an error."""
    lines: list[str] = []
    if "type" in detail and "message" in detail:  # an error
        where = "".join(f" {k}={detail[k]}" for k in ("system", "code") if detail.get(k) is not None)
        lines.append(f"{detail['type']}{where}: {detail['message']}")
        if detail.get("retry_at"):
            lines.append(f"retry at {_when(detail['retry_at'])}")
        return lines
    for k in ("reason", "message"):
        if detail.get(k):
            lines.append(str(detail[k]))
    if detail.get("status") and kind != "dead":
        lines.append(f"outcome: {detail['status']}" + (f" at step {detail['step']}" if detail.get("step") else ""))
    if detail.get("flow_version"):
        lines.append(f"flow version: {detail['flow_version']}")
    if detail.get("steps"):
        lines.append("steps: " + ", ".join(str(s).replace(":", " ", 1) for s in detail["steps"]))
    for step, result in (detail.get("results") or {}).items():
        if isinstance(result, dict):
            lines.append(f"{step}: " + ", ".join(f"{k}={v}" for k, v in result.items()))
    shown = {"type", "message", "reason", "status", "step", "flow_version", "steps", "results", "retry_at",
             "system", "code", "echo"}
    rest = {k: v for k, v in detail.items() if k not in shown}
    if rest:
        lines.append(", ".join(f"{k}={v}" for k, v in rest.items()))
    return lines


@messages_app.command("show")
def messages_show(message_id: str = typer.Argument(..., help="Message id (from `messages list`)."),
                  as_json: bool = typer.Option(False, "--json", help="Print the message and its timeline as JSON."),
                  config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """One message with its full timeline: each attempt, its flow, steps, results and errors."""
    m = _Api(config, url, token)("GET", f"/api/v1/messages/{message_id}")
    if as_json:
        typer.echo(json.dumps(m, indent=2))
        return
    console.print(f"[bold]{escape(m['id'])}[/bold]  {escape(m['entity'])} {escape(m['key'])}  "
                  f"{escape(m['event'])}  status={m['status']}  attempts={m['attempts']}")
    console.print(f"  flow: {escape(m.get('flow') or '-')}   source: {escape(m.get('source') or '-')}   "
                  f"trace: {m.get('trace_id') or '-'}")
    last_error = None
    for e in m["timeline"]:
        attempt = f"#{e['attempt']}" if e.get("attempt") else ""
        console.print(f"  {_when(e['at'])}  {e['kind']:<18} {attempt}".rstrip())
        detail = e.get("detail") or {}
        if e["kind"] == "dead" and detail.get("reason") == last_error:
            continue  # the failure just above already says why
        last_error = detail.get("message") if "type" in detail else None
        for line in _detail_lines(e["kind"], detail):
            console.print(f"      {escape(line)}")


@dlq_app.command("list")
def dlq_list(entity: str | None = EntityOpt,
             limit: int = typer.Option(100, "--limit", min=1, max=1000, help="At most this many messages (1-1000)."),
             as_json: bool = typer.Option(False, "--json", help="Print the messages as JSON instead of a table."),
             config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Messages in the dead-letter queue, with their whole reasons."""
    params: dict[str, Any] = {"limit": limit}
    if entity:
        params["entity"] = entity
    items = _Api(config, url, token)("GET", "/api/v1/dlq", params=params)["items"]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    # one block per message: the reason is the point of this list, so it gets a line of its own
    # and is never cut (a table column at 80 columns would cut or fold it into a narrow strip)
    for m in items:
        error = m.get("last_error") or {}
        console.print(f"[bold]{escape(m['id'])}[/bold]  {escape(m['entity'])} {escape(m['key'])}  "
                      f"{escape(m['event'])}  flow={escape(m.get('flow') or '-')}  tries={m['attempts']}  "
                      f"{_when(m['received_at'])}")
        console.print(f"  {escape(str(error.get('type') or 'reason'))}: {escape(str(error.get('message') or '-'))}")
    console.print(f"{len(items)} message(s) in the dead-letter queue.")


def _selection(ids: list[str] | None, all_: bool) -> dict[str, Any]:
    if not ids and not all_:
        err.print("[red]Give message ids or --all.[/red]")
        raise typer.Exit(2)
    return {"all": True} if all_ else {"ids": ids}


def _report(done_word: str, r: dict[str, Any], done_key: str) -> None:
    """Print what happened to each id; exit 1 when an id does not exist."""
    console.print(f"{done_word} {len(r[done_key])}")
    statuses = r.get("statuses") or {}
    for mid in r.get("skipped", []):
        console.print(f"  {escape(mid)}: not in the dead-letter queue: status {statuses.get(mid, '?')}")
    for mid in r.get("not_found", []):
        err.print(f"[red]  {escape(mid)}: no message has this id[/red]")
    if r.get("not_found"):
        raise typer.Exit(1)


@dlq_app.command("replay")
def dlq_replay(ids: list[str] = typer.Argument(None, help="Ids of dead (or discarded) messages."),
               all_: bool = AllOpt,
               entity: str | None = typer.Option(None, "--entity", help="With --all: only this entity's messages."),
               config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Replay dead messages (by id, or --all) with the flow version deployed now.

    Exit code 1 when an id does not exist; a message that exists but is not in the dead-letter
    queue is skipped and listed with its status."""
    body = _selection(ids, all_)
    if all_ and entity:
        body["entity"] = entity
    r = _Api(config, url, token)("POST", "/api/v1/dlq/replay", json=body)
    _report("replayed", r, "replayed")


@dlq_app.command("discard")
def dlq_discard(ids: list[str] = typer.Argument(None, help="Ids of dead messages."),
                all_: bool = AllOpt,
                entity: str | None = typer.Option(None, "--entity", help="With --all: only this entity's messages."),
                reason: str | None = typer.Option(None, "--reason", help="Why (kept in each message's timeline)."),
                config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Discard dead messages (kept in the journal as 'discarded'; `dlq replay` still can).

    Exit code 1 when an id does not exist; a message that exists but is not dead is skipped and
    listed with its status."""
    body = _selection(ids, all_)
    if all_ and entity:
        body["entity"] = entity
    if reason:
        body["reason"] = reason
    r = _Api(config, url, token)("POST", "/api/v1/dlq/discard", json=body)
    _report("discarded", r, "discarded")
