"""``presta-ax serve``, ``demo`` and ``demo-order``: the commands that run the bridge and the demo.

Registered on the main app by :func:`register` (see :mod:`runtime.cli`).
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

import typer

from runtime import __version__
from runtime.cli_common import ConfigOpt, console, err
from runtime.cli_common import load as _settings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``demo`` and ``demo-order`` to ``app``."""
    app.command()(serve)
    app.command()(demo)
    app.command("demo-order")(demo_order)


def serve(
    config: Path | None = ConfigOpt,
    port: int | None = typer.Option(None, "--port", "-p", help="HTTP port (default 8000 or PRESTA_AX_PORT)"),
    host: str | None = typer.Option(None, "--host", help="Bind address (default 127.0.0.1)"),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address; default: start Ray locally"),
    num_cpus: int | None = typer.Option(None, "--num-cpus", help="CPUs for a local Ray (default: all)"),
) -> None:
    """Start the bridge on Ray (locally or on a cluster) and block until Ctrl-C."""
    settings = _settings(config)
    if port is not None:
        settings.server.port = port
    if host is not None:
        settings.server.host = host
    _serve(settings, address or settings.ray_address, num_cpus)


def demo(
    config: Path | None = ConfigOpt,
    seed: int = typer.Option(50, help="Products in the PrestaShop sandbox (and items in AX)"),
) -> None:
    """Run both sandboxes and the bridge together (the sandbox shop's webhooks go to the bridge)."""
    from pydantic import SecretStr

    from runtime.demo import configure_demo, start_sandboxes, stop_children

    settings = _settings(config)
    if not settings.server.webhook_secrets:
        settings.server.webhook_secrets = [SecretStr("whsec_ZGVtby1zZWNyZXQtZGVtby1zZWNyZXQ=")]
    children, info = start_sandboxes(Path(settings.data_dir), settings.server.port,
                                     settings.server.webhook_secrets[0].get_secret_value(), seed=seed)
    try:
        for k, v in info.items():
            console.print(f"  {k:<20} {v}")
        try:
            # the declarative flows run against the two sandboxes (systems + adapted flows)
            for line in configure_demo(settings):
                console.print(f"  {line}")
        except Exception as exc:  # noqa: BLE001 - the bridge still runs; the flows need the systems
            err.print(f"[yellow]The demo could not link the sandboxes ({type(exc).__name__}: {exc}); "
                      "orders will not reach AX.[/yellow]")
        _serve(settings, settings.ray_address, None)
    finally:
        stop_children(children)


def demo_order(
    config: Path | None = ConfigOpt,
    item: str = typer.Option("A0001", help="AX item the shop product stands for (A0001..A0005 in the demo)"),
    quantity: int = typer.Option(2, min=1),
    email: str | None = typer.Option(None, help="Buyer e-mail (default: a new one each time)"),
) -> None:
    """Place a paid order in the demo's sandbox shop, as a shopper would; `make demo` must be running."""
    import asyncio
    import secrets as _secrets

    import httpx

    from connectors.prestashop import Client, ClientConfig
    from runtime.demo import place_sample_order

    settings = _settings(config)
    key_file = Path(settings.data_dir) / "demo" / "prestashop-key"
    if not key_file.exists():
        err.print("[red]No demo shop found: start `make demo` (or `presta-ax demo`) first.[/red]")
        raise typer.Exit(2)
    cfg = ClientConfig(base_url="http://127.0.0.1:8081", api_key=key_file.read_text().strip())

    async def place() -> dict[str, Any]:
        async with Client(cfg) as shop:
            return await place_sample_order(shop, email or f"buyer.{_secrets.token_hex(4)}@example.com",
                                            quantity, item)

    try:
        order = asyncio.run(place())
    except httpx.HTTPError:
        err.print("[red]The demo shop does not answer on 127.0.0.1:8081: is `make demo` running?[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]✓[/green] shop order {order['id']} ({order['reference']}) placed; the shop sends "
                  "order.created to the bridge.")
    console.print("  Watch it: presta-ax messages list --entity order   (then: presta-ax messages show <id>)")


def _serve(settings: Any, address: str | None, num_cpus: int | None) -> None:
    import ray

    from runtime.server import start_bridge, stop_bridge

    # Ray and Serve write their logs to files (in Ray's session folder); keep the console readable
    for name in ("ray", "ray.serve"):
        logging.getLogger(name).setLevel(logging.WARNING)
    console.print(f"Starting Ray {'at ' + address if address else 'locally'} …")
    init_kw: dict[str, Any] = {"namespace": settings.namespace, "log_to_driver": False, "include_dashboard": False,
                               "logging_level": logging.WARNING}
    if address:
        ray.init(address=address, **init_kw)
    else:
        ray.init(num_cpus=num_cpus, **init_kw)
    try:
        running = start_bridge(settings)
    except Exception as exc:  # noqa: BLE001 - one readable line, details in Ray's log files
        err.print(f"[red]The bridge could not start: {exc}[/red]")
        ray.shutdown()
        raise typer.Exit(1) from None
    console.print(f"[green]Presta-AX Bridge {__version__} listening on {running.url}[/green]")
    console.print(f"  webhooks   POST {running.url}/webhooks/prestashop")
    console.print(f"  admin API  {running.url}/api/v1   (OpenAPI: {running.url}/api/v1/openapi.json)")
    console.print(f"  store      {settings.store_url().split('@')[-1]}")
    if running.token_created:
        console.print(f"  admin token (shown once, kept in {Path(settings.data_dir) / 'admin-token'}): "
                      f"{running.token}")
    if not settings.server.webhook_secrets:
        console.print("[yellow]  no webhook secret configured: set PRESTA_AX_WEBHOOK_SECRETS to accept webhooks[/yellow]")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    console.print("Stopping …")
    if address:
        # on a cluster, remove what this command deployed, but never hang on a cluster going away
        stopper = threading.Thread(target=stop_bridge, args=(running,), daemon=True)
        stopper.start()
        stopper.join(timeout=30)
    # a local Ray instance takes Serve and the detached actors down with it; the journal keeps the work
    ray.shutdown()
    console.print("Stopped; every acknowledged message is in the journal.")
