"""The intake screen's JSON against the installed demo sandbox portal over HTTP: one caller found by
differently written numbers, the equipment's warranty left computed exactly (fixed clock in the domain
call, the portal's today over HTTP), no match → empty answer with a message, a request deal written with
the company/contact, 400/403 cases."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import requests

from b24app import session as page_sessions
from tests import pagesession
from desk.lookup import lookup

from .conftest import seed_caller


def _eq(doc, desk):
    (co,) = [c for c in doc["companies"] if c["id"] == desk.company_id]
    return {q["id"]: q for q in co["equipment"]}, co


def test_differently_written_numbers_find_the_same_client(desk):
    seen = []
    for phone in ("+7 (916) 555-12-34", "89165551234", "8 (916) 555-12-34", "7 916 555 12 34", "9165551234"):
        r = desk.get("/api/desk/lookup", params={"phone": phone})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["found"] is True and doc["phone"] == "+79165551234"
        seen.append(([c["id"] for c in doc["companies"]], [c["id"] for c in doc["contacts"]]))
    assert seen == [([desk.company_id], [desk.contact_id])] * 5
    co = doc["companies"][0]
    assert co["title"] == "ООО «СтарТек-Агро»" and co["address"] == "Липецк, ул. Полевая, 7"
    assert doc["contacts"][0]["name"] == "Полевой Пётр" and doc["contacts"][0]["company_id"] == desk.company_id


def test_warranty_left_over_http_uses_the_portal_today(desk):
    doc = desk.get("/api/desk/lookup", params={"phone": "+79165551234"}).json()
    assert doc["today"] == desk.today.isoformat()
    eq, _ = _eq(doc, desk)
    t, h, s = eq[desk.equipment["tractor"]], eq[desk.equipment["harvester"]], eq[desk.equipment["seeder"]]
    assert (t["model"], t["serial"], t["days_left"], t["hours_left"], t["on_warranty"]) == \
        ("Беларус 1221", "SN-1221-001", 45, 749.5, True)
    assert (h["days_left"], h["hours_left"], h["on_warranty"]) == (-3, 2900.0, False)
    assert (s["days_left"], s["hours_left"], s["on_warranty"]) == (200, 0.0, False)
    assert t["path"] == f"/crm/type/{desk.eq.entity_type_id}/details/{t['id']}/"


def test_warranty_left_with_a_fixed_clock_in_the_portal_zone(visits):
    from datetime import date

    desk = seed_caller(visits, date(2026, 3, 1))
    # 2026-02-28 22:30 UTC is already March 1 in Moscow (the portal's zone): days count from March 1
    now = datetime(2026, 2, 28, 22, 30, tzinfo=ZoneInfo("UTC"))
    doc = lookup(visits.services, visits.member_id, "8-916-555-12-34", now=now)
    eq, _ = _eq(doc, desk)
    assert doc["today"] == "2026-03-01"
    assert eq[desk.equipment["tractor"]]["warranty_end"] == "2026-04-15"
    assert eq[desk.equipment["tractor"]]["days_left"] == 45
    assert eq[desk.equipment["harvester"]]["days_left"] == -3


def test_deals_open_and_last_closed_with_stage_names(desk):
    doc = desk.get("/api/desk/lookup", params={"phone": "+79165551234"}).json()
    _, co = _eq(doc, desk)
    assert [d["id"] for d in co["deals"]["open"]] == [desk.deals["open"]]
    assert {d["id"] for d in co["deals"]["closed"]} == {desk.deals["won"], desk.deals["lost"]}
    names = {s["STATUS_ID"]: s["NAME"] for s in desk.vs.client.list_all("crm.status.list",
                                                                         {"filter": {"ENTITY_ID": "DEAL_STAGE"}})}
    assert co["deals"]["open"][0]["stage"] == names["NEW"] and names["NEW"] != "NEW"
    assert co["deals"]["open"][0]["path"] == f"/crm/deal/details/{desk.deals['open']}/"


def test_no_match_is_an_empty_answer_with_a_message(desk):
    doc = desk.get("/api/desk/lookup", params={"phone": "+7 900 000-00-01"}).json()
    assert doc["found"] is False and doc["companies"] == [] and doc["contacts"] == []
    assert "не найден" in doc["message"]
    en = desk.get("/api/desk/lookup", params={"phone": "+7 900 000-00-01"}, token=desk.token("en")).json()
    assert "No client has this phone" in en["message"]


def test_request_creates_a_deal_for_the_company_and_contact(desk):
    before = len(desk.vs.portal.db.deals.rows)
    r = desk.post("/api/desk/request", {"phone": "8 916 555 12 34", "company_id": desk.company_id,
                                        "contact_id": desk.contact_id, "equipment_id": desk.equipment["tractor"],
                                        "comment": "Не заводится"})
    assert r.status_code == 201, r.text
    out = r.json()
    deal = desk.vs.client.call("crm.deal.get", {"id": out["deal_id"]})
    assert deal["TITLE"] == "Заявка на сервис: +79165551234 — Беларус 1221 SN-1221-001" == out["title"]
    assert (deal["COMPANY_ID"], deal["CONTACT_ID"], deal["CATEGORY_ID"]) == \
        (str(desk.company_id), str(desk.contact_id), "0")
    assert deal["COMMENTS"] == "Не заводится" and out["path"] == f"/crm/deal/details/{out['deal_id']}/"
    assert len(desk.vs.portal.db.deals.rows) == before + 1
    # the new request is an open deal of the client the next time they call
    doc = desk.get("/api/desk/lookup", params={"phone": "+79165551234"}).json()
    assert out["deal_id"] in [d["id"] for d in doc["companies"][0]["deals"]["open"]]


def test_request_goes_to_the_configured_pipeline(desk):
    from desk.service_request import KV_CATEGORY

    cat = int(desk.vs.client.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Сервис"}})
              ["category"]["id"])
    desk.vs.live.store.kv.set(desk.vs.member_id, KV_CATEGORY, cat)
    out = desk.post("/api/desk/request", {"phone": "+79165551234", "company_id": desk.company_id}).json()
    deal = desk.vs.client.call("crm.deal.get", {"id": out["deal_id"]})
    assert deal["CATEGORY_ID"] == str(cat) and deal["CONTACT_ID"] in (None, "", "0")


def test_bad_input_is_400_and_writes_nothing(desk):
    before = len(desk.vs.portal.db.deals.rows)
    for params in ({"phone": "abc"}, {"phone": "123"}, {}):
        r = desk.get("/api/desk/lookup", params=params)
        assert r.status_code == 400 and r.json()["error"] == "BAD_REQUEST" and "phone" in r.json()["error_description"]
    other = desk.add_equipment("other", "X", "Y", desk.today, None, None,
                               company_id=int(desk.vs.company(0)["ID"]))
    cases = [
        ({"phone": "nope", "company_id": desk.company_id}, "phone"),
        ({"phone": "+79165551234"}, "company_id or contact_id"),
        ({"phone": "+79165551234", "company_id": "x"}, "company_id"),
        ({"phone": "+79165551234", "company_id": 999999}, "not found"),
        ({"phone": "+79165551234", "contact_id": 999999}, "not found"),
        ({"phone": "+79165551234", "company_id": desk.company_id, "equipment_id": 999999}, "equipment_id"),
        ({"phone": "+79165551234", "company_id": desk.company_id, "equipment_id": other}, "is not the company's"),
        ([1, 2], "JSON object"),
    ]
    for body, needle in cases:
        r = desk.post("/api/desk/request", body)
        assert r.status_code == 400, (body, r.text)
        assert needle in r.json()["error_description"], (body, r.text)
    assert len(desk.vs.portal.db.deals.rows) == before


def test_other_portal_and_no_session_are_refused(desk):
    stranger = pagesession.for_live(desk.vs.live, page_sessions.PageSession("no-such-member", 1, "ru"))
    r = desk.get("/api/desk/lookup", params={"phone": "+79165551234"}, token=stranger)
    assert r.status_code == 403 and r.json()["error"] == "PORTAL_NOT_INSTALLED"
    r = desk.post("/api/desk/request", {"phone": "+79165551234", "company_id": desk.company_id}, token=stranger)
    assert r.status_code == 403
    r = requests.get(desk.vs.live.url + "/api/desk/lookup", params={"phone": "+79165551234"}, timeout=30)
    assert r.status_code in (401, 403)


def test_a_private_caller_without_company_gets_their_own_deals_and_request(desk):
    client = desk.vs.client
    person = int(client.call("crm.contact.add", {"fields": {
        "NAME": "Анна", "LAST_NAME": "Фермерова", "PHONE": [{"VALUE": "+7 903 111-22-33", "VALUE_TYPE": "MOBILE"}]}}))
    done = int(client.call("crm.deal.add",
                           {"fields": {"TITLE": "ТО трактора", "CONTACT_ID": person, "STAGE_ID": "WON"}}))
    doc = desk.get("/api/desk/lookup", params={"phone": "8 (903) 111 22 33"}).json()
    assert doc["companies"] == [] and [c["id"] for c in doc["contacts"]] == [person]
    deals = doc["contacts"][0]["deals"]
    assert deals["open"] == [] and [d["id"] for d in deals["closed"]] == [done]
    out = desk.post("/api/desk/request", {"phone": "89031112233", "contact_id": person}).json()
    deal = client.call("crm.deal.get", {"id": out["deal_id"]})
    assert deal["CONTACT_ID"] == str(person) and deal["COMPANY_ID"] in (None, "", "0")
    assert deal["TITLE"] == "Заявка на сервис: +79031112233"
