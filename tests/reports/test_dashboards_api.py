"""The dashboards' JSON and CSV over HTTP against the installed app on the sandbox portal: exact counts
for a known set of visits (regions × stages, period edges in the portal's zone), plan vs fact per
employee, jobs per worker, CSV bytes (BOM, ``;``, Cyrillic, formula guard), 400 / 401 / 403, and the frame
page taking precedence over the generic placement page."""
from __future__ import annotations

import csv
import io
import re
from datetime import date

import requests

from b24app import session as page_sessions
from tests import pagesession
from reports.period import parse
from reports.plan import for_period

JAN = "from=2026-01-01&to=2026-01-31"
MOSCOW = {"region": "Москва", "planned": 1, "done": 2, "overdue": 1, "failed": 0, "total": 4}
KAZAN = {"region": "Казань", "planned": 2, "done": 1, "overdue": 0, "failed": 1, "total": 4}
NONE = {"region": "", "planned": 1, "done": 0, "overdue": 0, "failed": 0, "total": 1}


def _emp(doc):
    return {e["user_id"]: {k: e[k] for k in ("name", "plan", "fact", "percent", "on_time", "on_time_percent",
                                             "overdue", "failed", "planned", "total")} for e in doc["employees"]}


def test_visits_by_region_and_plan_vs_fact_for_january(known):
    r = known.api(f"/api/reports/visits?{JAN}")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["period"] == {"kind": "custom", "from": "2026-01-01", "to": "2026-01-31"}
    assert doc["regions"] == [KAZAN, MOSCOW, NONE]                          # named regions by name, none last
    assert doc["totals"] == {"planned": 4, "done": 3, "overdue": 1, "failed": 1, "total": 9}
    assert _emp(doc) == {
        2: {"name": "Мария Менеджерова", "plan": 10.0, "fact": 2, "percent": 20, "on_time": 1, "on_time_percent": 50,
            "overdue": 1, "failed": 0, "planned": 2, "total": 5},
        3: {"name": "Олег Сотрудников", "plan": 4.0, "fact": 1, "percent": 25, "on_time": 1, "on_time_percent": 100,
            "overdue": 0, "failed": 1, "planned": 2, "total": 4},
        4: {"name": "Алексей Смирнов", "plan": 6.0, "fact": 0, "percent": 0, "on_time": 0, "on_time_percent": None,
            "overdue": 0, "failed": 0, "planned": 0, "total": 0},            # a plan, no visits: still shown
    }
    assert doc["options"]["regions"] == ["Казань", "Москва"]
    assert doc["read"]["rows"] == 9 and doc["read"]["http_calls"] == 1      # 9 rows: the probe call is the end


def test_a_half_month_prorates_the_plan_and_a_quarter_triples_it(known):
    doc = known.api("/api/reports/visits?from=2026-01-01&to=2026-01-15").json()
    assert doc["regions"] == [{**KAZAN, "planned": 1, "total": 3}, {**MOSCOW, "planned": 0, "total": 3},
                              NONE]
    assert {u: (e["plan"], e["fact"]) for u, e in _emp(doc).items()} == {2: (4.8, 2), 3: (1.9, 1), 4: (2.9, 0)}
    q = parse("quarter", None, None, None, today=date(2026, 1, 20))
    assert (q.first, q.last) == (date(2026, 1, 1), date(2026, 3, 31))
    assert for_period(10, q.first, q.last) == 30.0


def test_filters_by_region_and_by_employee(known):
    doc = known.api(f"/api/reports/visits?{JAN}&region=Москва").json()
    assert doc["regions"] == [MOSCOW] and doc["totals"]["total"] == 4
    assert list(_emp(doc)) == [2] and _emp(doc)[2]["total"] == 4 and _emp(doc)[2]["plan"] == 10.0
    doc = known.api(f"/api/reports/visits?{JAN}&user=3").json()
    assert doc["regions"] == [KAZAN] and list(_emp(doc)) == [3]
    doc = known.api(f"/api/reports/visits?{JAN}&region=Тверь").json()
    assert doc["regions"] == [] and doc["employees"] == [] and doc["totals"]["total"] == 0


