"""What a rep does from a visit and from the company map (issue 14, seed 001), over HTTP against the sandbox
portal with the person's own page session: a task from the visit (bound to the visit and its company, for
the visit's responsible), the company's contacts read and edited from the visit (a new one added, a phone
changed in place), the company's pin moved on the map, and several companies picked on the map becoming a
day route — previewed, then planned as visits once even when the click comes twice. Bad input is refused in
Russian and leaves nothing written."""
from __future__ import annotations

from install.registry import installed_ids
from visits import create as vcreate
from tests.visits.test_day_route import DAY, _place
from tests.visits.test_pages_api import api  # noqa: F401 - fixture


def _visit(vs, n=30, when="2026-01-14T11:00"):
    item = vcreate.create_visit(vs.services, vs.member_id, vs.company(n)["ID"], when, "planned", "Презентация",
                                responsible=4, sync_calendar=False)
    return item


def test_a_task_from_the_visit_is_bound_to_the_visit_and_its_company(api):
    vs = api.visits
    item = _visit(vs)
    status, task = api("POST", f"/api/visits/{item['id']}/task",
                       json={"title": "Отправить прайс", "deadline": "2026-01-15T18:00"})
    assert status == 201, task
    row = vs.portal.db.tasks.get(task["id"])
    assert row["TITLE"] == "Отправить прайс" and int(row["RESPONSIBLE_ID"]) == 4 and int(row["CREATED_BY"]) == 1
    assert sorted(row["UF_CRM_TASK"]) == sorted([f"T{vs.v.entity_type_id:x}_{item['id']}", f"CO_{item['companyId']}"])
    assert row["DEADLINE"].startswith("2026-01-15T18:00")

    before = len(vs.portal.db.tasks.rows)
    for body, says in (({"title": "  "}, "название"), ({"title": "x", "deadline": "2020-01-01T10:00"}, "прошёл"),
                       ({"title": "x", "deadline": "завтра"}, "не дата")):
        status, err = api("POST", f"/api/visits/{item['id']}/task", json=body)
        assert status == 400 and says in err["error_description"], (body, err)
    assert len(vs.portal.db.tasks.rows) == before
    assert api("POST", "/api/visits/999999/task", json={"title": "x"})[0] == 404


def test_contacts_are_read_added_and_edited_from_the_visit(api):
    vs = api.visits
    item = _visit(vs, 31)
    company = int(item["companyId"])
    status, added = api("POST", f"/api/visits/company/{company}/contact",
                        json={"fields": {"NAME": "Ирина", "LAST_NAME": "Павлова", "POST": "Закупки",
                                         "PHONE": "+7 900 111-22-33", "EMAIL": "irina@example.ru"}})
    assert status == 201 and added["created"] is True
    page = api("GET", f"/api/visits/{item['id']}")[1]
    mine = next(c for c in page["contacts"] if c["id"] == added["id"])
    assert (mine["NAME"], mine["POST"], mine["PHONE"], mine["EMAIL"]) == ("Ирина", "Закупки", "+7 900 111-22-33",
                                                                          "irina@example.ru")
    phone_id = vs.portal.db.contacts.get(added["id"])["PHONE"][0]["ID"]

    status, res = api("POST", f"/api/visits/company/{company}/contact/{added['id']}",
                      json={"fields": {"PHONE": "+7 900 444-55-66", "POST": "Директор"}})
    assert status == 200 and res["changed"] == ["PHONE", "POST"]
    row = vs.portal.db.contacts.get(added["id"])
    assert [(p["ID"], p["VALUE"]) for p in row["PHONE"]] == [(phone_id, "+7 900 444-55-66")]   # in place
    assert row["POST"] == "Директор" and int(row["MODIFY_BY_ID"]) == 1                          # the person's own

    other = vs.company(32)["ID"]
    for path, body, says in (
            (f"/api/visits/company/{company}/contact/{added['id']}", {"fields": {"EMAIL": "not-mail"}}, "не адрес"),
            (f"/api/visits/company/{company}/contact/{added['id']}", {"fields": {"PHONE": "12"}}, "не номер"),
            (f"/api/visits/company/{company}/contact/{added['id']}", {"fields": {"COMPANY_ID": 1}}, "не правят"),
            (f"/api/visits/company/{other}/contact/{added['id']}", {"fields": {"POST": "x"}}, "не из компании"),
            (f"/api/visits/company/{company}/contact", {"fields": {"POST": "без имени"}}, "имя"),
            (f"/api/visits/company/{company}/contact", {"fields": "Ирина"}, "fields")):
        status, err = api("POST", path, json=body)
        assert status == 400 and says in err["error_description"], (path, body, err)
    assert vs.portal.db.contacts.get(added["id"])["POST"] == "Директор"


