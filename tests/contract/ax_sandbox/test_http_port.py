"""IIS-level behaviour over real HTTP: one worker serialising calls, Basic authentication,
the service help page, the XSDs loading in xmlschema from the served URLs, and the CLI step
command against a running sandbox."""

from __future__ import annotations

import threading
from dataclasses import replace

import httpx
import pytest
import typer
import xmlschema
from typer.testing import CliRunner

from connectors.dynamics_ax.sandbox import FaultSettings, SandboxConfig, run_in_thread
from connectors.dynamics_ax.sandbox.cli import step_command
from tests.unit.ax_sandbox.soap import envelope, key_list, sales_order, wrap

pytestmark = pytest.mark.contract
BASE = SandboxConfig(seed=2, items=4, customers=2, open_orders=1)
READ = {"Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": '"http://schemas.microsoft.com/dynamics/2008/01/services/ItemService/read"'}


def _read_body() -> bytes:
    return envelope(wrap("ItemService", "read", key_list("ItemId", "A0001")))


def _concurrent_reads(url: str, n: int) -> list[int]:
    statuses: list[int] = []
    lock = threading.Lock()

    def one() -> None:
        r = httpx.post(url, content=_read_body(), headers=READ, timeout=30)
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


@pytest.mark.parametrize("workers", [1, 3])
def test_worker_processes_bound_concurrency(workers: int):
    config = replace(BASE, workers=workers, faults=FaultSettings(latency_ms=40))
    with run_in_thread(config) as base:
        assert _concurrent_reads(base + config.service_path, 6) == [200] * 6
        peak = httpx.get(base + "/_sandbox/state").json()["peak_in_flight"]
    assert 1 <= peak <= workers
    if workers == 1:
        assert peak == 1  # the default IIS app pool queues concurrent callers


def test_basic_authentication_and_help_page():
    config = replace(BASE, basic_auth=("CONTOSO\\svc-bridge", "s3cret"))
    with run_in_thread(config) as base:
        url = base + config.service_path
        denied = httpx.post(url, content=_read_body(), headers=READ)
        assert denied.status_code == 401 and "Basic" in denied.headers["www-authenticate"]
        wrong = httpx.post(url, content=_read_body(), headers=READ, auth=("CONTOSO\\svc-bridge", "nope"))
        assert wrong.status_code == 401
        ok = httpx.post(url, content=_read_body(), headers=READ, auth=("contoso\\SVC-BRIDGE", "s3cret"))
        assert ok.status_code == 200 and "<ItemId>A0001</ItemId>" in ok.text
        assert httpx.get(url + "?wsdl").status_code == 401  # IIS guards the whole directory
        page = httpx.get(url, auth=("CONTOSO\\svc-bridge", "s3cret"))
        assert page.status_code == 200 and "You have created a service" in page.text
        assert "s3cret" not in repr(config)


def test_served_schemas_load_from_their_urls():
    with run_in_thread(BASE) as base:
        url = base + BASE.service_path
        schema = xmlschema.XMLSchema(url + "?xsd=xsd0")  # imports follow the rewritten ?xsd=xsdN locations
        assert "{http://schemas.microsoft.com/dynamics/2008/01/services}SalesOrderServiceCreateRequest" in (
            schema.maps.elements)


def test_cli_step_command_advances_a_running_sandbox():
    app = typer.Typer()
    app.command("ax")(lambda: None)
    app.command("ax-step")(step_command)
    with run_in_thread(BASE) as base:
        result = CliRunner().invoke(app, ["ax-step", "--url", base])
        assert result.exit_code == 0, result.output
        assert '"stage": "pick"' in result.output
    unreachable = CliRunner().invoke(app, ["ax-step", "--url", "http://127.0.0.1:9"])
    assert unreachable.exit_code == 1


def test_fulfilment_advances_on_a_schedule():
    """The schedule works the orders that arrive while the sandbox runs; the seeded one (data
    from before the bridge) stays where it is."""
    config = replace(BASE, fulfilment_interval=0.05)
    with run_in_thread(config) as base:
        created = httpx.post(base + config.service_path,
                             content=envelope(wrap("SalesOrderService", "create",
                                                   sales_order("C-000001", "WEB-SCHED", [("A0001", "1")]))),
                             headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction":
                                      '"http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/create"'})
        assert created.status_code == 200, created.text
        status: dict[str, int] = {}
        for _ in range(200):  # bounded wait; the assertion is on the outcome, not on time
            status = httpx.get(base + "/_sandbox/state").json()["companies"]["DAT"]["orders_by_status"]
            if status.get("Invoice"):
                break
            threading.Event().wait(0.05)
        assert status == {"Invoice": 1, "None": 1}
