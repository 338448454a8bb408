"""Configuration of the emulated shop (what ``presta-ax sandbox prestashop`` takes as options).

:class:`SandboxConfig` is a pydantic model so a bad value fails with a message naming the field.
Secrets (API keys, webhook secret) are ``SecretStr``: they never appear in a repr or a log line.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator

from .faults import Faults

__all__ = ["ApiKey", "SandboxConfig", "ALL_METHODS"]

ALL_METHODS = frozenset({"GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"})


class ApiKey(BaseModel):
    """A webservice key. ``permissions`` None grants every method on every resource; otherwise it
    maps a resource name to the methods granted (``{"customers": ["GET", "HEAD"]}``)."""

    key: SecretStr
    active: bool = True
    description: str = ""
    permissions: dict[str, list[str]] | None = None

    def granted(self, resource: str) -> frozenset[str]:
        if self.permissions is None:
            return ALL_METHODS
        return frozenset(m.upper() for m in self.permissions.get(resource, []))


class SandboxConfig(BaseModel):
    """Everything the sandbox needs; defaults give a small shop with the base data only."""

    model_config = {"extra": "forbid"}

    api_keys: list[ApiKey] = Field(default_factory=list, description="keys the shop accepts")
    seed: int = Field(0, ge=0, description="number of generated products (0: base data only)")
    random_seed: int | None = Field(None, description="seed of generated data; defaults to `seed`")
    shop_name: str = "PrestaShop Sandbox"
    db_path: str | None = Field(None, description="SQLite file to persist the shop; None keeps it in memory")
    webservice_enabled: bool = True
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_format: Literal["standard", "ps_webhooks"] = Field(
        default="standard",
        description="standard: signed {type,timestamp,data}; ps_webhooks: the unsigned "
                    "{action,entity,data} body of the open-source ps_webhooks module",
    )
    webhook_max_attempts: int = Field(8, ge=1)
    webhook_backoff_s: float = Field(0.5, gt=0, description="first retry delay, doubled per attempt")
    webhook_backoff_max_s: float = Field(30.0, gt=0)
    webhook_timeout_s: float = Field(5.0, gt=0)
    webhook_entities: list[str] = Field(
        default_factory=lambda: ["orders", "customers", "addresses", "products", "stock_availables",
                                 "combinations", "order_carriers"],
        description="resources whose changes are sent as webhooks",
    )
    faults: Faults = Field(default_factory=lambda: Faults())

    @field_validator("api_keys")
    @classmethod
    def _unique_keys(cls, keys: list[ApiKey]) -> list[ApiKey]:
        values = [k.key.get_secret_value() for k in keys]
        if len(values) != len(set(values)):
            raise ValueError("api_keys contains the same key twice; each key must be unique")
        return keys

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, url: str | None) -> str | None:
        # Checked here so a typo fails at start, not inside the emitter's background task.
        if url is None:
            return None
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError:
            raise ValueError("webhook_url is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("webhook_url must be an absolute http(s) URL such as http://127.0.0.1:8000/webhooks/prestashop")
        return url

    def key_lookup(self) -> dict[str, ApiKey]:
        return {k.key.get_secret_value(): k for k in self.api_keys}

    @classmethod
    def simple(cls, api_key: str, **kwargs: object) -> SandboxConfig:
        """A config with one key that has every permission (what the CLI builds)."""
        return cls(api_keys=[ApiKey(key=SecretStr(api_key), description="sandbox key")], **kwargs)  # type: ignore[arg-type]
