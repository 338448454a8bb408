"""The CLI surface: help lists every command; lint reports problems and exits non-zero."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from connectors.errors import AuthError, ConfigError, TransientError, ValidationError
from runtime.cli import app

pytestmark = pytest.mark.unit
runner = CliRunner()


def test_help_lists_every_command() -> None:
    out = runner.invoke(app, ["--help"]).output
    for cmd in ("serve", "demo", "lint", "status", "messages", "dlq", "version", "sandbox", "flow"):
        assert cmd in out
    assert "list" in runner.invoke(app, ["dlq", "--help"]).output


def test_lint_reports_each_problem_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "integration.yaml"
    bad.write_text("server:\n  prot: 1\n  port: 0\n")
    r = runner.invoke(app, ["lint", str(bad)])
    assert r.exit_code == 1
    assert f"{bad}:2: server.prot: unknown field — did you mean 'port'?" in r.output
    assert f"{bad}:3: server.port: input should be greater than or equal to 1" in r.output
    assert r.output.splitlines()[-1] == "1 file(s) linted: 2 error(s), 0 warning(s)."
    good = tmp_path / "ok" / "integration.yaml"
    good.parent.mkdir()
    good.write_text("server:\n  port: 8010\n")
    assert runner.invoke(app, ["lint", str(good)]).exit_code == 0


def test_operator_commands_say_when_the_server_is_down(tmp_path: Path) -> None:
    r = runner.invoke(app, ["status", "--url", "http://127.0.0.1:9", "--token", "t"])
    assert r.exit_code == 1 and "Cannot reach the bridge" in r.output


def test_flow_deploy_records_the_content_version_once(tmp_path: Path) -> None:
    cfg = tmp_path / "integration.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\n")
    first = runner.invoke(app, ["flow", "deploy", "ps_order_to_ax", "--config", str(cfg)])
    assert first.exit_code == 0, first.output
    assert "deployed" in first.output and "already" not in first.output
    again = runner.invoke(app, ["flow", "deploy", "ps_order_to_ax", "--config", str(cfg)])
    assert "already deployed" in again.output
    from runtime.store import Store

    store = Store(f"sqlite:///{tmp_path / 'data' / 'journal.db'}")
    versions = store.flow_versions("ps_order_to_ax")
    store.close()
    assert len(versions) == 1 and versions[0]["version"].startswith("sha256:")
    assert runner.invoke(app, ["flow", "deploy", "ps_order_to_axe", "--config", str(cfg)]).exit_code == 2


def test_flow_deploy_refuses_a_flow_whose_mapping_has_an_error(tmp_path: Path) -> None:
    from pipelines.registry import DEFAULT_FLOWS_DIR

    flows = tmp_path / "flows"
    (flows / "mappings").mkdir(parents=True)
    (flows / "ps_order_to_ax.yaml").write_text((DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml").read_text())
    mapping = (DEFAULT_FLOWS_DIR / "mappings" / "ps_order_to_ax_sales_order.yaml").read_text()
    broken = mapping.replace("PurchOrderFormNum: {from: reference,", "PurchOrderFormNum: {from: referenc,")
    assert broken != mapping
    (flows / "mappings" / "ps_order_to_ax_sales_order.yaml").write_text(broken)
    cfg = tmp_path / "integration.yaml"
    cfg.write_text(f"data_dir: {tmp_path / 'data'}\nflow_dirs: [{flows}]\n")
    r = runner.invoke(app, ["flow", "deploy", "ps_order_to_ax", "--config", str(cfg)])
    assert r.exit_code == 1, r.output
    assert "referenc" in r.output and "Not deployed" in r.output


# -- help -----------------------------------------------------------------------------------------

def _command_paths() -> list[list[str]]:
    """Every command and group of ``presta-ax``, as argument lists."""
    import typer.main

    paths: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:
        paths.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def test_every_command_has_clean_help_and_every_option_says_what_it_does() -> None:
    import re

    import typer.main

    root = typer.main.get_command(app)
    paths = _command_paths()
    assert len(paths) > 25  # the whole tree: groups, their commands, the mounted sub-applications
    type_token = re.compile(r"<[A-Za-z_][A-Za-z_\[\]|, .]*>")  # <str>, <bool>, <list[Path]>, <int range>
    for path in paths:
        r = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
        assert r.exit_code == 0, (path, r.output)
        assert not type_token.search(r.output), (path, type_token.search(r.output).group(0), r.output)
        cmd = root
        for name in path:
            cmd = cmd.commands[name]
        for param in cmd.params:
            assert (param.help or "").strip(), f"presta-ax {' '.join(path)}: {param.name} has no help text"


def test_help_keeps_bracketed_examples_and_lists_the_statuses() -> None:
    out = runner.invoke(app, ["prestashop", "list", "--help"], env={"COLUMNS": "120"}).output
    assert "full, or a field list such as [id,email]" in out
    assert "e.g. [date_upd_DESC,id_DESC]" in out
    assert "--display TEXT" in out and "--json " in out  # a value is named, a flag shows none
    out = runner.invoke(app, ["messages", "list", "--help"], env={"COLUMNS": "200"}).output
    assert "new, processing, retry, done, dead, discarded" in " ".join(out.split())


# -- expected failures: one line, no traceback; --debug shows it -------------------------------------

def _failing_app(exc: BaseException) -> typer.Typer:
    from runtime.cli_common import HelpGroup, state

    demo = typer.Typer(cls=HelpGroup, rich_markup_mode=None)

    @demo.callback()
    def root(debug: bool = typer.Option(False, "--debug", help="traceback")) -> None:
        state.debug = debug

    @demo.command()
    def fail() -> None:
        """Raise the failure under test."""
        raise exc

    return demo


def _connect_error() -> BaseException:
    import httpx

    return httpx.ConnectError("refused", request=httpx.Request("GET", "http://127.0.0.1:9/api/orders?ws_key=SECRET"))


@pytest.mark.parametrize("exc,code,says", [
    (TransientError("Could not complete GET products with the shop: ConnectError (network).", system="prestashop"),
     1, "Could not complete GET products with the shop: ConnectError (network). Check that prestashop is running"),
    (ConfigError("integration.yaml has 1 problem(s):\n  server.port: bad", ["server.port: bad"]), 2,
     "integration.yaml has 1 problem(s): server.port: bad"),
    (AuthError("PrestaShop refused the webservice key (HTTP 401).", system="prestashop"), 1,
     "PrestaShop refused the webservice key (HTTP 401). Check the credentials"),
    (ValidationError("The order has no lines."), 1, "The order has no lines."),
    (FileNotFoundError(2, "No such file or directory", "sample.json"), 2, "File not found: sample.json."),
    (_connect_error(), 1, "The HTTP call to http://127.0.0.1:9/api/orders failed (ConnectError)."),
])
def test_an_expected_failure_is_one_line_and_a_non_zero_exit(capsys, exc: BaseException, code: int, says: str) -> None:
    from runtime.cli_common import run_cli

    with pytest.raises(SystemExit) as exited:
        run_cli(_failing_app(exc), ["fail"])
    out, errout = capsys.readouterr()
    assert exited.value.code == code
    lines = [line for line in errout.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0], errout
    assert "Traceback" not in out + errout and "SECRET" not in out + errout
    with pytest.raises(type(exc)):  # --debug lets the exception (and so its traceback) through
        run_cli(_failing_app(exc), ["--debug", "fail"])


def test_a_bug_is_not_hidden_behind_a_friendly_line() -> None:
    from runtime.cli_common import run_cli

    with pytest.raises(KeyError):
        run_cli(_failing_app(KeyError("bug")), ["fail"])


def test_a_missing_key_file_is_one_line_from_the_real_program(tmp_path: Path, capsys) -> None:
    from runtime.cli import main

    missing = tmp_path / "no-such-key"
    with pytest.raises(SystemExit) as exited:
        main(["prestashop", "ping", "--url", "http://127.0.0.1:9", "--key-file", str(missing)])
    _, errout = capsys.readouterr()
    assert exited.value.code == 2
    assert errout.strip() == f"File not found: {missing}. Check the path."
    with pytest.raises(FileNotFoundError):
        main(["--debug", "prestashop", "ping", "--url", "http://127.0.0.1:9", "--key-file", str(missing)])


def test_demo_order_without_a_running_demo_says_so_in_one_line(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    (tmp_path / "data" / "demo").mkdir(parents=True)
    (tmp_path / "data" / "demo" / "prestashop-key").write_text("SANDBOXKEY0123456789ABCDEFGHIJKL")
    # hold the demo shop's port, bound but not listening: every connection to it is refused, and
    # no other process can start a shop there while the test runs
    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8081))
    except OSError:
        holder.close()
        pytest.skip("port 8081 is in use on this machine (a demo shop may be running)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESTA_AX_")}
    program = [sys.executable, "-c", "from runtime.cli import main; main()"]
    try:
        r = subprocess.run([*program, "demo-order"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60)
        debug = subprocess.run([*program, "--debug", "demo-order"], cwd=tmp_path, env=env, capture_output=True,
                               text=True, timeout=60)
    finally:
        holder.close()
    assert r.returncode == 1
    assert r.stderr.strip() == "The demo shop does not answer on 127.0.0.1:8081: is `make demo` running?"
    assert "Traceback" not in r.stdout + r.stderr
    assert debug.returncode != 0 and "TransientError" in debug.stderr and "Traceback" in debug.stderr


# -- lint -----------------------------------------------------------------------------------------

def _flow_and_mapping_files(folder: Path) -> int:
    return sum(1 for f in folder.rglob("*.yaml")
               if any(line.startswith(("flow:", "mapping:")) for line in f.read_text().splitlines()))


def test_lint_and_flow_lint_print_one_format_and_true_counts(tmp_path: Path) -> None:
    from pipelines.registry import DEFAULT_FLOWS_DIR

    expected = _flow_and_mapping_files(DEFAULT_FLOWS_DIR)
    assert expected > 1
    r = runner.invoke(app, ["lint", str(DEFAULT_FLOWS_DIR)])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == f"{expected} file(s) linted: no problems."
    r = runner.invoke(app, ["flow", "lint"])
    assert r.exit_code == 0 and r.output.splitlines()[-1] == f"{expected} file(s) linted: no problems."
    # a configuration and a mapping, each with an error: both as file:line: path: message
    cfg = tmp_path / "integration.yaml"
    cfg.write_text("server:\n  port: 8000\n  prot: 1\n")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "m.yaml").write_text("mapping: m\nsource: {system: prestashop, resource: orders}\n"
                                  "target: {system: prestashop, resource: orders}\nfields:\n  refrence: reference\n")
    (flows / "notes.yaml").write_text("title: not a flow\n")  # ignored, not counted
    for args in (["lint", str(cfg), str(flows)], ["flow", "lint", str(flows)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 1, r.output
        assert f"{flows / 'm.yaml'}:5: fields.refrence: unknown target field 'refrence'" in r.output
    r = runner.invoke(app, ["lint", str(cfg), str(flows)])
    assert f"{cfg}:3: server.prot: unknown field — did you mean 'port'?" in r.output
    problems = [line for line in r.output.splitlines() if line.startswith((f"{cfg}:", f"{flows / 'm.yaml'}:"))]
    warnings = [line for line in problems if ": warning: " in line]
    assert len(problems) == len(r.output.splitlines()) - 1  # every line but the summary is a problem
    assert r.output.splitlines()[-1] == (f"2 file(s) linted: {len(problems) - len(warnings)} error(s), "
                                         f"{len(warnings)} warning(s).")


def test_lint_with_nothing_to_lint_says_so_and_succeeds(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRESTA_AX_CONFIG", raising=False)
    r = runner.invoke(app, ["lint"])
    assert r.exit_code == 0, r.output
    assert "Nothing to lint: no integration.yaml here" in r.output and "not found" not in r.output
    (tmp_path / "integration.yaml").write_text("server:\n  port: 0\n")
    r = runner.invoke(app, ["lint"])
    assert r.exit_code == 1 and "integration.yaml:2: server.port:" in r.output


# -- output -----------------------------------------------------------------------------------------

def test_output_that_is_not_a_terminal_is_never_hard_wrapped(capsys) -> None:
    from runtime.cli_common import console, err

    url = "http://127.0.0.1:8000/api/v1/messages?token=" + "t" * 120
    console.print(f"  admin API  {url}")
    err.print(f"  admin token {url}")
    out, errout = capsys.readouterr()
    assert out == f"  admin API  {url}\n" and errout == f"  admin token {url}\n"


def test_flow_list_is_one_block_per_flow_at_80_columns() -> None:
    from pipelines.registry import FlowRegistry

    flows = FlowRegistry([]).flows()
    r = runner.invoke(app, ["flow", "list"], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) == 3 * len(flows) + 1 and lines[-1] == f"{len(flows)} flow(s)."
    for name, f in flows.items():
        head = next(line for line in lines if line.startswith(f"{name}  "))
        assert head.split() == [name, f.spec.entity, f.version_id, Path(f.spec.file).name]
        i = lines.index(head)
        assert lines[i + 2] == f"  steps ({len(f.spec.steps)}): " + " > ".join(s.id for s in f.spec.steps)
