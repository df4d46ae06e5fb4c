"""The visit pages' JSON over HTTP against the installed app: company tab list + create, month calendar,
visit page (company fields edited in place, result with photo, repeat in one tap), company map (visited
yellow), stats against the plan, the day route with Yandex links, the phone link, and the frame pages."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import requests

from b24app import session as page_sessions
from tests import pagesession
from visits.create import create_visit


@pytest.fixture
def api(visits):
    token = pagesession.for_live(visits.live, page_sessions.PageSession(
        member_id=visits.member_id, user_id=1, lang="ru"))

    def call(method: str, path: str, **kw):
        r = requests.request(method, visits.live.url + path, headers={page_sessions.HEADER: token}, timeout=30, **kw)
        return r.status_code, r.json()
    call.visits, call.token = visits, token
    return call


def test_company_tab_lists_and_creates(api):
    vs = api.visits
    company = vs.company(20)
    status, doc = api("GET", f"/api/visits/company/{company['ID']}")
    assert status == 200 and doc == {"planned": [], "past": []}
    status, doc = api("POST", "/api/visits", json={"company_id": company["ID"], "date": "2026-01-12T10:00",
                                                   "type": "planned", "purpose": "<b>Презентация</b>"})
    assert status == 201 and doc["visit"]["stage"] == "draft"
    assert doc["visit"]["purpose"] == "<b>Презентация</b>"          # stored as typed; the page uses textContent
    status, doc = api("GET", f"/api/visits/company/{company['ID']}")
    assert [r["purpose"] for r in doc["planned"]] == ["<b>Презентация</b>"]
    status, err = api("POST", "/api/visits", json={"company_id": company["ID"], "date": "nope"})
    assert status == 400 and "«nope» — не дата" in err["error_description"]          # the session's LANG: ru
    r = requests.get(vs.live.url + f"/api/visits/company/{company['ID']}", timeout=10)
    assert r.status_code == 401


def test_month_visit_page_result_repeat_and_company_edit(api):
    vs = api.visits
    company = vs.company(21)
    vid = create_visit(vs.services, vs.member_id, company["ID"], "2026-01-14T11:00", purpose="Полки")["id"]
    status, doc = api("GET", "/api/visits/month?month=2026-01")
    assert status == 200 and doc["month"] == "2026-01" and [v["id"] for v in doc["visits"]] == [vid]
    assert doc["companies"][str(company["ID"])] == company["TITLE"]
    assert doc["managers"][str(company["ASSIGNED_BY_ID"])]
    status, page = api("GET", f"/api/visits/{vid}")
    assert status == 200 and page["company"]["TITLE"] == company["TITLE"]
    assert [v["id"] for v in page["company_visits"]["planned"]] == [vid]

    status, doc = api("POST", f"/api/visits/company/{company['ID']}", json={"fields": {"ADDRESS": "ул. Новая, 1",
                                                                                       "OPPORTUNITY": "9"}})
    assert status == 200 and doc["changed"] == ["ADDRESS"]
    assert vs.portal.db.companies.get(company["ID"])["ADDRESS"] == "ул. Новая, 1"

    status, doc = api("POST", f"/api/visits/{vid}/result", json={
        "result": "Заказ на 3 позиции", "comment": "ok",
        "photo": {"name": "shelf.jpg", "content": "data:image/jpeg;base64,/9j/4AAQ"}})
    assert status == 200 and vs.stage_key(vid) == "done"
    assert any("Заказ на 3 позиции" in c for c in vs.comments(vid))
    status, doc = api("POST", f"/api/visits/{vid}/repeat", json={"date": "2026-02-02"})
    assert status == 201 and doc["visit"]["stage"] == "repeat_visit" and doc["visit"]["company_id"] == company["ID"]
    status, _ = api("GET", "/api/visits/999999")
    assert status == 404


def test_company_map_stats_and_route(api):
    vs = api.visits
    c1, c2, c3 = vs.company(30), vs.company(31), vs.company(32)
    now = vs.now()
    day = now.astimezone(ZoneInfo("Europe/Moscow")).date().isoformat()
    done = create_visit(vs.services, vs.member_id, c1["ID"], f"{day}T09:00", responsible=2)["id"]
    api("POST", f"/api/visits/{done}/result", json={"result": "Был"})
    create_visit(vs.services, vs.member_id, c2["ID"], f"{day}T15:00", responsible=2)
    create_visit(vs.services, vs.member_id, c3["ID"], f"{day}T12:00", responsible=2)
    status, doc = api("GET", f"/api/visits/map?period={day[:7]}")     # the portal clock is not today
    assert status == 200 and len(doc["markers"]) == 300
    yellow = [m for m in doc["markers"] if m["visited"]]
    assert [m["id"] for m in yellow] == [c1["ID"]] and yellow[0]["color"] == "#FFD400"
    vs.live.store.kv.set(vs.member_id, "visits.plan", {"2": 10})
    status, doc = api("GET", f"/api/visits/stats?month={day[:7]}")
    row = next(r for r in doc["rows"] if r["manager"] == 2)
    assert (row["done"], row["open"], row["plan"], row["percent"]) == (1, 2, 10, 10)
    status, doc = api("GET", f"/api/visits/route?manager=2&date={day}")
    assert status == 200 and len(doc["stops"]) == 2            # the done one is not on today's route
    assert doc["links"] and doc["links"][0].startswith("https://yandex.ru/maps/")


def test_phone_link_opens_the_pages_without_the_frame(api):
    status, doc = api("POST", "/api/visits/phone-link")
    assert status == 200 and "/m/" in doc["url"]
    r = requests.get(doc["url"], timeout=10)
    assert r.status_code == 200 and "b24app-config" in r.text and "visits.js" in r.text
    assert requests.get(api.visits.live.url + "/m/forged", timeout=10).status_code == 401


def test_frame_pages_are_verified(api):
    vs = api.visits
    r = requests.post(vs.live.url + "/placements/visit-calendar", data={"AUTH_ID": "bad", "member_id": vs.member_id,
                                                                        "DOMAIN": vs.portal.domain}, timeout=10)
    assert r.status_code in (401, 403)


def _jpeg(n: int) -> bytes:
    """A JPEG header and ``n`` bytes of noise: enough for the portal to call it an image."""
    import os

    return b"\xff\xd8\xff\xe0" + os.urandom(n)


def test_result_photo_lands_on_the_timeline_with_its_name_and_content(api):
    import base64

    vs = api.visits
    vid = create_visit(vs.services, vs.member_id, vs.company(22)["ID"], "2026-01-15T11:00")["id"]
    photo = _jpeg(300_000)
    before = len(vs.portal.log)
    status, doc = api("POST", f"/api/visits/{vid}/result", json={
        "result": "Выкладка по планограмме", "comment": "фото полки",
        "photo": {"name": "../../полка 1.jpg",
                  "content": "data:image/jpeg;base64," + base64.b64encode(photo).decode()}})
    assert status == 200, doc
    assert doc["files"] == ["полка 1.jpg"] and vs.stage_key(vid) == "done"
    (row,) = [c for c in vs.portal.db.comments.rows.values()
              if c["ENTITY_ID"] == vid and c["ENTITY_TYPE"] == f"dynamic_{vs.v.entity_type_id}"]
    assert "Выкладка по планограмме" in row["COMMENT"] and "фото полки" in row["COMMENT"]
    (f,) = row["FILES"]
    assert (f["name"], f["content"], f["size"], f["type"]) == ("полка 1.jpg", photo, len(photo), "image")
    got = vs.client.call("crm.timeline.comment.get", {"id": doc["comment_id"]})
    assert [(x["name"], x["size"]) for x in got["FILES"].values()] == [("полка 1.jpg", len(photo))]
    # the base64 went in a direct call, not inside a batch
    adds = [r for r in vs.portal.log[before:] if r.method == "crm.timeline.comment.add"]
    assert [r.via for r in adds] == ["http"]


def test_a_photo_over_the_limit_or_not_base64_is_refused_and_nothing_is_written(api):
    import base64

    from visits.act import MAX_PHOTO_BYTES

    vs = api.visits
    vid = create_visit(vs.services, vs.member_id, vs.company(23)["ID"], "2026-01-16T11:00")["id"]
    big = base64.b64encode(_jpeg(MAX_PHOTO_BYTES)).decode()
    status, err = api("POST", f"/api/visits/{vid}/result", json={"result": "Был", "photo": {"name": "a.jpg",
                                                                                           "content": big}})
    assert status == 413 and err["error"] == "PHOTO_TOO_LARGE" and "не больше 2 МБ" in err["error_description"]
    status, err = api("POST", f"/api/visits/{vid}/result", json={"result": "Был", "photo": {"name": "a.jpg",
                                                                                           "content": "not*b64"}})
    assert status == 400 and "base64" in err["error_description"]
    assert vs.stage_key(vid) == "draft" and vs.comments(vid) == []


def test_day_route_is_the_shortest_order_of_the_days_visits(api):
    """Five date-only (flexible) visits of one manager on one day, created in a scrambled order: the route
    answers the order with the least driving of all 4! orders after the start (brute force over the same
    travel model); with no start point set, the day starts at the first visit."""
    from itertools import permutations

    from install.registry import installed_ids
    from maps.geo import TravelModel

    vs = api.visits
    coord_f = installed_ids(vs.live.store, vs.member_id).company_field("coordinates")
    places = [(55.700, 37.500), (55.790, 37.710), (55.720, 37.560), (55.760, 37.690), (55.745, 37.600)]
    companies = [vs.company(60 + i) for i in range(len(places))]
    for c, (lat, lon) in zip(companies, places):
        vs.client.call("crm.company.update", {"id": c["ID"], "fields": {coord_f: f"{lat},{lon}"}})
    day = "2026-01-20"
    for c in companies:
        create_visit(vs.services, vs.member_id, c["ID"], f"{day}T00:00", responsible=4, sync_calendar=False)
    status, doc = api("GET", f"/api/visits/route?manager=4&date={day}")
    assert status == 200, doc
    got = [s["company_id"] for s in doc["stops"]]
    travel, at = TravelModel(), dict(zip((c["ID"] for c in companies), places))

    def drive(order):
        pts = [at[companies[0]["ID"]]] + [at[i] for i in order]
        return sum(travel.minutes(a, b) for a, b in zip(pts, pts[1:]))
    rest = [c["ID"] for c in companies[1:]]
    best = min(permutations(rest), key=drive)
    assert got[0] == companies[0]["ID"] and tuple(got[1:]) == best
    assert drive(got[1:]) < drive(rest)                          # the creation order is not the answer
    assert doc["drive_minutes"] == round(drive(best))
    assert all(s["arrive"] for s in doc["stops"]) and doc["links"][0].startswith("https://yandex.ru/maps/")


def _session(vs, lang="ru", admin=False) -> str:
    return pagesession.for_live(vs.live, page_sessions.PageSession(
        member_id=vs.member_id, user_id=1, lang=lang, is_admin=admin))


def test_admin_chooses_the_popup_fields_and_the_map_shows_them(api):
    from install.registry import installed_ids

    vs = api.visits
    admin = {page_sessions.HEADER: _session(vs, admin=True)}
    url = vs.live.url + "/api/visits/settings"
    r = requests.get(url, headers=admin, timeout=30)
    assert r.status_code == 200
    doc = r.json()
    codes = {f["code"] for f in doc["company_fields"]}
    region = installed_ids(vs.live.store, vs.member_id).company_field("region")
    assert {"TITLE", "PHONE", "COMMENTS", region} <= codes                  # the portal's own fields, UF included
    assert [f["code"] for f in doc["popup_fields"]] == ["ADDRESS", "PHONE"] and doc["visited_period"] == "month"

    # not an administrator → 403; bad values → 400 naming them, nothing saved
    assert requests.get(url, headers={page_sessions.HEADER: api.token}, timeout=30).status_code == 403
    assert api("POST", "/api/visits/settings", json={"popup_fields": ["COMMENTS"]})[0] == 403
    for body, text in [({"popup_fields": ["COMMENTS", "UF_CRM_NOPE"]}, "UF_CRM_NOPE"),
                       ({"popup_fields": "COMMENTS"}, "нужен список"),
                       ({"popup_fields": ["COMMENTS"], "visited_period": "fortnight"}, "'fortnight'"),
                       ({"visited_period": "2026-13"}, "'2026-13'"), ({"visited_period": "0d"}, "'0d'"),
                       ({"popup_fields": [f"F{i}" for i in range(9)]}, "не больше 8"), ({}, "popup_fields")]:
        r = requests.post(url, headers=admin, json=body, timeout=30)
        assert r.status_code == 400 and r.json()["error"] == "BAD_SETTINGS", (body, r.text)
        assert text in r.json()["error_description"], (body, r.text)
    r = requests.post(url, headers=admin, data="nope", timeout=30)
    assert r.status_code == 400
    assert vs.live.store.kv.get(vs.member_id, "visits.popup_fields") is None

    r = requests.post(url, headers=admin, json={"popup_fields": ["COMMENTS", region, "PHONE"], "visited_period": "14d"},
                      timeout=30)
    assert r.status_code == 200, r.text
    assert [f["code"] for f in r.json()["popup_fields"]] == ["COMMENTS", region, "PHONE"]
    assert r.json()["visited_period"] == "14d"

    c = vs.company(70)
    vs.client.call("crm.company.update", {"id": c["ID"], "fields": {
        "COMMENTS": "<img src=x onerror=alert(1)>", region: "Юг",
        "PHONE": [{"VALUE": "+7 900 000-00-00", "VALUE_TYPE": "WORK"}]}})
    status, doc = api("GET", "/api/visits/map")
    assert status == 200 and doc["period"] == "14d"                    # the configured period by default
    m = next(x for x in doc["markers"] if x["id"] == c["ID"])
    assert [(f["code"], f["value"]) for f in m["fields"][:2]] == [("COMMENTS", "<img src=x onerror=alert(1)>"),
                                                                   (region, "Юг")]
    assert m["fields"][2]["code"] == "PHONE" and "+7 900 000-00-00" in m["fields"][2]["value"].split(", ")
    assert all(f["label"] for f in m["fields"])
    status, err = api("GET", "/api/visits/map?period=someday")
    assert status == 400 and "'someday'" in err["error_description"]


def test_the_page_gets_the_configured_period_and_english_strings(api):
    import json
    import re

    vs = api.visits
    vs.live.store.kv.set(vs.member_id, "visits.visited_period", "45d")

    def config(lang):
        r = requests.get(pagesession.phone_link(vs.live, _session(vs, lang)), timeout=10)
        assert r.status_code == 200
        raw = re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>', r.text, re.S).group(1)
        return r.text, json.loads(raw)
    html, cfg = config("en")
    assert cfg["visited_period"] == "45d" and cfg["lang"] == "en" and '<html lang="en">' in html
    assert cfg["s"]["tab.calendar"] == "Calendar" and cfg["s"]["register"] == "Register a visit"
    assert cfg["s"]["stages"]["overdue"] == "Overdue" and cfg["s"]["types"]["training"] == "Training"
    cyrillic = [k for k, v in cfg["s"].items() if isinstance(v, str) and re.search("[а-яА-Я]", v)]
    assert cyrillic == []
    html, cfg = config("ru")
    assert cfg["s"]["tab.calendar"] == "Календарь" and '<html lang="ru">' in html


def test_the_frame_of_an_administrator_gets_the_settings_and_the_portal_language(api):
    """The frame POST as the portal sends it (LANG=en): the page is English; ``user.admin`` with the frame's
    own token decides whether its session may read and change the settings."""
    import json
    import re

    from b24sandbox.frames import frame_data, with_query

    vs = api.visits
    others = [u["ID"] for u in vs.portal.db.users.rows.values() if not u.get("IS_ADMIN")]
    assert vs.portal.db.is_admin(1) and others

    def open_frame(user_id):
        query, form = frame_data(vs.portal, vs.live.client_id, user_id=user_id, lang="en", placement="LEFT_MENU")
        r = requests.post(with_query(vs.live.url + "/placements/visit-calendar", query), data=form, timeout=30)
        assert r.status_code == 200, r.text[:300]
        raw = re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>', r.text, re.S).group(1)
        return json.loads(raw)
    cfg = open_frame(1)
    assert cfg["is_admin"] is True and cfg["lang"] == "en" and cfg["s"]["tab.settings"] == "Settings"
    r = requests.get(vs.live.url + "/api/visits/settings", headers={page_sessions.HEADER: cfg["session"]}, timeout=30)
    assert r.status_code == 200 and r.json()["company_fields"]
    cfg = open_frame(others[0])
    assert cfg["is_admin"] is False
    r = requests.get(vs.live.url + "/api/visits/settings", headers={page_sessions.HEADER: cfg["session"]}, timeout=30)
    assert r.status_code == 403 and "administrator" in r.json()["error_description"]
