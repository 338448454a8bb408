"""The AX client against the AX sandbox over real HTTP: every operation the flows use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from connectors.dynamics_ax import (
    Client,
    EntityKey,
    NewAddress,
    NewCustomer,
    NewSalesLine,
    NewSalesOrder,
    Operator,
)
from connectors.dynamics_ax.query import Criterion, eq, range_
from connectors.dynamics_ax.soap import clear_wsdl_cache

pytestmark = pytest.mark.contract

PARIS = NewAddress(street="1 Rue de Rivoli", city="Paris", zip_code="75001", country="FRA")


def order(ref: str, account: str, *lines: tuple[str, int], warehouse: str = "11") -> NewSalesOrder:
    return NewSalesOrder(cust_account=account, shop_reference=ref, currency="EUR", delivery_name="Ann Lee",
                         delivery_address=PARIS, requested_receipt_date=dt.date(2026, 12, 1),
                         lines=[NewSalesLine(item_id=i, qty=Decimal(q), unit="ea", warehouse=warehouse) for i, q in lines])


async def first_account(ax: Client) -> str:
    page = await ax.service("customer").get_keys(page_size=1)
    return page.keys[0].value


async def test_remote_wsdl_is_loaded_once_and_cached(sandbox, make_config):
    clear_wsdl_cache()
    fetched: list[str] = []

    class Counting(httpx.HTTPTransport):
        def handle_request(self, request):
            fetched.append(str(request.url))
            return super().handle_request(request)

    async with Client(make_config(sandbox), wsdl_transport=Counting()) as a:
        assert a.port_operations()["sales_order"]
    assert any(u.endswith("xppservice.svc?wsdl") for u in fetched) and any("xsd=" in u for u in fetched)
    count = len(fetched)
    async with Client(make_config(sandbox), wsdl_transport=Counting()) as b:
        assert "getChangedKeys" in b.port_operations()["packing_slip"]
        assert (await b.service("customer").get_keys(page_size=1)).keys
    assert len(fetched) == count  # parsed once per process


async def test_find_customer_by_account_and_email(ax):
    account = await first_account(ax)
    customer = await ax.find_customer_by_account(account)
    assert customer is not None and customer.account_num == account and customer.kind == "person"
    assert customer.email and customer.phone and customer.addresses[0].city
    again = await ax.find_customer_by_email(customer.email.upper())
    assert again is not None and again.account_num == account
    assert await ax.find_customer_by_email("nobody@nowhere.example") is None
    assert await ax.find_customer_by_account("C-999999") is None


async def test_create_person_and_organization_customers(ax):
    person = NewCustomer(cust_group="WEB", currency="EUR", first_name="Ann", last_name="Lee",
                         email="ann.lee.contract@example.com", phone="+33 1 40 00 00 00", address=PARIS, language="fr")
    created = await ax.create_customer(person, idempotency_key="ps-customer:1001")
    got = await ax.find_customer_by_account(created.key)
    assert got.kind == "person" and got.party_view.person_name[0].last_name == "Lee"
    assert got.email == "ann.lee.contract@example.com" and got.phone == "+33 1 40 00 00 00"
    assert got.addresses[0].zip_code == "75001" and got.addresses[0].country_region_id == "FRA"
    # a retry of the same logical create is refused by AX as a duplicate and resolved by lookup
    retry = await ax.create_customer(person, idempotency_key="ps-customer:1001")
    assert retry.key == created.key and retry.existed

    org = NewCustomer(kind="organization", cust_group="WEB", currency="EUR", organization_name="Contoso SARL",
                      email="orders@contoso.example", address=PARIS)
    made = await ax.create_customer(org, idempotency_key="ps-customer:1002")
    got = await ax.find_customer_by_account(made.key)
    assert got.kind == "organization" and got.name == "Contoso SARL"
    assert got.party_view.organization_name[0].name == "Contoso SARL"


async def test_create_sales_order_and_find_it_by_reference(ax):
    account = await first_account(ax)
    created = await ax.create_sales_order(order("WEB-C-0001", account, ("A0001", 1), ("A0002", 2)),
                                          idempotency_key="order:WEB-C-0001")
    so = await ax.read_sales_order(created.key)
    assert so.sales_id == created.key and so.sales_id.startswith("SO-")
    assert so.purch_order_form_num == "WEB-C-0001" and so.customer_ref == "WEB-C-0001"
    assert so.sales_type == "Sales" and so.cust_account == account
    assert [(line.item_id, line.sales_qty) for line in so.lines] == [("A0001", 1), ("A0002", 2)]
    assert all(line.sales_price > 0 and line.line_amount == line.sales_price * line.sales_qty for line in so.lines)
    found = await ax.find_sales_order_by_reference("WEB-C-0001")
    assert found is not None and found.sales_id == created.key
    assert await ax.find_sales_order_by_reference("WEB-NEVER") is None


async def test_retry_returns_the_existing_order_and_creates_no_second(ax):
    account = await first_account(ax)
    new = order("WEB-C-0002", account, ("A0003", 1))
    first = await ax.create_sales_order(new, idempotency_key="order:WEB-C-0002")
    second = await ax.create_sales_order(new, idempotency_key="order:WEB-C-0002")
    assert second.key == first.key and second.existed and not first.existed
    keys = await ax.service("sales_order").find_keys([eq("SalesTable", "PurchOrderFormNum", "WEB-C-0002")])
    assert [k.value for k in keys] == [first.key]


async def test_duplicate_purchase_order_becomes_journal(ax):
    account = await first_account(ax)
    first = await ax.create_sales_order(order("WEB-C-0003", account, ("A0004", 1)), idempotency_key="a")
    other = await ax.create_sales_order(order("WEB-C-0003", account, ("A0004", 1)), idempotency_key="b")
    assert other.key != first.key
    assert (await ax.read_sales_order(other.key)).sales_type == "Journal"
    assert (await ax.find_sales_order_by_reference("WEB-C-0003")).sales_id == first.key


async def test_number_sequence_gives_increasing_sales_ids(ax):
    account = await first_account(ax)
    ids = [(await ax.create_sales_order(order(f"WEB-C-01{n}", account, ("A0005", 1)),
                                        idempotency_key=f"seq-{n}")).key for n in range(3)]
    numbers = [int(i.split("-")[1]) for i in ids]
    assert numbers == sorted(numbers) and len(set(numbers)) == 3


async def test_items_with_prices_and_on_hand_reservation(ax, control):
    items = await ax.read_items(["A0006", "A0007", "A0008"])
    assert [i.item_id for i in items] == ["A0006", "A0007", "A0008"]
    assert all(i.sales_price > 0 and i.sales_unit == "ea" for i in items)
    control.post("/stock", json={"item_id": "A0006", "warehouse": "11", "qty": "10"})
    before = (await ax.read_on_hand("A0006", "11"))[0]
    assert before.warehouse == "11" and before.site == "1"
    assert before.avail_physical == before.physical_invent - before.reserv_physical
    account = await first_account(ax)
    await ax.create_sales_order(order("WEB-C-0004", account, ("A0006", 3)), idempotency_key="res")
    after = (await ax.read_on_hand("A0006", "11"))[0]
    assert after.reserv_physical == before.reserv_physical + 3
    assert after.avail_physical == before.avail_physical - 3
    both = await ax.read_on_hand("A0006")
    assert {r.warehouse for r in both} == {"11", "21"}


async def test_fulfilment_packing_slip_with_tracking_and_invoice(ax, control):
    control.post("/stock", json={"item_id": "A0009", "warehouse": "11", "qty": "20"})
    account = await first_account(ax)
    created = await ax.create_sales_order(order("WEB-C-0005", account, ("A0009", 2)), idempotency_key="ful")
    assert await ax.read_packing_slips(created.key) == []
    stages = []
    for _ in range(3):
        answer = control.post("/fulfilment/step", json={"sales_id": created.key}).json()
        stages += [a["stage"] for a in answer["advanced"] if a["sales_id"] == created.key]
    assert stages == ["pick", "pack", "invoice"]
    slips = await ax.read_packing_slips(created.key)
    assert len(slips) == 1 and slips[0].tracking_number and slips[0].packing_slip_id
    assert slips[0].cust_packing_slip_trans[0].item_id == "A0009" and slips[0].cust_packing_slip_trans[0].qty == 2
    invoices = await ax.read_invoices(created.key)
    so = await ax.read_sales_order(created.key)
    assert len(invoices) == 1 and invoices[0].invoice_id and invoices[0].currency_code == "EUR"
    assert invoices[0].invoice_amount == so.lines[0].line_amount + invoices[0].sum_tax
    assert so.sales_status == "Invoiced"


async def test_changed_keys_over_several_pages_and_an_old_cursor(ax, control):
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    account = await first_account(ax)
    made = [(await ax.create_sales_order(order(f"WEB-C-02{n}", account, ("A0010", 1)),
                                         idempotency_key=f"chg-{n}")).key for n in range(7)]
    pages = [p async for p in ax.changed_keys("sales_order", since)]
    assert len(pages) >= 3 and all(len(p.keys) <= 3 for p in pages)
    seen = [k.value for p in pages for k in p.keys]
    assert set(made) <= set(seen) and len(seen) == len(set(seen))
    old = [p async for p in ax.changed_keys("sales_order", dt.datetime(2020, 1, 1, tzinfo=dt.UTC))]
    assert old[-1].needs_full_resync and old[-1].status_details == "ChangedDateTimeOutOfRange"
    everything = [k.value for p in [p async for p in ax.all_keys("sales_order")] for k in p.keys]
    assert set(made) <= set(everything)


async def test_changed_keys_for_every_entity(ax, control):
    # the seeded data was last changed a day before the sandbox started (it predates the bridge)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=36)
    for entity in ("customer", "sales_order", "item", "on_hand"):
        keys = [k for p in [p async for p in ax.changed_keys(entity, since)] for k in p.keys]
        assert keys, entity
    control.post("/prices", json={"item_id": "A0011", "price": "99.50"})
    cursor = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    changed = [k.value for p in [p async for p in ax.changed_keys("item", cursor)] for k in p.keys]
    assert "A0011" in changed
    assert (await ax.read_items(["A0011"]))[0].sales_price == Decimal("99.50")


async def test_partial_and_full_update(ax):
    account = await first_account(ax)
    created = await ax.create_sales_order(order("WEB-C-0006", account, ("A0012", 1), ("A0001", 1)),
                                          idempotency_key="upd")
    key = EntityKey.of(SalesId=created.key)
    svc = ax.service("sales_order")
    await svc.update(key, {"DlvMode": "UPS"}, idempotency_key="upd:1")
    so = await ax.read_sales_order(created.key)
    assert so.dlv_mode == "UPS" and so.customer_ref == "WEB-C-0006" and len(so.lines) == 2

    def keep_first_line(table):
        table["CustomerRef"] = "changed by full update"
        table["SalesLine"] = table["SalesLine"][:1]

    await svc.update(key, keep_first_line, idempotency_key="upd:2", partial=False)
    so = await ax.read_sales_order(created.key)
    assert so.customer_ref == "changed by full update" and [line.item_id for line in so.lines] == ["A0012"]


async def test_delete(ax):
    account = await first_account(ax)
    created = await ax.create_sales_order(order("WEB-C-0007", account, ("A0002", 1)), idempotency_key="del")
    await ax.service("sales_order").delete([EntityKey.of(SalesId=created.key)], idempotency_key="del:1")
    assert await ax.read_sales_order(created.key) is None
    # the same logical delete again: AX answers "Duplicate message", i.e. already done
    await ax.service("sales_order").delete([EntityKey.of(SalesId=created.key)], idempotency_key="del:1")


@pytest.mark.parametrize(
    ("criterion", "expected"),
    [
        (Criterion("InventTable", "ItemId", Operator.EQUAL, "A0003"), {"A0003"}),
        (Criterion("InventTable", "ItemId", Operator.LESS, "A0003"), {"A0001", "A0002"}),
        (Criterion("InventTable", "ItemId", Operator.LESS_OR_EQUAL, "A0002"), {"A0001", "A0002"}),
        (Criterion("InventTable", "ItemId", Operator.GREATER, "A0010"), {"A0011", "A0012"}),
        (Criterion("InventTable", "ItemId", Operator.GREATER_OR_EQUAL, "A0011"), {"A0011", "A0012"}),
        (range_("InventTable", "ItemId", "A0004", "A0006"), {"A0004", "A0005", "A0006"}),
        (Criterion("InventTable", "ItemId", Operator.NOT_EQUAL, "A0001"),
         {f"A{n:04d}" for n in range(2, 13)}),
    ],
)
async def test_find_keys_with_every_operator(ax, criterion, expected):
    keys = await ax.service("item").find_keys([criterion])
    assert {k.value for k in keys} == expected


async def test_check_reports_the_port(ax, sandbox, make_config):
    report = await ax.check()
    assert report["error"] is None and report["missing"] == []
    assert report["call"].startswith("CustomerService.getKeys returned 1 key")
    assert report["endpoint"].endswith("/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc")
    from connectors.dynamics_ax import check_port

    bad = await check_port(make_config(sandbox, company="ZZZ"))
    assert "ConfigError" in bad["error"] and "ZZZ" in bad["error"]


async def test_lost_response_then_retry_lands_exactly_once(sandbox, make_config, control):
    """AX processed the create but the answer never arrived (client timeout); the retry with the
    same idempotency key is refused as a duplicate and resolved to the order created first."""
    import connectors.errors as errors

    control.post("/faults", json={"latency_ms": 600}).raise_for_status()
    impatient = make_config(sandbox, timeout_seconds=0.2)
    async with Client(impatient) as ax:
        account = "C-000001"  # seeded
        with pytest.raises(errors.TransientError) as info:
            await ax.create_sales_order(order("WEB-C-0300", account, ("A0002", 1)), idempotency_key="lost:1")
        assert info.value.code == "network"
    control.delete("/faults").raise_for_status()
    async with Client(make_config(sandbox)) as ax:  # the sandbox's one worker finishes the first call first
        again = await ax.create_sales_order(order("WEB-C-0300", account, ("A0002", 1)), idempotency_key="lost:1")
        assert again.existed
        keys = await ax.service("sales_order").find_keys([eq("SalesTable", "PurchOrderFormNum", "WEB-C-0300")])
        assert [k.value for k in keys] == [again.key]
