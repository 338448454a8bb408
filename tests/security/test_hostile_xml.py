"""XML from a hostile or broken PrestaShop and AOS, served over real HTTP by a stub, read by the
real connector clients: XXE (external entity over file:// and http://, parameter entity, external
DTD), billion laughs, quadratic blowup, a huge text node, wrong namespaces and truncated documents.

Each must end in the connectors' own error type (a :class:`~connectors.errors.BridgeError` whose
message is a sentence), with no file read (the canary is a named pipe: opening it is detected),
no network call (the stub, which would also serve the external DTD, got the one request the
client made) and bounded memory (Python's peak allocation during the call, measured with
tracemalloc, stays within a small multiple of the input; the process's peak RSS does not jump)."""

from __future__ import annotations

import resource
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import BridgeError
from tests.security.hostile import (
    Canary,
    Stub,
    billion_laughs,
    external_dtd,
    external_entity,
    parameter_entity,
    quadratic_blowup,
    stub_server,
)

pytestmark = pytest.mark.unit

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICES = "http://schemas.microsoft.com/dynamics/2008/01/services"
DOCS = "http://schemas.microsoft.com/dynamics/2008/01/documents/SalesOrder"

PS_OBJECT = "<customer><id>1</id><lastname>{}</lastname></customer>"
PS_VALID = ('<?xml version="1.0" encoding="UTF-8"?><prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
            + PS_OBJECT.format("Doe") + "</prestashop>").encode()


def _ax_read(sales_id: str) -> str:
    return (f'<SalesOrderServiceReadResponse xmlns="{SERVICES}"><SalesOrder xmlns="{DOCS}">'
            f'<DocPurpose>Original</DocPurpose><SalesTable class="entity"><SalesId>{sales_id}</SalesId>'
            "</SalesTable></SalesOrder></SalesOrderServiceReadResponse>")


def _ax_envelope(body: str, doctype: str = "", ns: str = SOAP) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?>{doctype}'
            f'<s:Envelope xmlns:s="{ns}"><s:Body>{body}</s:Body></s:Envelope>').encode()


AX_VALID = _ax_envelope(_ax_read("SO-1"))


