"""crm.deal/company/contact.* over HTTP: legacy rendering, empty error codes, paging, filters, events."""
from __future__ import annotations


import pytest
import requests

from b24sandbox import demo

from .methods_helpers import ok, rest


def test_add_get_renders_numbers_as_strings(portal, tok):
    body = ok(portal, "crm.deal.add", tok, fields={"TITLE": "Окна", "OPPORTUNITY": 1000, "ASSIGNED_BY_ID": "2"})
    did = body["result"]
    assert isinstance(did, int)
    deal = ok(portal, "crm.deal.get", tok, id=did)["result"]
    assert deal["ID"] == str(did) and deal["OPPORTUNITY"] == "1000.00" and deal["ASSIGNED_BY_ID"] == "2"
    assert deal["STAGE_ID"] == "NEW" and deal["CATEGORY_ID"] == "0" and deal["STAGE_SEMANTIC_ID"] == "P"
    assert ok(portal, "crm.deal.update", tok, id=did, fields={"STAGE_ID": "WON"})["result"] is True
    deal = ok(portal, "crm.deal.get", tok, id=did)["result"]
    assert deal["CLOSED"] == "Y" and deal["STAGE_SEMANTIC_ID"] == "S"


def test_not_found_has_empty_error_code(portal, tok):
    assert rest(portal, "crm.deal.get", tok, id=999) == (400, {"error": "", "error_description": "Not found"})
    status, body = rest(portal, "crm.deal.get", tok, id="abc")
    assert status == 400 and body["error"] == "" and "ID is not defined" in body["error_description"]
    assert rest(portal, "crm.company.delete", tok, id=5)[0] == 400


def test_list_paging_next_total_and_start_minus_one(portal, tok):
    demo.seed_deals(portal.db, 120)
    b = ok(portal, "crm.deal.list", tok, order={"ID": "ASC"}, select=["ID"])
    assert len(b["result"]) == 50 and b["next"] == 50 and b["total"] == 120
    b = ok(portal, "crm.deal.list", tok, order={"ID": "ASC"}, select=["ID"], start=75)
    assert b["result"][0]["ID"] == "51" and b["next"] == 100          # page = floor(75/50)+1
    b = ok(portal, "crm.deal.list", tok, order={"ID": "ASC"}, select=["ID"], start=100)
    assert len(b["result"]) == 20 and "next" not in b and b["total"] == 120
    b = ok(portal, "crm.deal.list", tok, order={"ID": "ASC"}, filter={">ID": 100}, select=["ID"], start=-1)
    assert [d["ID"] for d in b["result"]] == [str(i) for i in range(101, 121)]
    assert "next" not in b and "total" not in b
    assert ok(portal, "crm.deal.list", tok, filter={">ID": 1000})["result"] == []


def test_filters_and_select_masks(portal, tok):
    ok(portal, "crm.deal.userfield.add", tok, fields={"FIELD_NAME": "GEO", "USER_TYPE_ID": "string"})
    a = ok(portal, "crm.deal.add", tok, fields={"TITLE": "Замер Арбат", "OPPORTUNITY": 500,
                                                 "UF_CRM_GEO": "55.75,37.6"})["result"]
    b = ok(portal, "crm.deal.add", tok, fields={"TITLE": "Монтаж Тверская", "OPPORTUNITY": 1500,
                                                 "STAGE_ID": "EXECUTING"})["result"]
    ids = lambda body: [int(d["ID"]) for d in body["result"]]  # noqa: E731
    assert ids(ok(portal, "crm.deal.list", tok, filter={"%TITLE": "арбат"})) == [a]
    assert ids(ok(portal, "crm.deal.list", tok, filter={">=OPPORTUNITY": 1000})) == [b]
    assert ids(ok(portal, "crm.deal.list", tok, filter={"@ID": [a, b], "!STAGE_ID": "NEW"})) == [b]
    assert ids(ok(portal, "crm.deal.list", tok, filter={"STAGE_ID": ["NEW", "EXECUTING"]},
                  order={"OPPORTUNITY": "DESC"})) == [b, a]
    row = ok(portal, "crm.deal.list", tok, filter={"ID": a}, select=["*"])["result"][0]
    assert "UF_CRM_GEO" not in row and "TITLE" in row and "CONTACT_IDS" not in row
    row = ok(portal, "crm.deal.list", tok, filter={"ID": a}, select=["ID", "UF_*"])["result"][0]
    assert row == {"ID": str(a), "UF_CRM_GEO": "55.75,37.6"}
    assert "UF_CRM_GEO" in ok(portal, "crm.deal.list", tok, filter={"ID": a})["result"][0]   # default * + UF_*


