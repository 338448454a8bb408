"""Configuration: typed, all problems at once with paths and suggestions, env overrides, secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import ConfigError
from runtime.config import lint_config, load_settings

pytestmark = pytest.mark.unit


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "integration.yaml"
    p.write_text(text)
    return p


def test_no_file_means_embedded_defaults() -> None:
    s = load_settings(None, env={})
    assert s.store_url() == "sqlite:///data/journal.db"
    assert s.server.port == 8000 and s.server.max_body_bytes == 1024 * 1024
    assert s.tracing.exporter == "none"


def test_every_problem_is_reported_with_its_path_and_a_suggestion(tmp_path: Path) -> None:
    p = write(tmp_path, """
server:
  prot: 9000
  max_body_bytes: 10
systems:
  prestashop:
    base_url: ftp://shop
    api_key: KEY
tracing:
  sampling_ratio: 2
""")
    problems = lint_config(p, env={})
    text = "\n".join(x.format() for x in problems)
    assert len(problems) == 5, text
    by_path = {x.path: x for x in problems}
    key_problem = by_path["systems.prestashop.api_key"]
    assert "32" in key_problem.message and "KEY" not in key_problem.message  # the secret is never echoed
    assert f"{p}:3: server.prot: unknown field — did you mean 'port'?" in text
    # each problem carries the line of its key in the file
    assert {path: x.line for path, x in by_path.items()} == {
        "server.prot": 3, "server.max_body_bytes": 4, "systems.prestashop.base_url": 7,
        "systems.prestashop.api_key": 8, "tracing.sampling_ratio": 10}
    assert "http" in by_path["systems.prestashop.base_url"].message


def test_env_interpolation_and_missing_variables(tmp_path: Path) -> None:
    p = write(tmp_path, """
systems:
  prestashop:
    base_url: https://shop.example
    api_key: ${PS_KEY}
  ax:
    base_url: http://aos/MicrosoftDynamicsAXAif60
    port_name: WebShop
    company: DAT
    auth:
      mode: ntlm
      password: ${AX_PASSWORD}
      username: ${AX_USER:-svc-bridge}
""")
    s = load_settings(p, env={"PS_KEY": "K" * 32, "AX_PASSWORD": "hunter2"})
    assert s.systems.prestashop.api_key.get_secret_value() == "K" * 32
    assert s.systems.ax.auth.username == "svc-bridge"
    with pytest.raises(ConfigError) as err:
        load_settings(p, env={"PS_KEY": "x"})
    assert "systems.ax.auth.password: environment variable 'AX_PASSWORD' is not set" in err.value.problems


def test_secrets_never_show_in_reprs_dumps_or_errors(tmp_path: Path) -> None:
    p = write(tmp_path, "systems:\n  prestashop:\n    base_url: https://shop\n    api_key: SUPERSECRETKEY0123456789ABCDEFGH\n"
                        "server:\n  admin_token: TOPSECRETTOKEN\n")
    s = load_settings(p, env={"PRESTA_AX_WEBHOOK_SECRETS": "whsec_c2VjcmV0,plainsecret"})
    shown = repr(s) + str(s.public_dict())
    for secret in ("SUPERSECRETKEY0123456789ABCDEFGH", "TOPSECRETTOKEN", "whsec_c2VjcmV0", "plainsecret"):
        assert secret not in shown
    bad = write(tmp_path, "server:\n  admin_token: [TOPSECRETTOKEN]\n")
    with pytest.raises(ConfigError) as err:
        load_settings(bad, env={})
    assert "TOPSECRETTOKEN" not in str(err.value)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    p = write(tmp_path, "server:\n  port: 8000\nstore:\n  url: sqlite:///a.db\n")
    s = load_settings(p, env={"PRESTA_AX_PORT": "9123", "PRESTA_AX_STORE_URL": "postgresql://db/bridge",
                              "PRESTA_AX_DATA_DIR": "/srv/bridge", "PRESTA_AX_ADMIN_TOKEN": "t0k",
                              "PRESTA_AX_WEBHOOK_SECRETS": "a, b",
                              "OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318", "OTEL_SERVICE_NAME": "bridge-1"})
    assert s.server.port == 9123 and s.store_url() == "postgresql://db/bridge"
    assert str(s.data_dir) == "/srv/bridge" and s.server.admin_token.get_secret_value() == "t0k"
    assert [x.get_secret_value() for x in s.server.webhook_secrets] == ["a", "b"]
    assert s.tracing.exporter == "otlp_http" and s.tracing.endpoint == "http://jaeger:4318"
    assert s.tracing.service_name == "bridge-1"


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    p = write(tmp_path, "server:\n  port: [1,\n")
    problems = lint_config(p, env={})
    assert len(problems) == 1 and problems[0].line == 3 and "YAML syntax error" in problems[0].message
    assert "line 3, column 1" in problems[0].message


def test_an_unset_variable_is_reported_once_at_its_line(tmp_path: Path) -> None:
    p = write(tmp_path, "systems:\n  prestashop:\n    base_url: https://shop.example\n    api_key: ${PS_KEY}\n")
    problems = lint_config(p, env={})
    # not a second time as "api_key must be the 32-character key" for the empty value put in its place
    assert [x.format() for x in problems] == [
        f"{p}:4: systems.prestashop.api_key: environment variable 'PS_KEY' is not set"]
    with pytest.raises(ConfigError) as err:
        load_settings(p, env={})
    assert err.value.problems == ["systems.prestashop.api_key: environment variable 'PS_KEY' is not set"]


def test_lint_of_a_missing_or_non_mapping_file_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert [x.format() for x in lint_config(missing, env={})] == [f"{missing}:1: file not found"]
    listed = write(tmp_path, "- a\n- b\n")
    assert [x.format() for x in lint_config(listed, env={})] == [f"{listed}:1: the top level is not a mapping"]


def test_the_dispatch_interval_stays_below_the_dispatcher_lease() -> None:
    # the dispatcher renews its 15 s lease on its ticks: a slower tick would let a second bridge
    # take the journal from a live one
    from pydantic import ValidationError as PydanticError

    from runtime.config import Limits

    assert Limits(dispatch_interval_s=5).dispatch_interval_s == 5
    with pytest.raises(PydanticError, match="dispatch_interval_s"):
        Limits(dispatch_interval_s=6)
