"""The sandbox CLI's --auth choice: which IIS providers start, and where the password comes from."""

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
