"""Configuration: one ``integration.yaml`` as typed models, plus environment overrides.

Contract:

* :func:`load_settings` returns a valid :class:`Settings` or raises :class:`ConfigError` listing
  **every** problem at once, each as ``<path>: <what is wrong>[ — did you mean '<x>'?]``.
* With no file at all the server runs on embedded defaults (local Ray, SQLite in ``./data``).
* ``${NAME}`` (or ``${NAME:-default}``) in any string is replaced by the environment variable;
  a missing variable without default is a problem reported with its path.
* Environment variables override the file: ``PRESTA_AX_WEBHOOK_SECRETS`` (comma-separated),
  ``PRESTA_AX_ADMIN_TOKEN``, ``PRESTA_AX_DATA_DIR``, ``PRESTA_AX_STORE_URL``, ``PRESTA_AX_PORT``,
  and the standard ``OTEL_*`` variables for tracing.
* Secret fields are :class:`pydantic.SecretStr`: they print as ``'**********'`` in every repr,
  log and error; read them with ``.get_secret_value()`` only where they are used.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from connectors.dynamics_ax.config import AxConfig
from connectors.errors import ConfigError
from connectors.prestashop.config import ClientConfig

__all__ = ["Settings", "load_settings", "lint_config", "ENTITIES"]

#: the entity types the bridge knows; one entity actor each
ENTITIES = ("order", "customer", "product", "stock", "price", "shipment", "invoice")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Systems(_Model):
    """The two systems, configured with their connectors' own models (one schema, one truth)."""

    prestashop: ClientConfig | None = None
    ax: AxConfig | None = None


