"""``presta-ax prestashop ...``: talk to a shop's webservice from the command line.

A Typer sub-application the runtime's CLI mounts (``app.add_typer(prestashop_app,
name="prestashop")``). Commands print JSON (one record per line for lists and polls) so their
output can be piped. The key is read from ``$PRESTASHOP_API_KEY`` or ``--key-file`` (a file
readable by its owner only): never from a command-line argument, which other users of the
machine could see in the process list.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from pydantic import SecretStr

from connectors.errors import BridgeError

from .client import Client
from .config import ClientConfig
from .poller import FileCursorStore, Poller

__all__ = ["prestashop_app"]

prestashop_app = typer.Typer(help="Talk to a PrestaShop webservice (ping, read, poll for changes).",
                             no_args_is_help=True)

_encoder = msgspec.json.Encoder()
T = TypeVar("T")

UrlOpt = Annotated[str, typer.Option("--url", envvar="PRESTASHOP_URL", help="Shop URL (https://shop.example)")]
KeyFileOpt = Annotated[Path | None, typer.Option("--key-file", help="File holding the 32-character key")]
ShopOpt = Annotated[int | None, typer.Option("--shop-id", help="Multistore shop id")]
QueryKeyOpt = Annotated[bool, typer.Option("--key-in-query", help="Send the key as ?ws_key= (hosts that strip Authorization)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Ask the shop for JSON instead of XML")]
ResourceArg = Annotated[str, typer.Argument(help="Webservice resource, e.g. customers, orders, products")]


def _read_key(key_file: Path | None) -> str:
    if key_file is not None:
        mode = key_file.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise typer.BadParameter(f"{key_file} is readable by other users; chmod 600 it.", param_hint="--key-file")
        return key_file.read_text(encoding="utf-8").strip()
    key = os.environ.get("PRESTASHOP_API_KEY", "").strip()
    if not key:
        raise typer.BadParameter("Set PRESTASHOP_API_KEY or pass --key-file.", param_hint="--key-file")
    return key


def _config(url: str, key_file: Path | None, shop_id: int | None, key_in_query: bool, json_out: bool) -> ClientConfig:
    try:
        return ClientConfig(base_url=url, api_key=SecretStr(_read_key(key_file)), id_shop=shop_id, key_in_query=key_in_query,
                            output_format="JSON" if json_out else "XML")
    except ValueError as exc:  # pydantic's ValidationError; input values are hidden
        raise typer.BadParameter(str(exc)) from None


def _run(config: ClientConfig, work: Callable[[Client], Awaitable[T]]) -> T:
    async def main() -> T:
        async with Client(config) as client:
            return await work(client)

    try:
        return asyncio.run(main())
    except BridgeError as exc:
        typer.echo(f"{type(exc).__name__}: {exc.message}", err=True)
        raise typer.Exit(code=2 if exc.disposition == "stop" else 1) from None


def _print(record: Any) -> None:
    sys.stdout.write(_encoder.encode(record).decode() + "\n")


@prestashop_app.command()
def ping(url: UrlOpt, key_file: KeyFileOpt = None, shop_id: ShopOpt = None, key_in_query: QueryKeyOpt = False) -> None:
    """Check the URL and key: prints the webservice version."""
    version = _run(_config(url, key_file, shop_id, key_in_query, False), lambda c: c.ping())
    typer.echo(f"PrestaShop webservice {version or '(version not reported)'} at {url}: key accepted.")


@prestashop_app.command()
def get(
    resource: ResourceArg, record_id: Annotated[int, typer.Argument(help="The record's id")], url: UrlOpt,
    key_file: KeyFileOpt = None, shop_id: ShopOpt = None, key_in_query: QueryKeyOpt = False, json_out: JsonOpt = False,
) -> None:
    """Print one record as JSON."""
    _print(_run(_config(url, key_file, shop_id, key_in_query, json_out), lambda c: c.get(resource, record_id)))


@prestashop_app.command("list")
def list_records(
    resource: ResourceArg,
    url: UrlOpt,
    key_file: KeyFileOpt = None,
    shop_id: ShopOpt = None,
    key_in_query: QueryKeyOpt = False,
    json_out: JsonOpt = False,
    display: Annotated[str, typer.Option(help="full, or a field list such as [id,email]")] = "full",
    filters: Annotated[list[str] | None, typer.Option("--filter", help="field=value in PrestaShop syntax, e.g. id=[1|2]")] = None,
    sort: Annotated[str | None, typer.Option(help="e.g. [date_upd_DESC,id_DESC]")] = None,
    limit: Annotated[int | None, typer.Option(help="at most this many records (all pages otherwise)")] = None,
) -> None:
    """Print matching records, one JSON object per line (pages through everything by default)."""
    parsed: dict[str, str] = {}
    for item in filters or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"'{item}' is not field=value.", param_hint="--filter")
        parsed[name] = value
    config = _config(url, key_file, shop_id, key_in_query, json_out)

    async def work(client: Client) -> None:
        count = 0
        async for record in client.iter_all(resource, display=display, filters=parsed, sort=sort):
            _print(record)
            count += 1
            if limit is not None and count >= limit:
                return

    _run(config, work)


@prestashop_app.command()
def poll(
    resource: ResourceArg,
    url: UrlOpt,
    state_file: Annotated[Path, typer.Option(help="JSON file keeping {cursor, seen_ids} between runs")],
    key_file: KeyFileOpt = None,
    shop_id: ShopOpt = None,
    key_in_query: QueryKeyOpt = False,
    since: Annotated[str, typer.Option(help="start cursor when the state file is new")] = "1970-01-01 00:00:00",
) -> None:
    """One poll pass: print records changed since the saved cursor and save the new cursor."""
    config = _config(url, key_file, shop_id, key_in_query, False)

    async def work(client: Client) -> None:
        poller = Poller(client, resource, FileCursorStore(state_file), since=since)
        async for change in poller.changes():
            _print({"resource": change.resource, "id": change.id, "date_upd": change.date_upd,
                    "record": change.record})

    _run(config, work)
