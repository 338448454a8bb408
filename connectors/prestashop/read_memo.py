"""Reads made once per unit of work: inside :func:`read_memo`, a GET the same client already
answered in that scope is answered from memory instead of the network.

One order's flow reads the same shop object several times (the extract reads the order, the
write-back's idempotency check reads it again before it changes the state; the fulfilment flow
reads the order in its extract and again before each of its writes). Each read is an HTTP round
trip and a share of the shop's capacity. Within one flow run those repeats say nothing new, so
the runtime opens a scope per run and the repeats cost nothing.

Contract:

* only within a scope (a :class:`contextvars.ContextVar`: tasks started inside inherit it,
  concurrent runs each have their own), never across runs;
* only GETs, keyed by client, path, query and format; the answer's bytes are reused, decoding
  runs again, so callers may change what they get;
* any other method through the client (POST, PUT, PATCH, DELETE), successful or not, empties
  the scope's memory first: a read after a write always goes to the shop;
* a failed GET is not remembered.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["read_memo", "remembered", "remember", "forget_all"]

_MEMO: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("presta_ax_ps_read_memo", default=None)


@contextmanager
def read_memo() -> Iterator[None]:
    """Remember the shop's GET answers until the block ends (nested scopes share the outer one)."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _key(owner: object, path: str, params: Sequence[tuple[str, str]], json_output: bool) -> tuple[Any, ...]:
    return (id(owner), path, tuple(params), json_output)


def remembered(owner: object, path: str, params: Sequence[tuple[str, str]], json_output: bool) -> Any:
    """The remembered answer of this GET in the current scope, or None."""
    memo = _MEMO.get()
    return None if memo is None else memo.get(_key(owner, path, params, json_output))


def remember(owner: object, path: str, params: Sequence[tuple[str, str]], json_output: bool, answer: Any) -> None:
    memo = _MEMO.get()
    if memo is not None:
        memo[_key(owner, path, params, json_output)] = answer


def forget_all() -> None:
    """A write went out: nothing read before it is remembered any more."""
    memo = _MEMO.get()
    if memo:
        memo.clear()
