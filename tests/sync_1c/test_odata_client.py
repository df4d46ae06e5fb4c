"""The OData client against the 1C sandbox over HTTP: encoding, auth, literals, paging, errors."""
from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal

import pytest
import requests

from sync_1c import odata
from sync_1c.odata import (ODataBadResponse, ODataClient, ODataConnectionError, ODataError, any_of,
                           build_query, cast, dt, guid, string)

BANK = "Document_ПоступлениеБезналичныхДенежныхСредств"
ORDERS = "Document_ЗаказКлиента"


# --- literals and URL building (pure) ------------------------------------------------------------------
def test_v3_literals():
    g = "8D04CE3C-6360-11E9-DD92-FA163E8BA11D"
    assert guid(g) == "guid'8d04ce3c-6360-11e9-dd92-fa163e8ba11d'"
    assert dt(datetime(2026, 1, 31)) == "datetime'2026-01-31T00:00:00'"
    assert string("O'Brien") == "'O''Brien'"
    assert cast(g, ORDERS) == f"cast({guid(g)}, 'Document_ЗаказКлиента')"
    assert odata.literal(True) == "true" and odata.literal(Decimal("10.50")) == "10.50"
    with pytest.raises(ValueError):
        guid("not-a-guid")
    with pytest.raises(ValueError):   # aware datetimes must be converted to the base's local time first
        dt(datetime(2026, 1, 1, tzinfo=__import__("datetime").timezone.utc))


def test_query_string_has_no_plus_and_encodes_cyrillic():
    q = build_query({"$filter": "Number eq 'ТД00 +1' and Posted eq true", "$select": ["Ref_Key", "Сумма"]})
    assert "+" not in q.replace("%2B", "")
    assert "%20eq%20" in q and "%2B1" in q
    assert "%D0%A1%D1%83%D0%BC%D0%BC%D0%B0" in q          # Сумма, UTF-8 percent-encoded
    assert "$select=Ref_Key,%D0%A1" in q                  # commas and $ stay readable like 1C examples


def test_basic_auth_header_is_utf8():
    assert odata.basic_auth_header("Администратор", "п") == "Basic 0JDQtNC80LjQvdC40YHRgtGA0LDRgtC+0YA60L8="
    # what requests would do instead: latin-1 cannot encode a Cyrillic login
    with pytest.raises(UnicodeEncodeError):
        requests.auth._basic_auth_str("Администратор", "п")


# --- against the sandbox ---------------------------------------------------------------------------------
def test_cyrillic_login_and_entity_names_over_http(onec, client):
    order = onec.infobase.add_order(1000, "2025-03-01T10:00:00")
    rows = client.query(ORDERS, select="Ref_Key,Number,СуммаДокумента")
    assert rows == [{"Ref_Key": order, "Number": "ТД00-000001", "СуммаДокумента": 1000}]
    seen = onec.log[-1]
    assert seen.user == "Администратор"
    assert seen.path.endswith("/Document_ЗаказКлиента")
    assert "+" not in seen.raw_query


def test_wrong_password_is_401_error(onec):
    bad = ODataClient(onec.url, onec.username, "wrong", retries=0)
    with pytest.raises(ODataError) as e:
        bad.query(ORDERS)
    assert e.value.status == 401 and "authentication" in e.value.message


def test_filter_with_datetime_guid_and_string_literals(onec, client):
    ib = onec.infobase
    o1 = ib.add_order(100, "2025-01-10T09:00:00", number="ТД00-000123")
    o2 = ib.add_order(200, "2026-01-10T09:00:00", number="ТД00-000123")   # same number, next year
    ib.add_order(300, "2026-02-01T09:00:00", number="O'Hara-1")
    in_2026 = client.query(ORDERS, filter=f"Number eq {string('ТД00-000123')} and "
                                          f"Date ge {dt(datetime(2026, 1, 1))} and Date lt {dt(datetime(2027, 1, 1))}")
    assert [r["Ref_Key"] for r in in_2026] == [o2]
    assert [r["Ref_Key"] for r in client.query(ORDERS, filter=f"Ref_Key eq {guid(o1)}")] == [o1]
    assert len(client.query(ORDERS, filter=f"Number eq {string(chr(79) + chr(39) + 'Hara-1')}")) == 1
    assert len(client.query(ORDERS, filter=any_of("Ref_Key", [o1, o2]))) == 2


def test_composite_field_needs_cast(onec_ut114):
    """1C silently returns nothing for a composite compared with a bare guid; cast() finds it."""
    sb = onec_ut114
    c = ODataClient(sb.url, sb.username, sb.password, backoff=0)
    order = sb.infobase.add_order(500, "2025-05-05T10:00:00")
    sb.infobase.add_payment([(order, 500)], "2025-05-06T10:00:00")
    bare = f"РасшифровкаПлатежа/any(d: d/Заказ eq {guid(order)})"
    typed = f"РасшифровкаПлатежа/any(d: d/Заказ eq {cast(order, ORDERS)})"
    assert c.query(BANK, filter=bare) == []
    assert len(c.query(BANK, filter=typed)) == 1


def test_paging_with_top_and_skip(onec, client):
    ib = onec.infobase
    refs = {ib.add_order(i, f"2025-03-{i:02d}T10:00:00") for i in range(1, 12)}
    got = list(client.iter_all(ORDERS, select="Ref_Key,Date", orderby="Date asc,Ref_Key asc", page_size=4))
    assert {r["Ref_Key"] for r in got} == refs and len(got) == 11
    dates = [r["Date"] for r in got]
    assert dates == sorted(dates)
    tops = [e.options.get("$top") for e in onec.log if e.path.endswith(ORDERS)]
    skips = [e.options.get("$skip") for e in onec.log if e.path.endswith(ORDERS)]
    assert tops == ["4", "4", "4"] and skips == ["0", "4", "8"]


