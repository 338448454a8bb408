"""Connection settings of the PrestaShop webservice client.

:class:`ClientConfig` is a pydantic model because users write it (YAML, environment, CLI flags)
and deserve precise validation messages. The webservice key is a :class:`pydantic.SecretStr`:
it never shows in ``repr()``, ``str()``, ``model_dump()`` or an error text.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

__all__ = ["ClientConfig"]


class ClientConfig(BaseModel):
    """How to reach one shop's webservice.

    * ``base_url``: the shop root (``https://shop.example``) or its API root
      (``https://shop.example/api``); both are normalised to end in ``/api/``.
    * ``api_key``: the 32-character webservice key. Sent as the Basic-auth user name with an
      empty password, or as the ``ws_key`` query parameter when ``key_in_query`` is set (for
      FastCGI hosts that strip the ``Authorization`` header).
    * ``id_shop`` / ``id_shop_group``: multistore context added to every request (``"all"`` is
      accepted for ``id_shop``).
    * ``ps_method_override``: send PUT, PATCH and DELETE as POST with ``?ps_method=...`` for hosts
      whose firewall blocks those verbs. PrestaShop reads the body because the real verb is POST.
    * ``prefer_patch``: ``Client.update`` sends one PATCH instead of GET + merged PUT (halves
      the requests; falls back by itself when the key has no PATCH right);
    * ``output_format``: the format asked for reads (writes are always XML, the only format the
      webservice parses).
    * timeouts in seconds; ``max_connections`` bounds the connection pool;
    * ``max_retries``: in-client retries of idempotent requests on transient errors (default 0:
      the bridge's dispatcher retries whole messages; scripts may want a few).
    """

    # hide_input_in_errors: a mistyped key must not be echoed by a validation error.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    base_url: str
    api_key: SecretStr
    key_in_query: bool = False
    id_shop: int | Literal["all"] | None = None
    id_shop_group: int | None = None
    ps_method_override: bool = False
    prefer_patch: bool = False
    output_format: Literal["XML", "JSON"] = "XML"
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    write_timeout: float = Field(default=30.0, gt=0)
    pool_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=20, ge=1)
    page_size: int = Field(default=500, ge=1, le=10_000)
    max_retries: int = Field(default=0, ge=0, le=10)
    retry_backoff_s: float = Field(default=0.5, gt=0)
    retry_backoff_max_s: float = Field(default=30.0, gt=0)
    verify_tls: bool = True
    user_agent: str = "presta-ax-bridge"

    @field_validator("base_url")
    @classmethod
    def _normalise_base_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an absolute http(s) URL such as https://shop.example")
        if parts.username or parts.password:
            # A key in the URL would end up in logs; it belongs in api_key.
            raise ValueError("base_url must not carry credentials; put the key in api_key")
        if parts.query or parts.fragment:
            raise ValueError("base_url must not carry a query string or fragment")
        path = parts.path.rstrip("/")
        if not path.endswith("/api"):
            path = path + "/api"
        return f"{parts.scheme}://{parts.netloc}{path}/"

    @field_validator("api_key")
    @classmethod
    def _check_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value().strip()
        if len(key) != 32:
            # PrestaShop itself answers error 18 for this; failing here saves a round trip and
            # the message deliberately does not echo the key.
            raise ValueError("api_key must be the 32-character PrestaShop webservice key")
        return SecretStr(key)

    def common_params(self) -> dict[str, str]:
        """Query parameters added to every request (multistore context, key in query)."""
        params: dict[str, str] = {}
        if self.id_shop is not None:
            params["id_shop"] = str(self.id_shop)
        if self.id_shop_group is not None:
            params["id_shop_group"] = str(self.id_shop_group)
        if self.key_in_query:
            params["ws_key"] = self.api_key.get_secret_value()
        return params