def test_the_company_pin_is_moved_on_the_map(api):
    vs = api.visits
    company = vs.company(33)["ID"]
    status, res = api("POST", f"/api/visits/company/{company}/pin", json={"lat": 55.7012, "lon": 37.5023})
    assert status == 200 and (res["lat"], res["lon"]) == (55.7012, 37.5023)
    coord_f = installed_ids(vs.live.store, vs.member_id).company_field("coordinates")
    assert vs.client.call("crm.company.get", {"id": company})[coord_f].startswith("55.7012")
    for body in ({"lat": 91, "lon": 0}, {"lat": "север"}, {}):
        assert api("POST", f"/api/visits/company/{company}/pin", json=body)[0] == 400


def test_companies_picked_on_the_map_become_a_day_route_and_visits_once(api):
    vs = api.visits
    picked = [_place(vs, 40 + i, lat, lon) for i, (lat, lon) in
              enumerate([(55.80, 37.70), (55.70, 37.50), (55.75, 37.60)])]
    status, preview = api("POST", "/api/visits/route/companies", json={"date": DAY, "company_ids": picked})
    assert status == 200 and sorted(s["company_id"] for s in preview["stops"]) == sorted(int(p) for p in picked)
    assert preview["created"] == [] and preview["links"] and all(s["start"] for s in preview["stops"])
    # the middle point is visited between the other two (the order drives least)
    order = [s["company_id"] for s in preview["stops"]]
    assert order.index(int(picked[2])) == 1, order

    body = {"date": DAY, "company_ids": picked, "create": True, "key": "click-1"}
    status, made = api("POST", "/api/visits/route/companies", json=body)
    assert status == 201 and len(made["created"]) == 3
    again = api("POST", "/api/visits/route/companies", json=body)[1]            # the same click, twice
    assert again["created"] == made["created"]
    v = vs.v
    for stop in made["stops"]:
        visit = vs.item(stop["visit_id"])
        assert int(visit["companyId"]) == stop["company_id"] and int(visit["assignedById"]) == 1
        assert visit[v.field("visit_date")][11:16] == stop["start"]

    for body, says in (({"date": DAY, "company_ids": []}, "хотя бы одну"),
                       ({"date": DAY, "company_ids": ["abc"]}, "не номер компании"),
                       ({"date": DAY, "company_ids": 5}, "список"),
                       ({"company_ids": picked}, "дата"),
                       ({"date": "2025-12-01", "company_ids": picked, "create": True}, "уже прошёл")):
        status, err = api("POST", "/api/visits/route/companies", json=body)
        assert status == 400 and says in err["error_description"], (body, err)


def test_a_route_start_typed_as_an_address_is_geocoded_and_a_bad_one_refused(api):
    """The visit settings' start points (administrator): an address becomes the point the day route starts
    from; the geocoder not finding it is a 400 naming it, nothing written; null removes the start."""
    import re

    import requests
    import responses

    from tests.visits.test_day_route import _headers

    vs = api.visits
    url, admin = vs.live.url + "/api/visits/settings", _headers(vs, admin=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru("http://127.0.0.1")
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*q=%D0%9C.*"),
                 json=[{"lat": "55.7576", "lon": "37.6135", "display_name": "Москва"}])
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), json=[])
        r = requests.post(url, headers=admin, json={"route_starts": {"4": "Москва, Тверская 7", "5": "55.7,37.5"}},
                          timeout=60)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["route_starts"] == {"4": [55.7576, 37.6135], "5": [55.7, 37.5]}
        assert doc["route_start_addresses"] == {"4": "Москва, Тверская 7"}
        assert set(doc["route_start_names"]) == {"4", "5"}
        r = requests.post(url, headers=admin, json={"route_starts": {"6": "Нигдеград"}}, timeout=60)
    assert r.status_code == 400 and "адрес не найден: Нигдеград" in r.json()["error_description"]
    r = requests.post(url, headers=admin, json={"route_starts": {"4": None}}, timeout=60)
    assert r.json()["route_starts"] == {"5": [55.7, 37.5]} and r.json()["route_start_addresses"] == {}