def test_the_default_period_is_this_month_in_the_portal_zone(known):
    from zoneinfo import ZoneInfo

    r = known.api("/api/reports/visits")
    assert r.status_code == 200
    p = parse(None, None, None, ZoneInfo("Europe/Moscow"))
    assert r.json()["period"] == {"kind": "month", "from": p.first.isoformat(), "to": p.last.isoformat()}
    w = parse("week", None, None, None, today=date(2026, 1, 14))
    assert (w.first, w.last) == (date(2026, 1, 12), date(2026, 1, 18))
    m = parse("month", None, None, None, today=date(2024, 2, 10))
    assert (m.first, m.last) == (date(2024, 2, 1), date(2024, 2, 29))


def test_jobs_per_worker(known):
    doc = known.api(f"/api/reports/jobs?{JAN}").json()
    assert [(w["worker_id"], w["name"], w["jobs"], w["finished"], w["on_site_minutes"], w["travel_minutes"],
             w["avg_on_site_minutes"], w["avg_travel_minutes"]) for w in doc["workers"]] == [
        (4, "Алексей Смирнов", 2, 2, 115, 65, 57.5, 32.5),
        (5, "Дмитрий Кузнецов", 1, 0, 0, 60, None, 60.0)]
    assert doc["totals"] == {"jobs": 3, "finished": 2, "on_site_minutes": 115, "travel_minutes": 125}
    doc = known.api(f"/api/reports/jobs?{JAN}&user=5").json()
    assert [w["worker_id"] for w in doc["workers"]] == [5]
    doc = known.api("/api/reports/jobs?from=2026-02-01&to=2026-02-28").json()
    assert [(w["worker_id"], w["jobs"]) for w in doc["workers"]] == [(5, 1)]