def _cases(system: str, stub_url: str, canary: Path) -> dict[str, bytes]:
    """The hostile documents, shaped as an answer of ``system`` (``prestashop`` or ``ax``)."""
    evil = f"{stub_url}/evil.dtd"
    if system == "prestashop":
        root, inner = "prestashop", PS_OBJECT.format("&xxe;")
        return {
            "external entity (file)": external_entity(root, f"file://{canary}", inner),
            "external entity (http)": external_entity(root, f"{stub_url}/xxe", inner),
            "parameter entity": parameter_entity(root, evil),
            "external DTD": external_dtd(root, evil, PS_OBJECT.format("Doe")),
            "billion laughs": billion_laughs(root),
            "quadratic blowup": quadratic_blowup(root),
            "huge text node": PS_VALID.replace(b"Doe", b"x" * 11_000_000),
            "wrong namespace": PS_VALID.replace(b"<prestashop ", b'<prestashop xmlns="urn:evil" '),
            "XHTML page": b'<html xmlns="http://www.w3.org/1999/xhtml"><body>Blocked</body></html>',
            "truncated": PS_VALID[: len(PS_VALID) // 2],
            "empty": b"",
        }
    ent = '<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "{}">]>'
    laughs = "".join(['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)])
    return {
        "external entity (file)": _ax_envelope(_ax_read("&xxe;"), ent.format(f"file://{canary}")),
        "external entity (http)": _ax_envelope(_ax_read("&xxe;"), ent.format(f"{stub_url}/xxe")),
        "parameter entity": _ax_envelope(_ax_read("SO-1"), f'<!DOCTYPE s:Envelope [<!ENTITY % ext SYSTEM "{evil}"> %ext;]>'),
        "external DTD": _ax_envelope(_ax_read("SO-1"), f'<!DOCTYPE s:Envelope SYSTEM "{evil}">'),
        "billion laughs": _ax_envelope(_ax_read("&lol9;"), f"<!DOCTYPE s:Envelope [{laughs}]>"),
        "quadratic blowup": _ax_envelope(_ax_read("&a;" * 10_000), f'<!DOCTYPE s:Envelope [<!ENTITY a "{"a" * 100_000}">]>'),
        "huge text node": _ax_envelope(_ax_read("x" * 11_000_000)),
        "SOAP 1.2 envelope": _ax_envelope(_ax_read("SO-1"), ns="http://www.w3.org/2003/05/soap-envelope"),
        "wrong service namespace": _ax_envelope(_ax_read("SO-1").replace(SERVICES, "urn:evil")),
        "XHTML page": b'<html xmlns="http://www.w3.org/1999/xhtml"><body>Blocked</body></html>',
        "truncated": AX_VALID[: len(AX_VALID) // 2],
        "empty": b"",
    }


CASE_NAMES = {
    "prestashop": list(_cases("prestashop", "http://x", Path("/c"))),
    "ax": list(_cases("ax", "http://x", Path("/c"))),
}


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    with stub_server() as s:
        yield s


def _ps_call(stub: Stub) -> Callable[[], Awaitable[Any]]:
    from connectors.prestashop import Client, ClientConfig

    async def call() -> Any:
        async with Client(ClientConfig(base_url=stub.url, api_key="K" * 32)) as shop:
            return await shop.get("customers", 1)
    return call


def _ax_call(stub: Stub) -> Callable[[], Awaitable[Any]]:
    from connectors.dynamics_ax import AxConfig, Client

    async def call() -> Any:
        cfg = AxConfig(base_url=f"{stub.url}/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT",
                       wsdl="bundled")
        async with Client(cfg) as ax:
            return await ax.read_sales_order("SO-1")
    return call


CALLS = {"prestashop": _ps_call, "ax": _ax_call}


@pytest.mark.parametrize("system", ["prestashop", "ax"])
async def test_the_stub_and_the_client_agree_on_a_valid_answer(stub: Stub, system: str) -> None:
    """The hostile cases below fail for the reason they test, not because the stub is wrong."""
    stub.answer, stub.requests[:] = (PS_VALID if system == "prestashop" else AX_VALID), []
    result = await CALLS[system](stub)()
    if system == "prestashop":
        assert result["lastname"] == "Doe"
    else:
        assert result.sales_id == "SO-1"
    assert len(stub.requests) == 1


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize(("system", "case"), [(s, c) for s, names in CASE_NAMES.items() for c in names],
                         ids=[f"{s}: {c}" for s, names in CASE_NAMES.items() for c in names])
async def test_a_hostile_answer_is_a_clear_error_with_no_file_read_no_network_call_and_bounded_memory(
        stub: Stub, tmp_path: Path, system: str, case: str) -> None:
    canary = Canary(tmp_path)
    try:
        body = _cases(system, stub.url, canary.path)[case]
        stub.answer, stub.requests[:] = body, []
        call = CALLS[system](stub)
        rss_before = _peak_rss_mb()
        tracemalloc.start()
        try:
            with pytest.raises(BridgeError) as info:
                await call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        opened = canary.close()
    err = info.value
    assert not opened, "the parser opened the canary file"
    assert stub.requests and all(path.split("?")[0] not in ("/evil.dtd", "/xxe") for _, path in stub.requests), \
        stub.requests
    assert len(stub.requests) == 1, stub.requests  # the client's own request, nothing fetched on its behalf
    assert err.system == system and err.message.endswith(".") and Canary.SECRET not in str(err)
    assert len(str(err)) < 600  # a sentence, not the document
    # Python-side memory: the response is held a few times (httpx, the parser input), no expansion
    assert peak < 4 * len(body) + 8 * 1024 * 1024, (peak, len(body))
    # C-side (libxml2) memory is not traced: the process's peak must not jump either
    assert _peak_rss_mb() - rss_before < 200, (_peak_rss_mb(), rss_before)
