"""CustomerTransactionService (R2+: find, findKeys, read over CustTrans) and customer payments:
an invoice posts an open transaction; a payment posted in AX settles it, part or whole, with a
new RecVersion each time; the port exposes no write and no change tracking for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import httpx
import pytest

from connectors.dynamics_ax import AxConfig, Client, EntityKey
from connectors.dynamics_ax.query import Criterion, Operator
from connectors.dynamics_ax.sandbox.config import SandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread
from connectors.dynamics_ax.wsdl import SERVICES

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with run_in_thread(SandboxConfig(seed=13, items=4, customers=2, open_orders=1)) as base:
        yield base


@pytest.fixture
async def ax(url: str) -> AsyncIterator[Client]:
    async with Client(AxConfig(base_url=url + "/MicrosoftDynamicsAXAif60", port_name="WebShop",
                               company="DAT")) as client:
        yield client


def test_the_port_declares_the_reference_operations_only() -> None:
    assert SERVICES["CustomerTransactionService"].operations == ("read", "find", "findKeys")


async def test_an_invoice_is_open_until_payments_settle_it(url: str, ax: Client) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(3):
            (await http.post("/_sandbox/fulfilment/step", json={})).raise_for_status()
        (invoice_id,) = [t["Invoice"] for t in
                         (await http.get("/_sandbox/state")).json()["companies"]["DAT"]["open_customer_transactions"]]
        (trans,) = await ax.read_settlements(invoice_id)
        assert trans.amount_cur > 0 and trans.settle_amount_cur == 0 and trans.closed is None
        assert trans.last_settle_voucher is None

        r = await http.post("/_sandbox/payments", json={"invoice_id": invoice_id, "amount": "5"})
        assert r.status_code == 200, r.text
        first = r.json()["voucher"]
        (part,) = await ax.read_settlements(invoice_id)
        assert (part.settle_amount_cur, part.last_settle_voucher, part.closed) == (Decimal(5), first, None)
        assert part.rec_id == trans.rec_id and part.rec_version != trans.rec_version

        too_much = await http.post("/_sandbox/payments", json={"invoice_id": invoice_id, "amount": "1000000"})
        assert too_much.status_code == 400 and "at most the open" in too_much.json()["error"]
        r = await http.post("/_sandbox/payments", json={"invoice_id": invoice_id})
        (done,) = await ax.read_settlements(invoice_id)
        assert done.settle_amount_cur == done.amount_cur and done.closed is not None
        assert done.last_settle_voucher == r.json()["voucher"] != first
        assert r.json()["open_customer_transactions"] == []
        again = await http.post("/_sandbox/payments", json={"invoice_id": invoice_id})
        assert again.status_code == 400 and "settled in full" in again.json()["error"]
        unknown = await http.post("/_sandbox/payments", json={"invoice_id": "CIV-999999"})
        assert unknown.status_code == 400 and "CIV-999999" in unknown.json()["error"]

    # read by RecId, and a find on the settlement date, as the bridge's poller does
    (by_key,) = await ax.service("cust_trans").read([EntityKey.of(RecId=str(trans.rec_id))])
    assert by_key["Invoice"] == invoice_id
    settled = await ax.service("cust_trans").find(
        [Criterion("CustTrans", "LastSettleDate", Operator.GREATER_OR_EQUAL, done.last_settle_date)])
    # the invoice's transaction and the two payments' own (negative) transactions
    assert sorted(Decimal(str(t["AmountCur"])) > 0 for t in settled) == [False, False, True]
