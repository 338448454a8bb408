"""What every ``presta-ax`` command module shares: the consoles, common options, settings
loading, the help layout, and the one handler of expected failures.

* :data:`console` / :data:`err` never hard-wrap when their stream is not a terminal: a log file or
  a pipe gets whole lines (URLs and the admin token are never split across lines).
* :class:`HelpGroup` is the root command class: every option of every command is listed with a
  plain metavar (``TEXT``, ``PATH``...) instead of the ``<str>``/``<bool>`` type tokens Typer
  0.29 prints by default, flags show no metavar at all.
* :func:`run_cli` runs the Typer app and turns an expected failure (a :class:`BridgeError`, a file
  that cannot be read, an HTTP error) into one line on stderr and a non-zero exit code;
  ``--debug`` (:data:`state`) lets the traceback through.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperArgument, TyperGroup, TyperOption

from connectors.errors import AuthError, BridgeError, ConfigError, TransientError

__all__ = ["ConfigOpt", "HelpGroup", "TokenOpt", "UrlOpt", "console", "err", "load", "run_cli", "state",
           "when"]


class _Console(Console):
    """A console that soft-wraps (leaves long lines whole) whenever its stream is not a terminal.

    Decided at each print, not at import: the same module-level console serves a terminal, a pipe
    and a test runner's captured stream."""

    @property  # type: ignore[override]
    def soft_wrap(self) -> bool:
        return not self.is_terminal

    @soft_wrap.setter
    def soft_wrap(self, value: bool) -> None:  # Console.__init__ assigns it; the property decides
        pass


console = _Console()
err = _Console(stderr=True)


class _State:
    """Global options of the root command (set by its callback before any command runs)."""

    debug: bool = False


state = _State()

ConfigOpt = typer.Option(None, "--config", "-c", envvar="PRESTA_AX_CONFIG",
                         help="Configuration file (integration.yaml); optional, defaults apply without it.")
UrlOpt = typer.Option(None, "--url", envvar="PRESTA_AX_URL",
                      help="URL of the running bridge (default: host and port from the configuration).")
TokenOpt = typer.Option(None, "--token", envvar="PRESTA_AX_ADMIN_TOKEN",
                        help="Admin API token (default: the configuration, then the file admin-token in data_dir).")


def load(config: Path | None) -> Any:
    """The settings, or one line per problem on stderr and exit code 2."""
    from runtime.config import load_settings

    try:
        return load_settings(config)
    except ConfigError as exc:
        err.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(2) from None


def when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


# -- help ---------------------------------------------------------------------------------------

_TYPE_NAMES = {str: "TEXT", int: "INTEGER", float: "FLOAT", bool: "BOOLEAN"}


def _metavar(param: TyperOption | TyperArgument) -> str:
    desc = param.type_descriptor
    if desc.is_choice:
        return "[" + "|".join(str(getattr(c, "value", c)) for c in desc.choices or ()) + "]"
    if isinstance(param, TyperArgument):
        return (param.name or "value").upper()
    if desc.is_path:
        return desc.path_type.upper()
    annotation = desc.annotation
    if desc.is_list:
        annotation = (getattr(annotation, "__args__", None) or (str,))[0]
        if isinstance(annotation, type) and issubclass(annotation, Path):
            return "PATH"
    return _TYPE_NAMES.get(annotation, "VALUE")


class _Argument(TyperArgument):
    """A positional argument shown by its name alone (``FILES...``), as click shows it."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name says what it is; Typer 0.29 would add "<list[Path]>"

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


def _tidy(command: Any) -> None:
    for param in command.params:
        if isinstance(param, TyperOption) and (param.is_flag or param.count):
            continue  # a flag takes no value: nothing to show after its name
        if isinstance(param, (TyperOption, TyperArgument)) and param.metavar is None:
            param.metavar = _metavar(param)
        if type(param) is TyperArgument:
            # Typer has no setting for an argument's class; this one only changes how it is shown
            param.__class__ = _Argument
    for sub in getattr(command, "commands", {}).values():
        _tidy(sub)


class HelpGroup(TyperGroup):
    """Root command class: gives every parameter of the whole command tree a plain metavar.

    Typer 0.29 renders each parameter's type as ``<str>``, ``<bool>``, ``<list[Path]>``; a
    metavar, when set, is shown instead, so one walk over the tree at build time fixes every
    command's help, including those of the sub-applications mounted from ``pipelines`` and
    ``connectors``. Use with ``rich_markup_mode=None``: help texts are then printed as written
    (Rich markup would eat bracketed examples such as ``[id,email]``) and flags show no type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _tidy(self)


# -- expected failures --------------------------------------------------------------------------

def _what_to_do(exc: BaseException) -> tuple[str, int]:
    """(one line saying what happened and what to do, exit code) of an expected failure."""
    import httpx

    if isinstance(exc, ConfigError):
        head = exc.message.splitlines()[0]
        rest = [p for p in exc.problems if p not in head]
        return " ".join([head, "; ".join(rest)]).strip(), 2
    if isinstance(exc, TransientError):
        return f"{exc.message} Check that {exc.system or 'the system'} is running and reachable, then try again.", 1
    if isinstance(exc, AuthError):
        return f"{exc.message} Check the credentials in the configuration or the environment.", 1
    if isinstance(exc, BridgeError):  # PermanentError and the rest: their messages say what to do
        return exc.message, 1
    if isinstance(exc, FileNotFoundError):
        return f"File not found: {exc.filename or exc}. Check the path.", 2
    if isinstance(exc, PermissionError):
        return f"Permission denied: {exc.filename or exc}. Check the file's owner and mode.", 2
    if isinstance(exc, httpx.HTTPError):
        try:
            target = f" {exc.request.url.copy_with(query=None)}"  # the query may hold a key
        except RuntimeError:  # no request attached
            target = ""
        return f"The HTTP call to{target} failed ({type(exc).__name__}). Check that the system is running.", 1
    if isinstance(exc, OSError):
        name = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror or exc}{name}.", 1
    raise TypeError(type(exc))  # not an expected failure


def expected(exc: BaseException) -> bool:
    """Whether ``exc`` is an expected failure that gets one line instead of a traceback."""
    import httpx

    return isinstance(exc, (BridgeError, OSError, httpx.HTTPError))


def run_cli(app: typer.Typer, args: Sequence[str] | None = None) -> None:
    """Run ``app`` as the ``presta-ax`` program; see the module docstring. Always exits."""
    state.debug = False
    try:
        app(args=list(args) if args is not None else None, prog_name="presta-ax")
    except Exception as exc:  # noqa: BLE001 - sorted below: expected ones get one line
        if state.debug or not expected(exc):
            raise
        line, code = _what_to_do(exc)
        err.print(f"[red]{escape(line)}[/red]")
        sys.exit(code)
