"""The 1C sandbox behaves like a publication as 1c-odata.md describes it (issue 13): IIS' 2,048-byte query
string limit, a UTF-8 BOM, Atom as the default format, storno attributes, the order-state register,
row-level security with `$allowedOnly`, a refused connection when down, `datetime'…Z'` → 400 / code 14."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests

from sync_1c import odata
from sync_1c.odata import ODataConnectionError, ODataError, cast
from b24sandbox.onec import start

BANK = "Document_ПоступлениеБезналичныхДенежныхСредств"
ORDERS = "Document_ЗаказКлиента"
STATES = "InformationRegister_СостоянияЗаказовКлиентов"


def _get(onec, query: str, accept: str = "application/json"):
    return requests.get(onec.url + ORDERS + "?" + query, timeout=5, headers={
        "Authorization": odata.basic_auth_header(onec.username, onec.password), "Accept": accept})


def test_iis_query_string_limit_is_on_by_default(onec):
    flt = "Number eq '" + "x" * 2100 + "'"
    short = "$format=json&$filter=" + flt[:1900].replace(" ", "%20") + "'"
    long_ = "$format=json&$filter=" + flt.replace(" ", "%20")
    assert len(long_) > 2048 >= len(short)
    r = _get(onec, long_)
    assert r.status_code == 404 and "404.15" in r.text and "query string is too long" in r.text
    assert _get(onec, short).status_code in (200, 400)          # reached 1C
    apache = start(web_server="apache")
    try:
        assert _get(apache, long_).status_code == 200
    finally:
        apache.shutdown()


def test_bom_and_atom_are_defaults(onec):
    onec.infobase.add_order(100, "2025-03-01T10:00:00")
    r = _get(onec, "$format=json")
    assert r.content.startswith(b"\xef\xbb\xbf") and json.loads(r.content.decode("utf-8-sig"))["value"]
    atom = _get(onec, "", accept="*/*")
    assert atom.headers["Content-Type"].startswith("application/atom+xml") and "<feed" in atom.text
    assert "<d:Number>" in atom.text


def test_datetime_with_zone_is_400_code_14(onec, client):
    with pytest.raises(ODataError) as e:
        client.query(ORDERS, filter="Date ge datetime'2025-03-01T00:00:00Z'")
    assert (e.value.status, e.value.code) == (400, "14")
    assert client.query(ORDERS, filter="Date ge datetime'2025-03-01T00:00:00'") == []


def test_down_is_a_refused_connection(onec, client):
    onec.infobase.add_order(100, "2025-03-01T10:00:00")
    assert client.query(ORDERS)                                  # a kept-alive connection exists now
    onec.faults.down = True
    with pytest.raises(ODataConnectionError) as e:
        client.query(ORDERS)
    assert e.value.status is None and e.value.code == "connection"
    with pytest.raises(requests.ConnectionError):
        requests.get(onec.url, timeout=2)
    onec.faults.down = False
    assert client.query(ORDERS)


def test_storno_fields_and_storno_document(onec, client):
    ib = onec.infobase
    order = ib.add_order(1000, "2025-03-01T10:00:00")
    pay = ib.add_payment([(order, 1000)], "2025-03-02T10:00:00")
    st = ib.storno(pay, "2025-03-05T10:00:00")
    rows = {r["Ref_Key"]: r for r in client.query(BANK, select="Ref_Key,Исправление,СторнируемыйДокумент,"
                                                  "СторнируемыйДокумент_Type,СуммаДокумента,РасшифровкаПлатежа")}
    assert rows[pay]["Исправление"] is False and rows[st]["Исправление"] is True
    assert rows[st]["СторнируемыйДокумент"] == pay and rows[st]["СторнируемыйДокумент_Type"] == f"StandardODATA.{BANK}"
    assert rows[st]["СуммаДокумента"] == Decimal("-1000")
    assert rows[st]["РасшифровкаПлатежа"][0]["СуммаВзаиморасчетов"] < 0


@pytest.mark.parametrize("flavor", ["ut11_5", "ut11_4"])
def test_order_state_register_nets_everything_whatever_the_dates(flavor):
    sb = start(flavor=flavor)
    try:
        c = odata.ODataClient(sb.url, sb.username, sb.password, retries=0)
        ib = sb.infobase
        order = ib.add_order(10000, "2024-01-10T10:00:00")
        old = ib.add_payment([(order, 6000)], "2024-01-11T10:00:00")
        ib.add_payment([(order, 4000)], "2025-03-02T10:00:00", kind="cash")
        ib.add_payment([(order, 500)], "2025-03-03T10:00:00", kind="refund")
        ib.add_payment([(order, 700)], "2025-03-03T10:00:00", posted=False)
        ib.storno(old, "2025-03-04T10:00:00")
        (row,) = c.query(STATES, filter=f"Заказ eq {cast(order, ORDERS)}",
                         select="Заказ,Заказ_Type,СуммаОплаты,СуммаДолга,ПроцентОплаты")
        assert row["СуммаОплаты"] == Decimal("3500") and row["СуммаДолга"] == Decimal("6500")
        assert row["Заказ_Type"] == f"StandardODATA.{ORDERS}"
        assert STATES in c.metadata()
    finally:
        sb.shutdown()


def test_row_level_security_and_allowed_only(onec):
    ib = onec.infobase
    order = ib.add_order(100, "2025-03-01T10:00:00")
    secret = ib.add_payment([(order, 60)], "2025-03-02T10:00:00")
    visible = ib.add_payment([(order, 40)], "2025-03-02T11:00:00")
    onec.restrict(secret)
    strict = odata.ODataClient(onec.url, onec.username, onec.password, retries=0, allowed_only=False)
    with pytest.raises(ODataError) as e:
        strict.query(BANK, select="Ref_Key")
    assert (e.value.status, e.value.code) == (401, "20")
    allowed = odata.ODataClient(onec.url, onec.username, onec.password, retries=0, allowed_only=True)
    assert [r["Ref_Key"] for r in allowed.query(BANK, select="Ref_Key")] == [visible]
    with pytest.raises(ODataError) as e:                         # a single entity: no $allowedOnly
        allowed.get_entity(BANK, secret)
    assert (e.value.status, e.value.code) == (401, "20")
    assert "$allowedOnly=true" in onec.log[-2].raw_query