def test_get_by_keys_batches(onec, client):
    refs = [onec.infobase.add_order(i, "2025-04-01T10:00:00") for i in range(1, 6)]
    found = client.get_by_keys(ORDERS, refs + [str(uuid.uuid4())], select="Ref_Key,Number", batch=2)
    assert set(found) == set(refs)
    assert sum(1 for e in onec.log if e.path.endswith(ORDERS)) == 3


def test_expand_navigation(onec, client):
    order = onec.infobase.add_order(100, "2025-03-01T10:00:00")
    onec.infobase.add_payment([(order, 100)], "2025-03-02T10:00:00")
    (row,) = client.query(BANK, select="Ref_Key,ОбъектРасчетов_Key", expand="Контрагент")
    assert row["Контрагент"]["Description"] == "ООО «Ромашка»"


def test_decimal_money_and_bom(onec, client):
    onec.faults.bom = True
    onec.infobase.add_order("1234.56", "2025-03-01T10:00:00")
    (row,) = client.query(ORDERS, select="СуммаДокумента")
    assert row["СуммаДокумента"] == Decimal("1234.56") and isinstance(row["СуммаДокумента"], Decimal)


def test_odata_error_body_becomes_odata_error(onec, client):
    with pytest.raises(ODataError) as e:
        client.query(ORDERS, filter="Ref_Key eq 'not a guid literal'")
    assert e.value.code == "14" and e.value.status == 400 and "incompatible" in e.value.message
    with pytest.raises(ODataError) as e:
        client.get_entity(ORDERS, str(uuid.uuid4()))
    assert (e.value.code, e.value.status, e.value.message) == ("9", 404, "Экземпляр сущности не найден")
    with pytest.raises(ODataError) as e:
        client.query(ORDERS, filter="tolower(Number) eq 'x'")
    assert e.value.code == "21"


def test_plus_encoded_spaces_are_rejected_like_1c(onec):
    """What `requests`' params= would send: 1C (and the sandbox) cannot parse it."""
    r = requests.get(onec.url + ORDERS, params={"$format": "json", "$filter": "Posted eq true"},
                     headers={"Authorization": odata.basic_auth_header(onec.username, onec.password)})
    assert "Posted+eq+true" in r.url
    assert r.status_code == 400 and json.loads(r.content.decode("utf-8-sig"))["odata.error"]["code"] == "14"


def test_html_login_page_with_200_is_an_error(onec, client):
    onec.faults.html_login_page = True
    with pytest.raises(ODataBadResponse) as e:
        client.query(ORDERS)
    assert e.value.code == "html" and e.value.status == 200 and "вход" in e.value.message


def test_down_503_html_is_an_error_after_retries(onec, client):
    onec.faults.unavailable = True
    with pytest.raises(ODataError) as e:
        client.query(ORDERS)
    assert e.value.status == 503 and "Service Unavailable" in e.value.message
    assert len(onec.log) == 3                    # first try + 2 retries


def test_transient_503_is_retried(onec, client):
    onec.infobase.add_order(1, "2025-03-01T10:00:00")
    onec.faults.fail_next = 2
    assert len(client.query(ORDERS)) == 1


def test_dropped_connection_is_retried(onec, client):
    onec.infobase.add_order(1, "2025-03-01T10:00:00")
    onec.faults.drop_next = 1
    assert len(client.query(ORDERS)) == 1
    assert len(onec.log) == 2


def test_connection_refused_is_connection_error(onec, client):
    onec.shutdown()
    with pytest.raises(ODataConnectionError) as e:
        client.query(ORDERS)
    assert e.value.status is None and "not reachable" in e.value.message


def test_business_error_is_not_retried():
    class FakeResp:
        status_code = 500
        content = b'{"odata.error":{"code":"-1","message":{"lang":"ru","value":"x"}}}'
    assert ODataClient._is_business_error(FakeResp())


def test_metadata_and_service_document(onec, client):
    xml = client.metadata()
    assert 'Namespace="StandardODATA"' in xml and "Document_ЗаказКлиента" in xml
    assert BANK in client.entity_sets()
    assert client.count(ORDERS) == 0


NON_JSON = {
    "plain text": ("text/plain; charset=utf-8", "Сервис временно недоступен, повторите позже",
                   "not-json", "answer is not JSON (text/plain"),
    "xml (atom)": ("application/atom+xml;charset=utf-8",
                   '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Document</title></feed>',
                   "not-json", "1C answered XML"),
    "xml as text/plain": ("text/plain", '<?xml version="1.0"?><m:error><m:code>-1</m:code></m:error>',
                          "not-json", "1C answered XML"),
    "broken json": ("application/json;odata=minimalmetadata", '{"odata.metadata": "x", "value": [{"Ref_Key": ',
                    "not-json", "answer is not JSON (application/json"),
    "json array": ("application/json", "[1, 2]", "not-json", "answer is JSON but not an object"),
    "json without value": ("application/json", '{"odata.metadata": "x"}', "not-odata", "no 'value' list"),
}


@pytest.mark.parametrize("kind", sorted(NON_JSON))
def test_non_json_answers_are_clear_errors(onec, client, kind):
    from sync_1c.odata import ODataBadResponse

    ctype, body, code, text = NON_JSON[kind]
    onec.faults.body = (ctype, body)
    with pytest.raises(ODataBadResponse) as err:
        client.query("Document_ЗаказКлиента", top=1)
    assert err.value.code == code and text in err.value.message, err.value.message
    assert err.value.status == 200
    assert len(onec.log) == 1                       # a 200 answer is never retried
    assert "edmx" in client.metadata()[:300].lower()  # $metadata still answers: only data reads break
