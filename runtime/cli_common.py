"""What every ``presta-ax`` command module shares: the consoles, common options, settings loading."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from connectors.errors import ConfigError

__all__ = ["ConfigOpt", "TokenOpt", "UrlOpt", "console", "err", "load", "when"]

console = Console()
err = Console(stderr=True)

ConfigOpt = typer.Option(None, "--config", "-c", envvar="PRESTA_AX_CONFIG", help="integration.yaml (optional)")
UrlOpt = typer.Option(None, "--url", envvar="PRESTA_AX_URL", help="Bridge URL (default: from config)")
TokenOpt = typer.Option(None, "--token", envvar="PRESTA_AX_ADMIN_TOKEN", help="Admin token")


def load(config: Path | None) -> Any:
    from runtime.config import load_settings

    try:
        return load_settings(config)
    except ConfigError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None


def when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"

