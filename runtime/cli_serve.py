"""``presta-ax serve``, ``demo`` and ``demo-order``: the commands that run the bridge and the demo.

Registered on the main app by :func:`register` (see :mod:`runtime.cli`).

Start-up contract of ``serve`` and ``demo``: the ports they will listen on are checked before
anything starts (a taken port is refused in one line naming what holds it, exit code 1); a local
Ray is always a new instance (``ray.init("local")``), started quietly (see
:func:`_quiet_local_ray_auth`); each start-up step shows as it runs; a second bridge on the same
journal is refused (:mod:`runtime.dispatch_lease`).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from runtime import __version__
from runtime.cli_common import ConfigOpt, console, err
from runtime.cli_common import load as _settings
from runtime.local_ray import use_loopback

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
    address = address or settings.ray_address
    if not address:
        # on a cluster the HTTP port is the cluster's, not this machine's
        _refuse_taken_ports([(settings.server.host, settings.server.port, "the bridge's HTTP port",
                              "stop it, or choose another port with --port or PRESTA_AX_PORT.")])
    _serve(settings, address, num_cpus)


def demo(
    config: Path | None = ConfigOpt,
    seed: int = typer.Option(50, help="Products in the PrestaShop sandbox (and items in AX)"),
    port: int | None = typer.Option(None, "--port", "-p", help="The bridge's HTTP port (default 8000 or PRESTA_AX_PORT)"),
    shop_port: int | None = typer.Option(None, "--shop-port", help="The PrestaShop sandbox's port (default 8081)"),
    ax_port: int | None = typer.Option(None, "--ax-port", help="The AX sandbox's port (default 8082)"),
    traffic: bool = typer.Option(True, "--traffic/--no-traffic",
                                 help="Make demo traffic: shop orders, customer edits on both sides, AX stock "
                                      "and price changes."),
    rate: float = typer.Option(1.0, "--rate", min=0.1, max=5.0, help="Traffic events per second (at most 5)."),
    summary_every: float = typer.Option(5.0, "--summary-every", min=0.0,
                                        help="Seconds between summary lines (0: no summary)."),
) -> None:
    """Run both sandboxes and the bridge together (the sandbox shop's webhooks go to the bridge),
    with demo traffic and a summary line every few seconds (README: what the line means).

    Every start is a fresh demo: shop, AX and the demo's own journal start anew together."""
    from pydantic import SecretStr

    from runtime.demo import DEMO_AX_PORT, DEMO_PS_PORT, configure_demo, start_sandboxes, stop_children

    settings = _settings(config)
    _quiet_local_ray_auth(settings.ray_address)  # before the demo's set-up can import Ray
    if settings.store.url:
        err.print("[red]The demo runs on a fresh journal of its own and never on yours: unset store.url "
                  "(or PRESTA_AX_STORE_URL) to run the demo, or use `presta-ax serve` with your store.[/red]")
        raise typer.Exit(2)
    if port is not None:
        settings.server.port = port
    shop_port, ax_port = shop_port or DEMO_PS_PORT, ax_port or DEMO_AX_PORT
    wanted = [("127.0.0.1", shop_port, "the demo's PrestaShop sandbox", _DEMO_ADVICE + " Or use --shop-port."),
              ("127.0.0.1", ax_port, "the demo's AX sandbox", _DEMO_ADVICE + " Or use --ax-port.")]
    if not settings.ray_address:
        wanted.insert(0, (settings.server.host, settings.server.port, "the bridge's HTTP port",
                          "is another `presta-ax demo` or `serve` running? Stop it first, or choose "
                          "another port with --port or PRESTA_AX_PORT."))
    _refuse_taken_ports(wanted)
    _fresh_demo_journal(settings)
    if not settings.server.webhook_secrets:
        settings.server.webhook_secrets = [SecretStr("whsec_ZGVtby1zZWNyZXQtZGVtby1zZWNyZXQ=")]
    children, info = start_sandboxes(Path(settings.data_dir), settings.server.port,
                                     settings.server.webhook_secrets[0].get_secret_value(), seed=seed,
                                     ps_port=shop_port, ax_port=ax_port)
    try:
        for k, v in info.items():
            console.print(f"  {k:<20} {v}")
        linked = False
        try:
            # the declarative flows run against the two sandboxes (systems + adapted flows)
            for line in configure_demo(settings, shop_port, ax_port, items=len(_DEMO_ITEMS)):
                console.print(f"  {line}")
            linked = True
        except Exception as exc:  # noqa: BLE001 - the bridge still runs; the flows need the systems
            err.print(f"[yellow]The demo could not link the sandboxes ({type(exc).__name__}: {exc}); "
                      "orders will not reach AX.[/yellow]")
        _serve(settings, settings.ray_address, None, stop_timeout_s=_DEMO_STOP_S,
               on_ready=lambda running: _start_demo_traffic(settings, ax_port, traffic and linked, rate,
                                                            summary_every))
    finally:
        stop_children(children)


#: the AX items the demo shop sells (``configure_demo`` links them): the traffic orders the
#: first three and changes the prices of the others
_DEMO_ITEMS = [f"A{n:04d}" for n in range(1, 6)]
#: how long the demo waits for the dispatcher to stop on Ctrl-C: the whole demo stops within 10 s
_DEMO_STOP_S = 4.0


def _start_demo_traffic(settings: Any, ax_port: int, traffic: bool, rate: float, every_s: float) -> Any:
    """Start the traffic generator (when ``traffic``) and the summary line; returns their stop."""
    from rich.markup import escape

    from runtime.demo_traffic import DemoTraffic, TrafficGenerator
    from runtime.store import Store

    generator = None
    if traffic:
        accounts_store = Store(settings.store_url())

        def accounts() -> list[tuple[str, str]]:
            return [(x["ps_id"], x["ax_id"]) for x in accounts_store.list_xrefs("customer", limit=200)]
        # prices change on items the orders do not buy (runtime.demo_traffic: a paid order must pay
        # the shop's own cart total)
        generator = TrafficGenerator(settings.systems.prestashop, settings.systems.ax, f"http://127.0.0.1:{ax_port}",
                                     _DEMO_ITEMS[:3], _DEMO_ITEMS[3:], accounts=accounts, rate_per_s=rate)
        console.print(f"  Demo traffic: about {rate:g} event(s) a second (orders, customer edits on both sides, "
                      "AX stock and prices); --no-traffic turns it off.")
    if every_s > 0:
        console.print(f"  A summary line every {every_s:g} s (the README's demo section says what each figure counts).")
    running = DemoTraffic(settings.store_url(), lambda line: console.print(escape(line)), generator=generator,
                          every_s=every_s).start()

    def stop() -> None:
        running.stop(timeout_s=2.0)
        if generator is not None:
            accounts_store.close()
    return stop


_DEMO_ADVICE = "is another `presta-ax demo` running? Stop it first."


def _refuse_taken_ports(wanted: list[tuple[str, int, str, str]]) -> None:
    """Exit with code 1 and one line per port already in use (see :mod:`runtime.ports`)."""
    from rich.markup import escape

    from runtime.ports import port_problems

    problems = port_problems(wanted)
    for line in problems:
        err.print(f"[red]{escape(line)}[/red]")
    if problems:
        raise typer.Exit(1)


def _fresh_demo_journal(settings: Any) -> None:
    """Point ``settings`` at the demo's own store and wipe it (see :mod:`runtime.demo`), unless a
    live demo bridge still holds it (then exit 1: a running demo's journal is never wiped; the
    lease of one that was killed is wiped with the rest)."""
    from runtime.demo import demo_store_url, fresh_demo_store
    from runtime.dispatch_lease import DISPATCHER_LEASE, is_live
    from runtime.store import Store

    data_dir = Path(settings.data_dir)
    url = demo_store_url(data_dir)
    if (data_dir / "demo" / "journal.db").exists():
        store = Store(url)
        try:
            lease = store.get_lease(DISPATCHER_LEASE)
        finally:
            store.close()
        if lease is not None and is_live(lease):
            err.print(f"[red]A demo bridge still runs on this data folder ({lease.info}): stop it first.[/red]")
            raise typer.Exit(1)
    settings.store.url = fresh_demo_store(data_dir)
    console.print("[bold]Fresh demo:[/bold] shop, AX and journal start anew together (the sandboxes from their "
                  f"seed, an empty journal in {data_dir / 'demo'}); nothing from an earlier demo run is kept, "
                  "and your own journal is not touched.")


def demo_order(
    config: Path | None = ConfigOpt,
    item: str = typer.Option("A0001", help="AX item the shop product stands for (A0001..A0005 in the demo)"),
    quantity: int = typer.Option(2, min=1, help="How many of the item to order."),
    email: str | None = typer.Option(None, help="Buyer e-mail (default: a new one each time)"),
) -> None:
    """Place a paid order in the demo's sandbox shop, as a shopper would; `make demo` must be running."""
    import asyncio
    import secrets as _secrets

    import httpx

    from connectors.errors import TransientError
    from connectors.prestashop import Client, ClientConfig
    from runtime.cli_common import state
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
    except (TransientError, httpx.HTTPError):
        # the connector wraps network failures in TransientError; a raw httpx error is kept for
        # safety. Anything else (a refused key, a bad item) goes to the CLI's one-line handler.
        if state.debug:
            raise
        err.print("[red]The demo shop does not answer on 127.0.0.1:8081: is `make demo` running?[/red]")
        raise typer.Exit(1) from None
    console.print(f"[green]✓[/green] shop order {order['id']} ({order['reference']}) placed; the shop sends "
                  "order.created to the bridge.")
    console.print("  Watch it: presta-ax messages list --entity order   (then: presta-ax messages show <id>)")


def _fast_mode_for_local_ray(address: str | None) -> Any:
    """Serve's fast mode for a Ray this process starts (see :mod:`runtime.fast_mode`): set its
    environment before Ray starts, or print the one line saying why not. A cluster (``address``)
    runs in the mode its nodes were started with (cluster.yaml sets it); returns None then."""
    if address:
        return None
    from rich.markup import escape

    from runtime.fast_mode import apply_ingress_env, choose_ingress

    mode = choose_ingress()
    if mode.note:
        err.print(f"[yellow]{escape(mode.note)}[/yellow]", soft_wrap=True)  # one line, however narrow the terminal
    apply_ingress_env(mode)
    return mode


def _print_cluster_mode() -> None:
    """The ingress line for a cluster: its mode is the one its nodes were started with."""
    from runtime.fast_mode import cluster_is_fast

    fast = cluster_is_fast()
    if fast:
        console.print("  ingress    HAProxy (Serve's fast mode, set on the cluster's nodes)")
    elif fast is False:
        err.print("[yellow]The cluster runs Serve in its default mode, with about 1/14 of the fast mode's throughput: start every node "
                  "with RAY_SERVE_ENABLE_HA_PROXY=1 RAY_SERVE_THROUGHPUT_OPTIMIZED=1 (cluster.yaml does; "
                  "docs/performance.md).[/yellow]", soft_wrap=True)


def _quiet_local_ray_auth(address: str | None) -> None:
    """Ray 2.60 turns token authentication on for a new local instance and logs a warning about
    it. Asking for token mode explicitly gives the same protection without the warning. Ray reads
    the mode once, when it is imported, so this runs before anything imports Ray; a mode the user
    set, and any cluster (``address``), are left alone."""
    if address or "RAY_AUTH_MODE" in os.environ or "ray._raylet" in sys.modules:
        return
    os.environ["RAY_AUTH_MODE"] = "token"


class _Steps:
    """Start-up progress: a spinner on the step that runs, a ✓ line with its time when it ends."""

    def __init__(self, status: Any) -> None:
        self.status = status
        self.current: str | None = None
        self.started = 0.0

    def __call__(self, step: str) -> None:
        self.done()
        self.current, self.started = step, time.monotonic()
        self.status.update(f"{step} …")

    def done(self) -> None:
        if self.current is not None:
            console.print(f"  [green]✓[/green] {self.current} ({time.monotonic() - self.started:.1f} s)")
            self.current = None


def _serve(settings: Any, address: str | None, num_cpus: int | None, *, stop_timeout_s: float = 30.0,
           on_ready: Callable[[Any], Callable[[], None]] | None = None) -> None:
    """Start the bridge and block until Ctrl-C (SIGTERM, SIGHUP). ``on_ready(running)`` runs once
    the bridge listens and returns what to call first when stopping (the demo's traffic);
    ``stop_timeout_s`` bounds the wait for the dispatcher before Ray is shut down."""
    _quiet_local_ray_auth(address)
    if not address:
        use_loopback()  # a one-machine Ray listens on loopback only (runtime/local_ray.py)
    ingress = _fast_mode_for_local_ray(address)
    import ray

    from runtime.dispatch_lease import BridgeConflict, refuse_if_held
    from runtime.server import start_bridge, stop_bridge, stop_dispatcher
    from runtime.store import Store

    try:  # a second bridge on this journal is refused before Ray starts (start_bridge decides)
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        store = Store(settings.store_url())
        try:
            refuse_if_held(store)
        finally:
            store.close()
    except BridgeConflict as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    except Exception as exc:  # noqa: BLE001 - one readable line; the URL may hold a password
        err.print(f"[red]The store at {settings.store_url().split('@')[-1]} cannot be opened "
                  f"({type(exc).__name__}): check store.url and that the database runs.[/red]")
        raise typer.Exit(1) from None

    # Ray and Serve write their logs to files (in Ray's session folder); keep the console readable
    for name in ("ray", "ray.serve"):
        logging.getLogger(name).setLevel(logging.WARNING)
    init_kw: dict[str, Any] = {"namespace": settings.namespace, "log_to_driver": False, "include_dashboard": False,
                               "logging_level": logging.WARNING}
    with console.status("Starting …") as status:
        steps = _Steps(status)
        steps(f"Connecting to Ray at {address}" if address else
              f"Starting Ray locally ({num_cpus or os.cpu_count()} CPUs)")
        try:
            if address:
                ray.init(address=address, **init_kw)
            else:
                # "local": always a new instance, never a `ray start` cluster found on this machine
                ray.init("local", num_cpus=num_cpus, **init_kw)
        except Exception as exc:  # noqa: BLE001 - one readable line
            err.print(f"[red]Ray did not start: {type(exc).__name__}: {exc}[/red]")
            raise typer.Exit(1) from None
        if address:  # settings that only work on one host stop the bridge here (runtime/cluster_checks.py)
            from rich.markup import escape

            from connectors.errors import ConfigError
            from runtime.cluster_checks import check_cluster
            try:
                check_cluster(settings)
            except ConfigError as exc:
                err.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
                ray.shutdown()
                raise typer.Exit(2) from None
        try:
            running = start_bridge(settings, progress=steps)
        except BridgeConflict as exc:
            err.print(f"[red]{exc}[/red]")
            ray.shutdown()
            raise typer.Exit(1) from None
        except Exception as exc:  # noqa: BLE001 - one readable line, details in Ray's log files
            err.print(f"[red]The bridge could not start: {exc}[/red]")
            ray.shutdown()
            raise typer.Exit(1) from None
        steps.done()
    console.print(f"[green]Presta-AX Bridge {__version__} listening on {running.url}[/green]")
    console.print(f"  webhooks   POST {running.url}/webhooks/prestashop")
    console.print(f"  admin API  {running.url}/api/v1   (OpenAPI: {running.url}/api/v1/openapi.json)")
    from runtime.app.console import console_dist
    console.print(f"  console    {running.url}/console/   (log in with the admin token)" if (console_dist() / "index.html").is_file()
                  else "  console    not built: install Node >= 20 and npm, then run `make console`")
    console.print(f"  store      {settings.store_url().split('@')[-1]}")
    if ingress is not None:
        console.print(f"  ingress    {ingress.describe()}")
    else:
        _print_cluster_mode()
    if running.token_created:
        console.print(f"  admin token (shown once, kept in {Path(settings.data_dir) / 'admin-token'}): "
                      f"{running.token}")
    if not settings.server.webhook_secrets:
        console.print("[yellow]  no webhook secret configured: set PRESTA_AX_WEBHOOK_SECRETS to accept webhooks[/yellow]")
    stop = threading.Event()
    stop_extra = None
    if on_ready is not None:
        try:
            stop_extra = on_ready(running)
        except Exception as exc:  # noqa: BLE001 - the bridge runs on without the extra
            err.print(f"[yellow]{type(exc).__name__} while starting beside the bridge: {exc}[/yellow]")
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if hasattr(signal, "SIGHUP"):  # a closed terminal stops the bridge as cleanly as Ctrl-C
        signal.signal(signal.SIGHUP, lambda *_: stop.set())
    watch = None
    if address:  # a node that joins later gets the start-up checks too (runtime/cluster_checks.py)
        from rich.markup import escape

        from runtime.cluster_checks import JoinWatch
        watch = JoinWatch(settings)
    try:
        while not stop.wait(1.0):
            if watch is not None and (problem := watch.poll()) is not None:  # the bridge runs on
                err.print(f"[red]A Ray node joined where not every setting works: {escape(str(problem))}[/red]",
                          soft_wrap=True)
    except KeyboardInterrupt:
        pass
    console.print("Stopping …")
    if stop_extra is not None:
        stop_extra()
    # never hang on a cluster (or a local Ray hit by the same Ctrl-C) going away
    stopper = threading.Thread(target=stop_bridge if address else stop_dispatcher, args=(running,), daemon=True)
    stopper.start()
    stopper.join(timeout=stop_timeout_s)
    # a local Ray instance takes Serve and the detached actors down with it; the journal keeps the work
    ray.shutdown()
    console.print("Stopped; every acknowledged message is in the journal.")