class StoreSettings(_Model):
    url: str | None = Field(None, description="sqlite:///path or postgresql://...; default: SQLite in data_dir")

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^(sqlite:///|postgres(ql)?://)", v):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return v


class ServerSettings(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    admin_token: SecretStr | None = None
    webhook_secrets: list[SecretStr] = Field(default_factory=list)
    #: URL tokens accepted on /webhooks/ps_webhooks (the unsigned ps_webhooks module format)
    ps_webhooks_tokens: list[SecretStr] = Field(default_factory=list)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    signature_tolerance_s: int = Field(300, ge=1)
    #: a request body must arrive within this many seconds (a slow sender is cut off with 408)
    body_timeout_s: float = Field(10.0, gt=0)
    #: failed admin logins (wrong token) one client address may make per window before 429s
    auth_max_failures: int = Field(10, ge=1)
    auth_failure_window_s: float = Field(60.0, gt=0)
    #: origins the admin API answers cross-origin requests from (CORS); none by default
    cors_origins: list[str] = Field(default_factory=list)
    access_log: bool = False
    replica_cpus: float = Field(0.25, gt=0)
    #: nudge the entity actor right after ingest; off leaves scheduling to the dispatcher alone
    #: (an ingest-only node, or the ingest benchmark)
    nudge: bool = True


class TracingSettings(_Model):
    exporter: Literal["none", "otlp_http", "otlp_grpc", "console", "jsonl"] = "none"
    #: OTLP endpoint URL, or the file path for the "jsonl" exporter
    endpoint: str | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    service_name: str = "presta-ax-bridge"
    sampling_ratio: float = Field(1.0, ge=0.0, le=1.0)
    #: Jaeger's base URL (UI and query API, e.g. http://127.0.0.1:16686): links and `presta-ax trace`
    ui_url: str | None = None


class RetrySettings(_Model):
    base_s: float = Field(1.0, gt=0)
    cap_s: float = Field(300.0, gt=0)
    max_attempts: int = Field(8, ge=1)


class Limits(_Model):
    lease_s: float = Field(60.0, gt=0, description="how long a claimed message may stay 'processing'")
    #: at most 5 s: the dispatcher renews its lease on its ticks (runtime/dispatch_lease.py)
    dispatch_interval_s: float = Field(1.0, gt=0, le=5.0)
    dispatch_batch: int = Field(500, ge=1)
    #: records one entity actor works on at once; more wait (unclaimed, in the journal) for a slot.
    #: Unbounded, a burst of orders all ran at once and each crawled: the HTTP clients' pools
    #: slow down sharply with hundreds of waiters (benchmarks/order_latency.py)
    entity_concurrency: int = Field(16, ge=1, le=10_000)
    #: the longest any poll trigger waits (a trigger's own ``every:`` if shorter), and the interval
    #: of a trigger without ``every:``; not set: each trigger polls at its ``every:`` (30 s without)
    poll_interval_s: float | None = Field(None, gt=0)
    #: a message whose event no flow handles: "skip" finishes it (noted in its timeline), "dead"
    #: sends it to the dead-letter queue (strict: every event must have a flow)
    unhandled_events: Literal["skip", "dead"] = "skip"
    retry: RetrySettings = Field(default_factory=RetrySettings)


class BreakerOverride(_Model):
    """Per-target changes to the ``breakers`` defaults (unset fields keep the default)."""

    failure_threshold: int | None = Field(None, ge=1)
    cooldown_s: float | None = Field(None, gt=0)
    probe_timeout_s: float | None = Field(None, gt=0)


class BreakerSettings(_Model):
    """Circuit breakers per target system (runtime/breaker.py, docs/reliability.md)."""

    enabled: bool = True
    #: counted failures in a row (network, timeout, HTTP 429/5xx) that open a target's breaker
    failure_threshold: int = Field(5, ge=1, le=1000)
    #: how long calls to an open target stop before one probe call checks it
    cooldown_s: float = Field(30.0, gt=0, le=3600)
    #: a probe that has not reported after this long is handed to another caller
    probe_timeout_s: float = Field(60.0, gt=0)
    #: how old a process's cached view of a breaker may get before it is refreshed (background)
    state_ttl_s: float = Field(0.5, gt=0, le=60)
    #: waiting messages are due at the next probe time plus a random delay of up to this
    spread_s: float = Field(5.0, ge=0, le=600)
    systems: dict[Literal["prestashop", "ax"], BreakerOverride] = Field(default_factory=dict)


class Alerting(_Model):
    webhook_url: str | None = None
    min_severity: Literal["info", "warning", "error"] = "error"


class PlacementSettings(_Model):
    """Where the bridge's Ray work runs on a cluster (docs/cluster.md). Each value names a custom
    Ray resource that some nodes offer (``ray start --resources '{"presta_ax_worker": 1000}'``);
    the Serve ingress replicas, the entity actors (and the dispatcher) and the bulk tasks each
    ask for one unit of theirs. Not set: anywhere Ray likes (one machine, or no preference)."""

    ingress_resource: str | None = None
    actor_resource: str | None = None
    bulk_resource: str | None = None


class Settings(_Model):
    """The whole ``integration.yaml``."""

    data_dir: Path = Path("data")
    ray_address: str | None = None
    namespace: str = "presta-ax"
    systems: Systems = Field(default_factory=Systems)
    store: StoreSettings = Field(default_factory=StoreSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    limits: Limits = Field(default_factory=Limits)
    flows: list[str] = Field(default_factory=list, description="Python flow modules with register(registry)")
    flow_dirs: list[Path] = Field(default_factory=list,
                                  description="folders of YAML flows; they win over the shipped default flows")
    alerting: Alerting = Field(default_factory=Alerting)
    breakers: BreakerSettings = Field(default_factory=BreakerSettings)
    placement: PlacementSettings = Field(default_factory=PlacementSettings)

    def store_url(self) -> str:
        """The effective store URL: the configured one, or SQLite in the data folder."""
        return self.store.url or f"sqlite:///{(self.data_dir / 'journal.db').as_posix()}"

    def public_dict(self) -> dict[str, Any]:
        """A JSON-safe view with every secret masked (for the console and ``lint``)."""
        return self.model_dump(mode="json")


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


Loc = tuple[str | int, ...]


def _interpolate(node: Any, path: Loc, env: dict[str, str], problems: list[tuple[Loc, str]]) -> Any:
    if isinstance(node, dict):
        return {k: _interpolate(v, (*path, str(k)), env, problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, (*path, i), env, problems) for i, v in enumerate(node)]
    if isinstance(node, str):
        def repl(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            problems.append((path, f"environment variable '{name}' is not set"))
            return ""
        return _ENV_REF.sub(repl, node)
    return node


def _set_path(d: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        nxt = d.get(p)
        if not isinstance(nxt, dict):
            nxt = d[p] = {}
        d = nxt
    d[parts[-1]] = value


def _env_overrides(raw: dict[str, Any], env: dict[str, str]) -> None:
    if env.get("PRESTA_AX_WEBHOOK_SECRETS"):
        _set_path(raw, "server.webhook_secrets",
                  [s.strip() for s in env["PRESTA_AX_WEBHOOK_SECRETS"].split(",") if s.strip()])
    simple = {
        "PRESTA_AX_ADMIN_TOKEN": "server.admin_token",
        "PRESTA_AX_DATA_DIR": "data_dir",
        "PRESTA_AX_STORE_URL": "store.url",
        "PRESTA_AX_PORT": "server.port",
        "PRESTA_AX_HOST": "server.host",
        "RAY_ADDRESS": "ray_address",
        "OTEL_SERVICE_NAME": "tracing.service_name",
        "PRESTA_AX_TRACING_UI_URL": "tracing.ui_url",
    }
    for var, dotted in simple.items():
        if env.get(var):
            _set_path(raw, dotted, env[var])
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint:
        _set_path(raw, "tracing.endpoint", endpoint)
        proto = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
        tracing = raw.get("tracing") or {}
        if tracing.get("exporter", "none") == "none":
            _set_path(raw, "tracing.exporter", "otlp_grpc" if proto == "grpc" else "otlp_http")
    exporter = env.get("OTEL_TRACES_EXPORTER")
    if exporter in ("none", "console"):
        _set_path(raw, "tracing.exporter", exporter)
    elif exporter == "otlp":
        proto = env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        _set_path(raw, "tracing.exporter", "otlp_grpc" if proto == "grpc" else "otlp_http")
    ratio = env.get("OTEL_TRACES_SAMPLER_ARG")
    if ratio:
        _set_path(raw, "tracing.sampling_ratio", ratio)


def _model_fields_at(loc: tuple[Any, ...]) -> list[str]:
    """Names of the fields allowed at the model reached by ``loc`` (for did-you-mean)."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            return []
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        candidates = [ann, *getattr(ann, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return list(getattr(model, "model_fields", {}).keys()) if model else []


def _describe(err: dict[str, Any]) -> tuple[Loc, str]:
    """(location, message) of one pydantic error; the message never echoes the value."""
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        known = _model_fields_at(loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        tail = f" — did you mean '{hint[0]}'?" if hint else (f" (known: {', '.join(known)})" if known else "")
        return loc, f"unknown field{tail}"
    msg = err["msg"]
    # never echo the offending value: it may be a secret
    return loc, msg[0].lower() + msg[1:] if msg else "invalid value"


class _UnusableFile(ConfigError):
    """A configuration file that cannot be read or parsed at all; ``line`` says where."""

    def __init__(self, path: Path, line: int, problem: str, message: str) -> None:
        super().__init__(message, [f"{path}:{line}: {problem}"])
        self.line = line
        self.problem = problem


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _UnusableFile(path, 1, "file not found", f"Configuration file {path} does not exist.") from None
    except OSError as exc:
        raise _UnusableFile(path, 1, f"cannot be read ({exc.strerror})",
                            f"Configuration file {path} cannot be read ({exc.strerror}).") from None
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        where = f"line {line}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise _UnusableFile(path, line, f"YAML syntax error: {problem} ({where})",
                            f"{path} is not valid YAML ({where}: {problem}).") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _UnusableFile(path, 1, "the top level is not a mapping", f"{path} must hold a mapping at the top level.")
    return data


def _validate(raw: dict[str, Any], env: dict[str, str]) -> tuple[Settings | None, list[tuple[Loc, str]]]:
    """Interpolate, override and validate: the settings (None if invalid) and every problem.

    A variable that is not set is reported once, at its path: the empty value put in its place
    would otherwise be reported a second time by the field's own validation."""
    problems: list[tuple[Loc, str]] = []
    raw = _interpolate(raw, (), env, problems)
    _env_overrides(raw, env)
    unset = {loc for loc, _ in problems}
    try:
        return Settings.model_validate(raw), problems
    except PydanticValidationError as exc:
        for e in exc.errors():
            loc, message = _describe(e)  # type: ignore[arg-type]
            if not any(loc[:len(u)] == u for u in unset):
                problems.append((loc, message))
        return None, problems


def _format_loc(loc: Loc) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")


def load_settings(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read, interpolate, override and validate the configuration; see the module docstring."""
    env = dict(os.environ if env is None else env)
    if path is None and env.get("PRESTA_AX_CONFIG"):
        path = env["PRESTA_AX_CONFIG"]
    raw: dict[str, Any] = _read_yaml(Path(path)) if path else {}
    settings, found = _validate(raw, env)
    if found:
        problems = [f"{_format_loc(loc)}: {message}" for loc, message in found]
        where = str(path) if path else "configuration"
        raise ConfigError(f"{where} has {len(problems)} problem(s):\n  " + "\n  ".join(problems), problems)
    assert settings is not None
    return settings


def lint_config(path: str | os.PathLike[str], env: dict[str, str] | None = None) -> list[Any]:
    """Every problem of a configuration file, as :class:`pipelines.lint.Problem` (file, line,
    path, message), sorted by line; empty when the file is valid. Never raises for a bad file."""
    from pipelines.lint import Problem
    from pipelines.yamlio import LineIndex, load_yaml_text

    env = dict(os.environ if env is None else env)
    file = Path(path)
    name = str(path)
    try:
        raw = _read_yaml(file)
    except _UnusableFile as exc:
        return [Problem(name, exc.line, "", exc.problem)]
    try:
        _, lines = load_yaml_text(file.read_text(encoding="utf-8"), name)
    except ConfigError:  # the safe loader read it; keep going without positions
        lines = LineIndex()
    _, found = _validate(raw, env)
    return sorted(Problem(name, lines.line_of(loc), _format_loc(loc), message) for loc, message in found)
