"""The visit pages' JSON over HTTP against the installed app: company tab list + create, month calendar,
visit page (company fields edited in place, result with photo, repeat in one tap), company map (visited
yellow), stats against the plan, the day route with Yandex links, the phone link, and the frame pages."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import requests

from b24app import session as page_sessions
from visits.create import create_visit


@pytest.fixture
def api(visits):
    token = page_sessions.issue(visits.live.settings.secret_key, page_sessions.PageSession(
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
    assert status == 400 and "not a date" in err["error_description"]
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

    status, doc = api("POST", f"/api/visits/{vid}/result", json={"result": "Заказ на 3 позиции", "comment": "ok",
                                                                 "photo": {"name": "shelf.jpg",
                                                                           "content": "data:image/jpeg;base64,/9j/4AAQ"}})
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
        "photo": {"name": "../../полка 1.jpg", "content": "data:image/jpeg;base64," + base64.b64encode(photo).decode()}})
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
