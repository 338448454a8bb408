"""``presta-ax sandbox prestashop``: serve the emulated shop until Ctrl-C.

The lead registers :func:`command` on the ``sandbox`` Typer group, e.g.
``sandbox_app.command("prestashop")(connectors.prestashop.sandbox.cli.command)``.
"""

from __future__ import annotations

import typer
import uvicorn
from pydantic import SecretStr, ValidationError

from .app import create_app
from .config import SandboxConfig
from .faults import Faults

__all__ = ["command"]


def command(
    host: str = typer.Option("127.0.0.1", help="interface to listen on"),
    port: int = typer.Option(8081, help="port to listen on"),
    api_key: str = typer.Option(..., envvar="PRESTA_AX_SANDBOX_PS_KEY",
                                help="32-character webservice key granted every permission"),
    seed: int = typer.Option(0, help="generate a catalog of N products (and N/2 customers, N/5 orders)"),
    db: str | None = typer.Option(None, help="SQLite file that keeps the shop across restarts"),
    shop_name: str = typer.Option("PrestaShop Sandbox", help="shopName of the root listing"),
    latency_ms: float = typer.Option(0.0, help="mean latency added to each API request"),
    latency_jitter_ms: float = typer.Option(0.0, help="spread of the added latency"),
    latency_distribution: str = typer.Option("uniform", help="fixed, uniform, exponential or normal"),
    outage_s: float = typer.Option(0.0, help="answer every API request 503 for this many seconds from start"),
    error_rate: float = typer.Option(0.0, help="fraction of API requests answered 500"),
    php_notice_rate: float = typer.Option(0.0, help="fraction answered 500 from a PHP notice (code 8)"),
    rate_limit_rps: float = typer.Option(0.0, help="answer 429 with Retry-After beyond this rate"),
    max_concurrency: int = typer.Option(0, help="answer 503 beyond this many requests in flight"),
    write_latency_ms: float = typer.Option(0.0, help="latency added to each write (POST/PUT/PATCH/DELETE)"),
    write_latency_per_1000_ms: float = typer.Option(0.0, help="extra write latency per 1,000 products in the catalog"),
    write_max_concurrency: int = typer.Option(0, help="answer 503 beyond this many writes in flight"),
    retry_after_s: int = typer.Option(1, help="Retry-After (seconds) sent with 429 and 503 answers"),
    php_notice_style: str = typer.Option("xml", help="xml (webservice error code 8) or html (raw notice page)"),
    webhook_url: str | None = typer.Option(None, help="where to POST signed webhooks"),
    webhook_secret: str | None = typer.Option(None, envvar="PRESTA_AX_SANDBOX_WEBHOOK_SECRET",
                                              help="Standard Webhooks secret (whsec_... or plain)"),
    webhook_format: str = typer.Option("standard", help="standard (signed) or ps_webhooks (the module's "
                                                        "unsigned {action,entity,data} body)"),
) -> None:
    """Run an emulated PrestaShop 8.2 webservice at http://HOST:PORT/api/ (blocks)."""
    if len(api_key.strip()) != 32:
        raise typer.BadParameter("the webservice key must be exactly 32 characters long", param_hint="--api-key")
    if latency_distribution not in ("fixed", "uniform", "exponential", "normal"):
        raise typer.BadParameter("must be fixed, uniform, exponential or normal", param_hint="--latency-distribution")
    if php_notice_style not in ("xml", "html"):
        raise typer.BadParameter("must be 'xml' or 'html'", param_hint="--php-notice-style")
    if webhook_format not in ("standard", "ps_webhooks"):
        raise typer.BadParameter("must be 'standard' or 'ps_webhooks'", param_hint="--webhook-format")
    if webhook_format == "standard" and bool(webhook_url) != bool(webhook_secret):
        raise typer.BadParameter("--webhook-url and --webhook-secret go together", param_hint="--webhook-url")
    try:
        config = SandboxConfig.simple(
            api_key.strip(), seed=seed, db_path=db, shop_name=shop_name, webhook_url=webhook_url,
            webhook_secret=SecretStr(webhook_secret) if webhook_secret else None,
            webhook_format=webhook_format,  # type: ignore[arg-type]  # checked above
            faults=Faults(latency_ms=latency_ms, latency_jitter_ms=latency_jitter_ms,
                          latency_distribution=latency_distribution,  # type: ignore[arg-type]  # checked above
                          error_rate=error_rate, php_notice_rate=php_notice_rate,
                          php_notice_style=php_notice_style,  # type: ignore[arg-type]  # checked above
                          outage_s=outage_s, rate_limit_rps=rate_limit_rps, retry_after_s=retry_after_s,
                          max_concurrency=max_concurrency, write_latency_ms=write_latency_ms,
                          write_latency_per_1000_ms=write_latency_per_1000_ms,
                          write_max_concurrency=write_max_concurrency),
        )
    except ValidationError as exc:  # a negative rate, a bad URL...: one line per problem, no traceback
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(problems) from None
    typer.echo(f"PrestaShop 8.2 sandbox on http://{host}:{port}/api/ (seed {seed})")
    uvicorn.run(create_app(config), host=host, port=port, access_log=False, log_level="warning")


def main() -> None:  # pragma: no cover - convenience: python -m connectors.prestashop.sandbox.cli
    typer.run(command)


if __name__ == "__main__":  # pragma: no cover
    main()
