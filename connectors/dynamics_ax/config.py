"""Configuration of the AX connector (pydantic: rich messages for a user-facing file).

One config points the connector at either the sandbox or a real AX 2012 IIS port; nothing else
changes between the two. Example (YAML in the bridge's config file)::

    ax:
      base_url: http://ax-iis.example.local/MicrosoftDynamicsAXAif60
      port_name: WebShop
      company: DAT
      language: en-us
      auth: {mode: ntlm, username: CONTOSO\\svc-bridge, password: ${AX_PASSWORD}}
      wsdl: remote            # or "bundled": the WSDL shipped in connectors/dynamics_ax/wsdl/

The password is a ``SecretStr``: it never appears in reprs, logs or error texts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["AuthConfig", "AxConfig", "ServiceNames"]


class AuthConfig(BaseModel):
    """How to authenticate to IIS: ``ntlm``/``negotiate`` (Windows, the AX default), ``basic`` or ``none``.

    ``username`` may be ``DOMAIN\\user`` or ``user@domain``; ``domain`` is an alternative to the prefix.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["ntlm", "negotiate", "basic", "none"] = "ntlm"
    username: str | None = None
    password: SecretStr | None = None
    domain: str | None = None

    @model_validator(mode="after")
    def _needs_credentials(self) -> AuthConfig:
        if self.mode != "none" and (not self.username or self.password is None):
            raise ValueError(f"auth.mode '{self.mode}' needs auth.username and auth.password (or use mode 'none').")
        return self

    @property
    def principal(self) -> str | None:
        """The user name as pyspnego/IIS expect it (``DOMAIN\\user`` when a domain is given)."""
        if not self.username:
            return None
        if self.domain and "\\" not in self.username and "@" not in self.username:
            return f"{self.domain}\\{self.username}"
        return self.username


class ServiceNames(BaseModel):
    """External names of the document services on the port (AX's defaults; an AOS may rename them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sales_order: str = "SalesOrderService"
    customer: str = "CustomerService"
    product: str = "EcoResProductService"
    item: str = "ItemService"
    on_hand: str = "InventoryOnHandService"
    invoice: str = "SalesInvoiceService"
    packing_slip: str = "SalesPackingSlipService"
    cust_trans: str = "CustomerTransactionService"
    #: a custom document service over PriceDiscTable (AX ships none that reads trade agreements)
    price_agreement: str = "PriceDiscTableService"


class AxConfig(BaseModel):
    """Where the AIF HTTP port is, which company to work in, and how to call it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="IIS virtual directory, e.g. http://host/MicrosoftDynamicsAXAif60")
    port_name: str = Field(description="Name of the enhanced inbound HTTP port, e.g. WebShop")
    company: str = Field(max_length=4, description="DataAreaId sent in every CallContext")
    language: str = "en-us"
    logon_as_user: str | None = Field(default=None, description="domain\\user; needs a trusted-intermediary port")
    partition_key: str | None = None
    auth: AuthConfig = AuthConfig(mode="none")
    wsdl: Literal["remote", "bundled"] = "remote"
    services: ServiceNames = ServiceNames()
    timeout_seconds: float = Field(default=60.0, gt=0)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=8, ge=1, description="IIS serialises per worker: more rarely helps")
    page_size: int = Field(default=500, ge=1, le=10_000)
    read_batch_size: int = Field(default=50, ge=1, description="keys per read call (mind the 64 KB limit)")
    verify_tls: bool = True

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(
                "base_url must be an http(s) URL of the IIS AIF directory; NetTcp ports (net.tcp://) are out of reach."
            )
        return v.rstrip("/")

    @field_validator("port_name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        if not v or any(c in v for c in "/?#\\ "):
            raise ValueError("port_name must be the bare inbound port name, e.g. 'WebShop'.")
        return v

    @property
    def endpoint(self) -> str:
        """The SOAP endpoint of the port: ``<base_url>/<port_name>/xppservice.svc``."""
        return f"{self.base_url}/{self.port_name}/xppservice.svc"

    @property
    def wsdl_url(self) -> str:
        return f"{self.endpoint}?wsdl"
