"""The sandbox CLI: the --auth choice (providers, where the password comes from) and --seed N sizes."""

from __future__ import annotations

import pytest
import typer

from connectors.dynamics_ax.sandbox.cli import _accounts

pytestmark = pytest.mark.unit


def test_ntlm_takes_the_password_from_the_environment_only(monkeypatch):
    monkeypatch.setenv("AX_SANDBOX_PASSWORD", "s3cret!")
    monkeypatch.delenv("AX_SANDBOX_USER", raising=False)
    assert _accounts("ntlm", "CONTOSO\\svc") == ("CONTOSO\\svc", None, ("CONTOSO\\svc", "s3cret!"))
    assert _accounts("basic", "svc") == ("svc", ("svc", "s3cret!"), None)
    assert _accounts("none", "svc") == (None, None, None)


def test_auto_is_basic_when_both_variables_are_set(monkeypatch):
    monkeypatch.setenv("AX_SANDBOX_USER", "svc")
    monkeypatch.setenv("AX_SANDBOX_PASSWORD", "pw")
    assert _accounts("auto", "") == ("svc", ("svc", "pw"), None)
    monkeypatch.delenv("AX_SANDBOX_PASSWORD")
    assert _accounts("auto", "") == (None, None, None)


def test_missing_password_or_unknown_mode_is_refused(monkeypatch):
    monkeypatch.delenv("AX_SANDBOX_PASSWORD", raising=False)
    with pytest.raises(typer.BadParameter, match="AX_SANDBOX_PASSWORD"):
        _accounts("ntlm", "CONTOSO\\svc")
    with pytest.raises(typer.BadParameter, match="must be"):
        _accounts("kerberos", "svc")


def test_seed_n_gives_n_items_and_proportional_customers_and_orders():
    from connectors.dynamics_ax.sandbox.cli import seeded_sizes

    assert seeded_sizes(50) == (50, 25, 10)
    assert seeded_sizes(20) == (20, 10, 4)
    assert seeded_sizes(3) == (3, 2, 1)
    assert seeded_sizes(50, items=5, customers=0, open_orders=0) == (5, 0, 0)