def test_userfield_methods(portal, tok):
    uid = ok(portal, "crm.deal.userfield.add", tok, fields={"FIELD_NAME": "JOB_DATE", "USER_TYPE_ID": "datetime",
                                                           "EDIT_FORM_LABEL": "Дата выезда"})["result"]
    uf = ok(portal, "crm.deal.userfield.get", tok, id=uid)["result"]
    assert uf["FIELD_NAME"] == "UF_CRM_JOB_DATE" and uf["ENTITY_ID"] == "CRM_DEAL" and uf["ID"] == str(uid)
    assert ok(portal, "crm.deal.fields", tok)["result"]["UF_CRM_JOB_DATE"]["isDynamic"] is True
    assert [u["FIELD_NAME"] for u in ok(portal, "crm.deal.userfield.list", tok)["result"]] == ["UF_CRM_JOB_DATE"]
    assert ok(portal, "crm.company.userfield.list", tok)["result"] == []
    assert ok(portal, "crm.deal.userfield.delete", tok, id=uid)["result"] is True
    assert rest(portal, "crm.deal.userfield.get", tok, id=uid)[0] == 400


def test_company_contact_multifields(portal, tok):
    co = ok(portal, "crm.company.add", tok, fields={"TITLE": "ООО Окна", "ADDRESS": "ул. Арбат, 1",
                                                   "PHONE": [{"VALUE": "+7 900 000-00-01", "VALUE_TYPE": "WORK"}]})
    c = ok(portal, "crm.contact.add", tok, fields={"NAME": "Иван", "COMPANY_ID": co["result"],
                                                  "PHONE": [{"VALUE": "+79001112233", "VALUE_TYPE": "MOBILE"}]})
    got = ok(portal, "crm.contact.get", tok, id=c["result"])["result"]
    assert got["PHONE"][0]["VALUE"] == "+79001112233" and got["COMPANY_ID"] == str(co["result"])
    found = ok(portal, "crm.contact.list", tok, filter={"PHONE": "+79001112233"}, select=["ID", "PHONE"])
    assert [x["ID"] for x in found["result"]] == [str(c["result"])]
    assert ok(portal, "crm.company.get", tok, id=co["result"])["result"]["ADDRESS"] == "ул. Арбат, 1"


def test_every_write_emits_its_event(portal, tok, receiver):
    for ev in ("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE", "ONCRMCOMPANYADD"):
        ok(portal, "event.bind", tok, event=ev, handler=receiver.url + "/ev")
    did = ok(portal, "crm.deal.add", tok, fields={"TITLE": "x"})["result"]
    ok(portal, "crm.deal.update", tok, id=did, fields={"TITLE": "y"})
    ok(portal, "crm.deal.delete", tok, id=did)
    ok(portal, "crm.company.add", tok, fields={"TITLE": "c"})
    assert portal.wait_events(5)
    got = [(r.form["event"], r.form["data[FIELDS][ID]"]) for r in receiver.got if r.path == "/ev"]
    assert got == [("ONCRMDEALADD", str(did)), ("ONCRMDEALUPDATE", str(did)), ("ONCRMDEALDELETE", str(did)),
                   ("ONCRMCOMPANYADD", "1")]


@pytest.mark.slow
def test_huge_export_10000_deals_is_fast(portal, tok):
    """The huge-data export over 10,000 deals: every row once, one page of 50 per call (how fast it is:
    ``python -m bench sandbox_lists`` — timings are measured in bench/, never asserted here)."""
    demo.seed_deals(portal.db, 10_000)
    last, seen, calls = 0, 0, 0
    session = requests.Session()
    while True:
        r = session.post(f"{portal.url}/rest/crm.deal.list.json", json={
            "auth": tok, "order": {"ID": "ASC"}, "filter": {">ID": last}, "select": ["ID", "TITLE"], "start": -1})
        calls += 1
        rows = r.json()["result"]
        seen += len(rows)
        if len(rows) < 50:
            break
        last = int(rows[-1]["ID"])
    assert seen == 10_000 and calls == 10_000 // 50 + 1
