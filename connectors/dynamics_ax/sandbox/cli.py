"""CLI entry points of the AX sandbox (registered by the runtime as ``presta-ax sandbox ax``).

``command`` serves the sandbox until interrupted; ``step_command`` advances the fulfilment
simulation of a running sandbox through its ``/_sandbox/fulfilment/step`` endpoint.
Both are plain typer-annotated functions so the runtime can register them with
``app.command("ax")(command)`` and ``app.command("ax-step")(step_command)``.
"""

from __future__ import annotations

import json
import os

import httpx
import typer

from .config import FaultSettings, SandboxConfig
from .server import serve

__all__ = ["command", "seeded_sizes", "step_command"]


def command(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8082, help="TCP port (IIS site port)."),
    aif_port: str = typer.Option("WebShop", help="Integration port name: the NAME in .../MicrosoftDynamicsAXAif60/NAME/."),
    company: str = typer.Option("DAT", help="Default company (used when the CallContext names none)."),
    extra_companies: str = typer.Option("", help="Further companies with their own data set, comma separated."),
    seed: int = typer.Option(
        20, help="N: a deterministic company with N items (prices, stock in two warehouses), N/2 customers and "
        "a few open orders; also seeds every random choice."),
    items: int = typer.Option(-1, help="Released products (default: N from --seed)."),
    variants: int = typer.Option(0, help="Variants of every tenth seeded item (a product master with K variants)."),
    customers: int = typer.Option(-1, help="Seeded customers (default: N/2, at least 2)."),
    open_orders: int = typer.Option(-1, help="Seeded open sales orders (default: N/5, 1 to 10)."),
    include_exceptions_in_fault: bool = typer.Option(
        False, "--include-exceptions-in-fault", help="Put the AX error text into faults instead of the generic one."),
    workers: int = typer.Option(1, help="IIS worker processes: concurrent calls beyond this queue."),
    max_message_size: int = typer.Option(65536, help="WCF maxReceivedMessageSize in bytes (larger -> HTTP 400)."),
    max_string_content: int = typer.Option(8192, help="WCF readerQuotas maxStringContentLength."),
    fulfilment_interval: float = typer.Option(
        0.0, help="Seconds between automatic pick/pack/invoice stages (0 = only stepwise)."),
    retention_hours: float = typer.Option(48.0, help="Change-tracking retention for getChangedKeys."),
    criteria_mode: str = typer.Option("query", help="'query' (AND across fields) or 'or' (TechNet wording)."),
    duplicate_response: str = typer.Option("fault", help="Answer to a duplicate MessageId: 'fault' or 'cached'."),
    no_validation: bool = typer.Option(False, "--no-validation", help="Turn off 'Validate document XML'."),
    latency_ms: float = typer.Option(0.0, help="Injected latency per SOAP call."),
    deadlock_rate: float = typer.Option(0.0, help="Share of calls failing with an AX deadlock fault."),
    timeout_rate: float = typer.Option(0.0, help="Share of calls failing with an AX timeout fault."),
    error_rate: float = typer.Option(0.0, help="Share of calls answered 503 by IIS."),
    auth: str = typer.Option(
        "auto", help="IIS authentication: 'ntlm' (Windows: Negotiate and NTLM, as AX ports run), 'basic', 'none', "
        "or 'auto' (basic when AX_SANDBOX_USER and AX_SANDBOX_PASSWORD are set). The password comes from "
        "AX_SANDBOX_PASSWORD only, never from the command line."),
    user: str = typer.Option("", help="Account for --auth ntlm/basic, e.g. CONTOSO\\svc-bridge "
                             "(default: AX_SANDBOX_USER)."),
) -> None:
    """Serve an emulated Dynamics AX 2012 AIF HTTP port (blocking)."""
    if criteria_mode not in ("query", "or"):
        raise typer.BadParameter("--criteria-mode must be 'query' or 'or'.")
    if duplicate_response not in ("fault", "cached"):
        raise typer.BadParameter("--duplicate-response must be 'fault' or 'cached'.")
    account, basic, windows = _accounts(auth, user)
    items, customers, open_orders = seeded_sizes(seed, items, customers, open_orders)
    config = SandboxConfig(
        host=host, port=port, aif_port=aif_port, company=company, extra_companies=tuple(c.strip() for c in extra_companies.split(",") if c.strip()), seed=seed,
        items=items, variants=variants, customers=customers, open_orders=open_orders,
        include_exceptions_in_fault=include_exceptions_in_fault, validate_documents=not no_validation,
        workers=workers, max_message_size=max_message_size, max_string_content=max_string_content, fulfilment_interval=fulfilment_interval,
        change_retention_seconds=retention_hours * 3600, criteria_mode=criteria_mode,
        duplicate_response=duplicate_response, basic_auth=basic, windows_auth=windows,
        faults=FaultSettings(latency_ms=latency_ms, deadlock_rate=deadlock_rate, timeout_rate=timeout_rate,
                             error_rate=error_rate),
    )
    login = f", {'Windows' if windows else 'Basic'} authentication as {account}" if account else ""
    typer.echo(f"AX sandbox: http://{host}:{port}{config.service_path} (WSDL: ?wsdl, company {config.company}{login})")
    serve(config)


def seeded_sizes(seed: int, items: int = -1, customers: int = -1, open_orders: int = -1) -> tuple[int, int, int]:
    """(items, customers, open orders) for ``--seed N``; a non-negative explicit value wins."""
    n = max(seed, 0)
    return (items if items >= 0 else n, customers if customers >= 0 else max(2, n // 2),
            open_orders if open_orders >= 0 else max(1, min(n // 5, 10)))


def _accounts(auth: str, user: str) -> tuple[str | None, tuple[str, str] | None, tuple[str, str] | None]:
    """(user shown, basic account, windows account) for the --auth choice; raises BadParameter."""
    mode = auth.lower()
    if mode not in ("auto", "none", "basic", "ntlm"):
        raise typer.BadParameter("--auth must be 'ntlm', 'basic', 'none' or 'auto'.")
    name = user or os.environ.get("AX_SANDBOX_USER") or ""
    password = os.environ.get("AX_SANDBOX_PASSWORD") or ""
    if mode == "auto":
        mode = "basic" if name and password else "none"
    if mode == "none":
        return None, None, None
    if not name or not password:
        raise typer.BadParameter(f"--auth {mode} needs --user (or AX_SANDBOX_USER) and AX_SANDBOX_PASSWORD.")
    return (name, (name, password), None) if mode == "basic" else (name, None, (name, password))


def step_command(
    url: str = typer.Option("http://127.0.0.1:8082", help="Base URL of a running AX sandbox."),
    company: str = typer.Option("", help="Only this company (default: all)."),
    sales_id: str = typer.Option("", help="Only this sales order."),
) -> None:
    """Advance open sales orders one fulfilment stage (pick -> pack -> invoice)."""
    body = {k: v for k, v in (("company", company), ("sales_id", sales_id)) if v}
    try:
        response = httpx.post(url.rstrip("/") + "/_sandbox/fulfilment/step", json=body, timeout=30)
    except httpx.HTTPError as exc:
        typer.echo(f"Could not reach the AX sandbox at {url}: {exc}.", err=True)
        raise typer.Exit(1) from exc
    if response.status_code != 200:
        typer.echo(f"The AX sandbox refused the step: {response.text}", err=True)
        raise typer.Exit(1)
    typer.echo(json.dumps(response.json(), indent=2))