def _csv(resp):
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    raw = resp.content
    assert raw.startswith(b"\xef\xbb\xbf")                       # the BOM Excel needs for UTF-8
    text = raw[3:].decode("utf-8")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_csv_of_each_table(known, cloud):
    rows = _csv(known.api(f"/api/reports/visits.csv?table=regions&{JAN}"))
    assert rows == [["Регион", "Запланировано", "Визит проведен", "Просрочено", "Визит не состоялся", "Всего"],
                    ["Казань", "2", "1", "0", "1", "4"], ["Москва", "1", "2", "1", "0", "4"],
                    ["(без региона)", "1", "0", "0", "0", "1"], ["Итого", "4", "3", "1", "1", "9"]]
    rows = _csv(known.api("/api/reports/visits.csv?table=employees&from=2026-01-01&to=2026-01-15"))
    assert rows[0][:4] == ["Сотрудник", "План", "Факт", "% плана"]
    assert rows[1] == ["Мария Менеджерова", "4,8", "2", "42", "1", "50", "1", "0", "1", "4"]   # decimal comma
    assert rows[3] == ["Алексей Смирнов", "2,9", "0", "0", "0", "", "0", "0", "0", "0"]
    rows = _csv(known.api(f"/api/reports/jobs.csv?{JAN}"))
    assert rows == [["Сотрудник", "Выездов", "Завершено", "На месте, мин", "В дороге, мин",
                     "На месте в среднем, мин", "В дороге в среднем, мин"],
                    ["Алексей Смирнов", "2", "2", "115", "65", "57,5", "32,5"],
                    ["Дмитрий Кузнецов", "1", "0", "0", "60", "", "60"],
                    ["Итого", "3", "2", "115", "125", "", ""]]
    en = pagesession.for_live(known.vs.live, page_sessions.PageSession(
        member_id=known.vs.member_id, user_id=1, lang="en"))
    rows = _csv(known.api(f"/api/reports/jobs.csv?{JAN}", token=en))
    assert rows[0][0] == "Worker" and rows[1][-2:] == ["57.5", "32.5"]
    # a page session never travels in a URL: in the query it is no session at all
    live = known.vs.live
    r = requests.get(live.url + f"/api/reports/visits.csv?table=regions&{JAN}&session={known.token}", timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "NO_SESSION"
    # a link (a browser, Excel, Power BI) gets a one-time download URL instead: the CSV once, then 401
    r = requests.post(live.url + "/api/reports/download", headers={page_sessions.HEADER: known.token}, timeout=30,
                      json={"path": f"/api/reports/visits.csv?table=regions&{JAN}"})
    assert r.status_code == 200 and r.json()["expires_in"] == 60, r.text
    link = r.json()["url"]
    assert link.startswith(live.url + "/api/reports/download/") and known.token not in link
    rows = _csv(requests.get(link, timeout=30))
    assert rows[1] == ["Казань", "2", "1", "0", "1", "4"] and rows[-1][0] == "Итого"
    again = requests.get(link, timeout=30)
    assert again.status_code == 401 and again.json()["error"] == "DOWNLOAD_USED"
    token = link.rsplit("/", 1)[1]
    assert known.api(f"/api/reports/visits?{JAN}", token=token).status_code == 401     # not a page session
    assert requests.get(live.url + f"/api/reports/download/{known.token}", timeout=30).status_code == 401
    # another portal's token is refused: its session gets none, and one made for it is not served
    other = cloud.add_portal(seed="empty")
    theirs = pagesession.for_live(live, page_sessions.PageSession(member_id=other.member_id, user_id=1, lang="ru"))
    r = requests.post(live.url + "/api/reports/download", headers={page_sessions.HEADER: theirs}, timeout=30,
                      json={"path": f"/api/reports/jobs.csv?{JAN}"})
    assert r.status_code == 403 and r.json()["error"] == "PORTAL_NOT_INSTALLED"
    minted = page_sessions.issue_download(live.store, page_sessions.read(live.store, theirs),
                                          {"path": "/api/reports/jobs.csv", "args": {}})
    r = requests.get(live.url + f"/api/reports/download/{minted}", timeout=30)
    assert r.status_code == 403 and r.json()["error"] == "PORTAL_NOT_INSTALLED"


def test_a_region_that_looks_like_a_formula_is_text_in_the_csv(known):
    from tests.reports.conftest import add_visits

    add_visits(known.vs, [("x", "2026-03-03T10:00", "draft", "=HYPERLINK(\"http://x\")", 2)])
    rows = _csv(known.api("/api/reports/visits.csv?table=regions&from=2026-03-01&to=2026-03-31"))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")"


def test_bad_input_is_400_with_the_parameter_named(known):
    cases = {"period=year": "period", "from=2026-01-01": "from и to", "from=2026-13-01&to=2026-01-02": "from",
             "from=2026-02-01&to=2026-01-01": "позже", "from=2025-01-01&to=2026-03-01": "366",
             f"{JAN}&user=masha": "user", f"{JAN}&user=-2": "user"}
    r = known.api(f"/api/reports/visits?{JAN}&region={'x' * 300}")
    assert r.status_code == 400 and "region" in r.json()["error_description"]
    for q, word in cases.items():
        for path in ("/api/reports/visits", "/api/reports/jobs"):
            r = known.api(f"{path}?{q}")
            assert r.status_code == 400, (path, q, r.text)
            assert r.json()["error"] == "BAD_REQUEST" and word in r.json()["error_description"], (q, r.json())
    r = known.api(f"/api/reports/visits.csv?table=deals&{JAN}")
    assert r.status_code == 400 and "table" in r.json()["error_description"]


def test_no_session_is_401_and_another_portal_is_403(known, cloud):
    vs = known.vs
    assert requests.get(vs.live.url + f"/api/reports/visits?{JAN}", timeout=10).status_code == 401
    forged = "forged-" + "x" * 40          # a bearer id the app never issued
    assert known.api(f"/api/reports/visits?{JAN}", token=forged).status_code == 401
    other = cloud.add_portal(seed="empty")          # a portal without the app: its session is refused
    token = pagesession.for_live(vs.live, page_sessions.PageSession(
        member_id=other.member_id, user_id=1, lang="ru"))
    for path in ("/api/reports/visits", "/api/reports/jobs", "/api/reports/visits.csv", "/api/reports/jobs.csv"):
        r = known.api(f"{path}?{JAN}", token=token)
        assert r.status_code == 403 and r.json()["error"] == "PORTAL_NOT_INSTALLED", (path, r.text)


def test_the_frame_opens_the_dashboards_not_the_generic_page(known):
    import json

    from b24sandbox.frames import frame_data, with_query

    from b24app import roles

    vs = known.vs
    roles.save(vs.live.store.kv, vs.member_id, {"users": {"2": ["sales_manager"]}})   # dashboards take a role
    for lang, title in (("ru", "Отчеты по выездам"), ("en", "Field reports")):
        query, form = frame_data(vs.portal, vs.live.client_id, user_id=2, lang=lang, placement="CRM_ANALYTICS_MENU")
        r = requests.post(with_query(vs.live.url + "/placements/dashboards", query), data=form, timeout=30)
        assert r.status_code == 200, r.text[:300]
        assert f'<html lang="{lang}">' in r.text and f"<h1>{title}</h1>" in r.text
        raw = re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>', r.text, re.S).group(1)
        cfg = json.loads(raw)
        assert cfg["lang"] == lang and cfg["s"]["title"] == title
        doc = known.api(f"/api/reports/visits?{JAN}", token=cfg["session"]).json()
        assert doc["totals"]["total"] == 9
    query, form = frame_data(vs.portal, vs.live.client_id, user_id=2, lang="ru", placement="CRM_ANALYTICS_MENU")
    form = {**form, "AUTH_ID": "forged"}
    r = requests.post(with_query(vs.live.url + "/placements/dashboards", query), data=form, timeout=30)
    assert r.status_code in (401, 403) and "b24app-config" not in r.text


def test_download_link_takes_only_a_csv_path_with_its_filters_and_lasts_a_minute(known):
    import time

    live = known.vs.live
    hdr = {page_sessions.HEADER: known.token}
    for body, word in [({}, "path"), ({"path": "/api/reports/visits?x=1"}, "path"),
                       ({"path": "http://evil.example/api/reports/jobs.csv"}, "path"),
                       ({"path": f"/api/reports/jobs.csv?{JAN}&session=x"}, "session"),
                       ({"path": f"/api/reports/visits.csv?table=deals&{JAN}"}, "table"),
                       ({"path": "/api/reports/jobs.csv?from=2026-02-01&to=2026-01-01"}, "позже")]:
        r = requests.post(live.url + "/api/reports/download", headers=hdr, json=body, timeout=30)
        assert r.status_code == 400 and word in r.json()["error_description"], (body, r.text)
    assert requests.post(live.url + "/api/reports/download", json={"path": "/api/reports/jobs.csv"},
                         timeout=30).status_code == 401
    sess = page_sessions.read(live.store, known.token)
    old = page_sessions.issue_download(live.store, sess, {"path": "/api/reports/jobs.csv", "args": {}},
                                       clock=lambda: time.time() - 61)
    r = requests.get(live.url + f"/api/reports/download/{old}", timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "DOWNLOAD_EXPIRED"
    with live.store.engine.connect() as c:                      # only a hash of the token is stored
        import sqlalchemy as sa

        assert old not in repr(list(c.execute(sa.text("SELECT * FROM downloads"))))
