"""A connection cut while in use can surface from the HTTP stack as an AttributeError (the
transport is gone, its socket None): the connectors call that a network failure, and nothing else."""

from __future__ import annotations

import pytest
from anyio._backends._asyncio import SocketStream

from connectors.errors import closed_connection

pytestmark = pytest.mark.unit


class _GoneTransport:
    """What an asyncio transport answers once the peer cut it: no socket any more."""

    def get_extra_info(self, name: str, default: object = None) -> object:
        return None


def test_the_stack_tripping_over_a_cut_connection_is_recognised() -> None:
    stream = SocketStream(_GoneTransport(), None)  # type: ignore[arg-type]
    with pytest.raises(AttributeError) as caught:
        stream.extra_attributes  # noqa: B018 - anyio asks the missing socket for its peer
    assert "getpeername" in str(caught.value)
    assert closed_connection(caught.value)


def test_an_attribute_error_of_our_own_code_is_not_a_network_failure() -> None:
    with pytest.raises(AttributeError) as caught:
        None.getpeername()  # type: ignore[attr-defined]
    assert not closed_connection(caught.value)
    assert not closed_connection(ConnectionError("reset"))
