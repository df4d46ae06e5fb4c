"""Plans per employee and month, the cached dashboards, their CSV/XLSX exports and the Power BI feed over
HTTP against the installed app on the sandbox portal: plans set and read back (a bad row → 400, nothing
written), a CSV import with people named as the portal names them (a bad line → 400 naming it, nothing
written), the dashboard answering from the cache (no portal call once warm; a Visit event makes it catch
up), XLSX bytes, and the feed's token (hashed at rest, rotated, refused once rotated). SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
import requests
import sqlalchemy as sa

from b24app import session as page_sessions
from reports import cache, feed
from tests import pagesession

JAN = "from=2026-01-01&to=2026-01-31"


@pytest.fixture
def store_url(db_url):
    """Both backends: the plans, the cache and the tokens on SQLite and PostgreSQL."""
    return db_url


def _admin(known) -> str:
    vs = known.vs
    return pagesession.for_live(vs.live, page_sessions.PageSession(member_id=vs.member_id, user_id=1, lang="ru",
                                                                   is_admin=True))


def _post(known, path, token, **kw):
    return requests.post(known.vs.live.url + path, headers={page_sessions.HEADER: token, **kw.pop("headers", {})},
                         timeout=30, **kw)


def test_plans_set_read_and_used_by_the_dashboard(known):
    admin = _admin(known)
    r = _post(known, "/api/reports/plans", admin, json={"plans": [
        {"user_id": 2, "month": "2026-01", "visits": 100}, {"user_id": 3, "month": "2026-01", "visits": 8},
        {"user_id": 2, "month": "2026-02", "visits": 90}]})
    assert r.status_code == 200, r.text
    assert r.json() == {"written": 3, "removed": 0}
    got = known.api("/api/reports/plans?from=2026-01&to=2026-01").json()["plans"]
    assert got == [{"user_id": 2, "month": "2026-01", "visits": 100, "name": "Мария Менеджерова"},
                   {"user_id": 3, "month": "2026-01", "visits": 8, "name": "Олег Сотрудников"}]
    doc = known.api(f"/api/reports/dashboard?{JAN}").json()
    plan = {e["user_id"]: (e["plan"], e["fact"], e["percent"]) for e in doc["employees"]}
    assert plan == {2: (100.0, 2, 2), 3: (8.0, 1, 12), 4: (6.0, 0, 0)}          # 4: the kv plan still
    jan = next(t for t in doc["trend"] if t["month"] == "2026-01")
    assert jan == {"month": "2026-01", "label": "янв 2026", "plan": 114.0, "fact": 3, "percent": 3}
    # half of January: half of the month's own plan
    half = known.api("/api/reports/dashboard?from=2026-01-01&to=2026-01-15").json()
    assert {e["user_id"]: e["plan"] for e in half["employees"]}[2] == 48.4
    # a null removes the month's row: the kv plan is back
    assert _post(known, "/api/reports/plans", admin, json={"plans": [
        {"user_id": 2, "month": "2026-01", "visits": None}]}).json() == {"written": 0, "removed": 1}
    doc = known.api(f"/api/reports/dashboard?{JAN}").json()
    assert {e["user_id"]: e["plan"] for e in doc["employees"]}[2] == 10.0


def test_a_bad_plan_row_is_400_and_nothing_is_written(known):
    admin = _admin(known)
    for body, words in [({"plans": [{"user_id": 2, "month": "2026-01", "visits": 5},
                                    {"user_id": 3, "month": "2026-13", "visits": 5}]}, "plans[2]: нужен месяц"),
                        ({"plans": [{"user_id": 2, "month": "2026-01", "visits": -1}]}, "plans[1]: нужно целое"),
                        ({"plans": [{"user_id": "x", "month": "2026-01", "visits": 1}]}, "plans[1]: нужен сотрудник"),
                        ({"plans": [{"user_id": 2, "month": "2026-01", "visits": 1},
                                    {"user_id": 2, "month": "2026-01", "visits": 2}]}, "указан дважды"),
                        ([1, 2], "нужен JSON-объект")]:
        r = _post(known, "/api/reports/plans", admin, json=body)
        assert r.status_code == 400 and words in r.json()["error_description"], (body, r.text)
    assert known.api("/api/reports/plans").json()["plans"] == []
    # plans are an administrator's: a sales manager reads them, may not write
    r = _post(known, "/api/reports/plans", known.token, json={"plans": []})
    assert r.status_code == 403 and r.json()["error"] == "ROLE_REQUIRED"


def test_plans_import_from_csv_by_name_email_and_id(known):
    admin = _admin(known)
    users = {int(u["ID"]): u for u in known.vs.portal.db.users.rows.values()}
    email3 = users[3]["EMAIL"]
    body = ("Сотрудник;Месяц;Визиты\r\n"
            "Мария Менеджерова;2026-01;100\r\n"
            f"{email3};01.2026;7\r\n"
            "4;2026-02;12\r\n").encode("utf-8-sig")
    r = _post(known, "/api/reports/plans.csv", admin, data=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"written": 3, "removed": 0, "lines": 3}
    rows = {(p["user_id"], p["month"]): p["visits"] for p in known.api("/api/reports/plans").json()["plans"]}
    assert rows == {(2, "2026-01"): 100, (3, "2026-01"): 7, (4, "2026-02"): 12}
    # a file with one bad line is refused whole, the line named; what was there stays
    for text, words in [("Мария Менеджерова;2026-03;50\nНикто Никтович;2026-03;5\n", "строка 2: сотрудника «Никто"),
                        ("Мария Менеджерова;2026-03;50\nОлег Сотрудников;март;5\n", "строка 2: нужен месяц"),
                        ("Мария Менеджерова;2026-03;много\n", "строка 1: нужно целое"),
                        ("Мария Менеджерова;2026-03\n", "строка 1: нужно три столбца"),
                        ("2;2026-03;5\nМария Менеджерова;2026-03;6\n", "строка 2: тот же сотрудник и месяц")]:
        r = _post(known, "/api/reports/plans.csv", admin, data=text.encode("cp1251"),
                  headers={"Content-Type": "text/csv"})
        assert r.status_code == 400 and words in r.json()["error_description"], (text, r.text)
    rows_after = {(p["user_id"], p["month"]): p["visits"] for p in known.api("/api/reports/plans").json()["plans"]}
    assert rows_after == rows
    # English for an English session
    en = pagesession.for_live(known.vs.live, page_sessions.PageSession(
        member_id=known.vs.member_id, user_id=1, lang="en", is_admin=True))
    r = _post(known, "/api/reports/plans.csv", en, data=b"Nobody Here;2026-03;5\n",
              headers={"Content-Type": "text/csv"})
    assert r.status_code == 400 and r.json()["error_description"] == "line 1: no employee 'Nobody Here' on the portal"


def test_the_dashboard_answers_from_the_cache_and_catches_up_after_an_event(known):
    vs = known.vs
    first = known.api(f"/api/reports/dashboard?{JAN}").json()
    assert first["read"]["source"] == "filled" and first["read"]["http_calls"] >= 1
    before = len(vs.portal.log)
    again = known.api(f"/api/reports/dashboard?{JAN}").json()
    assert again["read"] == {**first["read"], "source": "cache", "http_calls": 0}
    assert len(vs.portal.log) == before                           # not one portal call
    assert again["regions"] == first["regions"]
    # a visit moves to done in the portal: its event marks the cache stale, the next dashboard catches up
    kazan_g = {"id": known.ids["G"]}
    vs.client.call("crm.item.update", {"entityTypeId": vs.v.entity_type_id, "id": kazan_g["id"],
                                       "fields": {"stageId": vs.v.stage("done")}})
    vs.run_events(drain=False)
    doc = known.api(f"/api/reports/dashboard?{JAN}").json()
    kazan = next(r for r in doc["regions"] if r["region"] == "Казань")
    assert (kazan["planned"], kazan["done"]) == (1, 2)
    assert doc["read"]["http_calls"] == 0            # the queued refresh job already caught up
    # deleted in the portal: gone from the cache by its event
    vs.client.call("crm.item.delete", {"entityTypeId": vs.v.entity_type_id, "id": kazan_g["id"]})
    vs.run_events(drain=False)
    doc = known.api(f"/api/reports/dashboard?{JAN}").json()
    assert next(r for r in doc["regions"] if r["region"] == "Казань")["total"] == 3
    st = cache.state(vs.live.store.engine, vs.member_id)
    assert st.filled_at > 0 and st.stale_at == 0


def test_exports_csv_and_xlsx_of_every_table(known):
    for table in ("regions", "employees", "trend", "types", "sales", "jobs"):
        r = known.api(f"/api/reports/export.csv?{JAN}&table={table}")
        assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf"), (table, r.text)
        x = known.api(f"/api/reports/export.xlsx?{JAN}&table={table}")
        assert x.status_code == 200 and x.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = zipfile.ZipFile(io.BytesIO(x.content)).read("xl/worksheets/sheet1.xml").decode()
        assert "<sheetData>" in sheet, table
    text = known.api(f"/api/reports/export.csv?{JAN}&table=regions").content.decode("utf-8-sig")
    assert "Казань;2;1;0;1;4" in text and "Итого;4;3;1;1;9" in text
    sheet = zipfile.ZipFile(io.BytesIO(known.api(f"/api/reports/export.xlsx?{JAN}&table=regions").content)) \
        .read("xl/worksheets/sheet1.xml").decode()
    assert "Казань" in sheet and '<c r="F2"><v>4</v></c>' in sheet
    r = known.api(f"/api/reports/export.csv?{JAN}&table=nope")
    assert r.status_code == 400 and "table" in r.json()["error_description"]


def test_the_feed_takes_a_rotating_token_kept_hashed(known, caplog):
    vs, url = known.vs, known.vs.live.url + "/api/reports/feed"
    admin = _admin(known)
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url + "?token=b24r_x", timeout=30).status_code == 401         # never in a URL
    assert _post(known, "/api/reports/feed-token", known.token).status_code == 403   # an administrator's
    issued = _post(known, "/api/reports/feed-token", admin).json()
    token = issued["token"]
    assert token.startswith("b24r_") and issued["exists"] is True
    with vs.live.store.engine.connect() as c:
        kept = c.execute(sa.select(feed.t_tokens.c.token_hash)
                         .where(feed.t_tokens.c.member_id == vs.member_id)).scalars().all()
    assert kept == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in str(known.api("/api/reports/feed-token", token=admin).json())
    r = requests.get(f"{url}?{JAN}", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["feed_version"] == 1 and doc["portal"] == vs.portal.domain and "charts" not in doc
    assert {x["region"]: x["total"] for x in doc["regions"]} == {"Казань": 4, "Москва": 4, "": 1}
    assert [e["user_id"] for e in doc["employees"]] == [2, 3, 4]
    bad = requests.get(f"{url}?from=2026-02-01&to=2026-01-01", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert bad.status_code == 400
    # rotated: the old token is refused at once, the new one works
    new = _post(known, "/api/reports/feed-token", admin).json()["token"]
    r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "FEED_TOKEN"
    assert requests.get(url, headers={"Authorization": f"Bearer {new}"}, timeout=30).status_code == 200
    assert requests.delete(known.vs.live.url + "/api/reports/feed-token", headers={page_sessions.HEADER: admin},
                           timeout=30).json() == {"revoked": True}
    assert requests.get(url, headers={"Authorization": f"Bearer {new}"}, timeout=30).status_code == 401
    assert token not in caplog.text and new not in caplog.text


def test_the_scheduler_re_reads_everything_now_and_then_for_a_lost_event(known, monkeypatch):
    vs = known.vs
    assert known.api(f"/api/reports/dashboard?{JAN}").json()["totals"]["total"] == 9
    # a visit deleted and its event never handled (lost): the cache still counts it
    vs.client.call("crm.item.delete", {"entityTypeId": vs.v.entity_type_id, "id": known.ids["A"]})
    cache.scheduled(vs.services, vs.member_id)                  # not stale, not due: nothing read
    with vs.live.store.engine.connect() as c:
        ids = set(c.execute(sa.select(cache.t_visits.c.visit_id)
                            .where(cache.t_visits.c.member_id == vs.member_id)).scalars())
    assert known.ids["A"] in ids
    later = cache.CLOCK() + cache.FULL_EVERY + 1
    monkeypatch.setattr(cache, "CLOCK", lambda: later)
    before = len(vs.portal.log)
    cache.scheduled(vs.services, vs.member_id)                  # the safety net: one full keyset read
    assert len(vs.portal.log) > before
    doc = known.api(f"/api/reports/dashboard?{JAN}").json()
    assert doc["totals"]["total"] == 8 and doc["read"]["http_calls"] == 0
