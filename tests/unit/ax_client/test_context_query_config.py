"""MessageIds, CallContext values, QueryCriteria and the config's checks."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from connectors.dynamics_ax.config import AxConfig
from connectors.dynamics_ax.context import CallContext, message_id_for, random_message_id
from connectors.dynamics_ax.query import Criterion, Operator, criteria_payload, eq, range_

pytestmark = pytest.mark.unit

GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")


def test_message_id_is_deterministic_per_logical_operation():
    a = message_id_for("DAT", "SalesOrderService", "create", "order:WEB-7781")
    assert a == message_id_for("dat", "SalesOrderService", "create", "order:WEB-7781")
    assert GUID.match(a)
    others = {
        message_id_for("USMF", "SalesOrderService", "create", "order:WEB-7781"),
        message_id_for("DAT", "CustomerService", "create", "order:WEB-7781"),
        message_id_for("DAT", "SalesOrderService", "update", "order:WEB-7781"),
        message_id_for("DAT", "SalesOrderService", "create", "order:WEB-7782"),
    }
    assert a not in others and len(others) == 4


def test_message_id_needs_a_key():
    with pytest.raises(ValueError, match="idempotency key"):
        message_id_for("DAT", "SalesOrderService", "create", "")


def test_random_ids_differ():
    assert GUID.match(random_message_id()) and random_message_id() != random_message_id()


def test_call_context_in_schema_order_without_empty_values():
    ctx = CallContext(company="DAT", language="en-us", message_id="{X}")
    assert list(ctx.as_header().items()) == [("Company", "DAT"), ("Language", "en-us"), ("MessageId", "{X}")]
    full = CallContext("DAT", "en-us", "CONTOSO\\web", "{X}", "initial").as_header()
    assert list(full) == ["Company", "Language", "LogonAsUser", "MessageId", "PartitionKey"]
    assert ctx.with_message_id("{Y}").as_header()["MessageId"] == "{Y}"


@pytest.mark.parametrize("op", list(Operator))
def test_every_operator(op):
    value2 = 10 if op is Operator.RANGE else None
    c = Criterion("SalesTable", "SalesId", op, 1, value2)
    el = c.as_element()
    assert el["Operator"] == op.value and el["Value1"] == "1"
    assert ("Value2" in el) == (op is Operator.RANGE)


def test_criteria_values_and_checks():
    assert eq("CustTable", "Blocked", False).as_element()["Value1"] == "No"
    r = range_("SalesTable", "ReceiptDateRequested", dt.date(2026, 1, 1), dt.date(2026, 1, 31)).as_element()
    assert (r["Value1"], r["Value2"]) == ("2026-01-01", "2026-01-31")
    with pytest.raises(ValueError, match="needs value2"):
        Criterion("SalesTable", "SalesId", Operator.RANGE, "A")
    with pytest.raises(ValueError, match="Only a Range"):
        Criterion("SalesTable", "SalesId", Operator.EQUAL, "A", "B")
    with pytest.raises(ValueError):
        Criterion("SalesTable", "SalesId", "Like", "A*")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        criteria_payload([])
    assert criteria_payload([eq("SalesTable", "SalesId", "S1")]) == {
        "CriteriaElement": [{"DataSourceName": "SalesTable", "FieldName": "SalesId", "Operator": "Equal", "Value1": "S1"}]
    }


def test_config_endpoint_and_refusals():
    cfg = AxConfig(base_url="http://iis:8082/MicrosoftDynamicsAXAif60/", port_name="WebShop", company="DAT")
    assert cfg.endpoint == "http://iis:8082/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc"
    assert cfg.wsdl_url.endswith("xppservice.svc?wsdl")
    with pytest.raises(ValueError, match="NetTcp"):
        AxConfig(base_url="net.tcp://aos:8201/DynamicsAx/Services/WebShop", port_name="WebShop", company="DAT")
    with pytest.raises(ValueError, match="bare inbound port name"):
        AxConfig(base_url="http://iis/MicrosoftDynamicsAXAif60", port_name="Web/Shop", company="DAT")
    with pytest.raises(ValueError):
        AxConfig(base_url="http://iis/MicrosoftDynamicsAXAif60", port_name="WebShop", company="TOOLONG")
