"""The dispatcher's JSON endpoints against the sandbox demo portal over HTTP: a worker's day with free
windows (calendar busy time taken out), the slot grid and a cell written back, the swap preview of both
days and its apply (the old worker's calendar event removed, the task re-targeted), reschedules moving
the event in place, the unplaced list, and bad input / other portals answered with a status and a message."""
from __future__ import annotations

from datetime import datetime, timedelta

import requests

from b24app import session as page_sessions
from tests import pagesession
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_assign_sandbox import _rows, api, portal  # noqa: F401 - fixtures

WORKER = "UF_CRM_B24APP_WORKER"
JOB_AT = "UF_CRM_B24APP_JOB_AT"


def _bound_events(portal, deal_id):
    return [e for e in portal.db.calendar_events.rows.values() if f"D_{deal_id}" in e["CRM_FIELDS"]]


def _bound_tasks(portal, deal_id):
    return [t for t in portal.db.tasks.rows.values() if f"D_{deal_id}" in (t.get("UF_CRM_TASK") or [])]


def _hm(s: str) -> int:
    h, m = s.split(":")
    return int(h) * 60 + int(m)


def _busiest(rows):
    """(worker, date) with the most timed jobs: a day with something to show."""
    count: dict = {}
    for r in rows:
        if r["assigned"] and r["time"]:
            count[(r["worker"], r["time"][:10])] = count.get((r["worker"], r["time"][:10]), 0) + 1
    return max(sorted(count), key=lambda k: count[k])


def _bookable(api, rows, worker=None, day=None):
    """(job, fitting candidates): a booked job its own worker may keep at its time (the demo's random
    times overlap often: booking over those takes an override) and who else fits it."""
    for r in rows:
        if not (r["assigned"] and r["time"]) or (worker and r["worker"] != worker) or \
                (day and not r["time"].startswith(day)):
            continue
        _, c = api("GET", f"/api/maps/candidates/{r['id']}")
        fits = [x["worker_id"] for x in c["candidates"] if x["fits"]]
        if r["worker"] in fits:
            return r, fits
    return None, []


def test_worker_day_windows_leave_out_jobs_and_calendar_busy_time(api):
    _, doc = api("GET", "/api/maps/jobs")
    worker, day = _busiest(_rows(doc))
    status, wd = api("GET", f"/api/maps/worker-day?worker={worker}&date={day}")
    assert status == 200, wd
    assert wd["stops"] and wd["hours"] and wd["windows"], wd
    lo, hi = _hm(wd["hours"][0][0]), _hm(wd["hours"][-1][1])
    for w in wd["windows"]:
        a, b = _hm(w["start"]), _hm(w["end"])
        assert lo <= a < b <= hi and w["minutes"] == b - a
        for s in wd["stops"]:           # a window never covers a job nor the drive to it
            assert b <= _hm(s["start"]) - s["drive_minutes"] or a >= _hm(s["end"]), (w, s)
    # a meeting in the worker's Bitrix24 calendar in the first window takes that time away
    first = wd["windows"][0]
    client = api.live.services.client(api.portal.member_id)
    sec = client.call("calendar.section.get", {"type": "user", "ownerId": worker})[0]["ID"]
    start = datetime.fromisoformat(f"{day}T{first['start']}")
    client.call("calendar.event.add", {"type": "user", "ownerId": worker, "section": sec, "name": "Планёрка",
                                       "from": start.isoformat(), "to": (start + timedelta(minutes=30)).isoformat()})
    _, after = api("GET", f"/api/maps/worker-day?worker={worker}&date={day}")
    assert len(after["busy"]) == len(wd["busy"]) + 1
    assert all(not (_hm(w["start"]) <= _hm(first["start"]) < _hm(w["end"])) for w in after["windows"]), after


def test_slot_grid_cells_and_a_cell_written_back(api):
    portal = api.portal
    _, doc = api("GET", "/api/maps/jobs")
    job = next(r for r in _rows(doc) if r["pipeline"] == "installation" and not r["assigned"])
    status, grid = api("GET", f"/api/maps/slots/{job['id']}?days=5")
    assert status == 200, grid
    assert len(grid["days"]) == 5 and grid["workers"]
    assert len(grid["cells"]) == 5 * len(grid["workers"])
    assert {(c["worker_id"], c["day"]) for c in grid["cells"]} == \
        {(w["id"], d) for w in grid["workers"] for d in grid["days"]}
    best = next(c for c in grid["cells"] if c["rank"] == 1)
    assert (best["worker_id"], best["arrival"]) == (grid["best"][0]["worker_id"], grid["best"][0]["arrival"])
    assert all(c["fits"] == (c["arrival"] is not None) for c in grid["cells"])
    assert all(c["off"] == (c["load"] is None) for c in grid["cells"])
    # the dispatcher picks another fitting cell than the best one: that date/time and worker are written
    pick = next(c for c in grid["cells"] if c["fits"] and c["rank"] != 1)
    status, res = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": pick["worker_id"],
                                                        "start": pick["arrival"]})
    assert status == 200, res
    deal = portal.db.deals.get(job["id"])
    assert int(deal[WORKER]) == pick["worker_id"]
    assert datetime.fromisoformat(str(deal[JOB_AT]).replace("Z", "+00:00")).strftime("%Y-%m-%dT%H:%M") == \
        pick["arrival"]
    ev = _bound_events(portal, job["id"])
    assert len(ev) == 1 and ev[0]["OWNER_ID"] == pick["worker_id"] and ev[0]["DATE_FROM"].startswith(pick["arrival"])


def test_swap_preview_both_days_then_apply_moves_event_and_task(api):
    portal = api.portal
    _, doc = api("GET", "/api/maps/jobs")
    rows = _rows(doc)
    worker, day = _busiest(rows)
    job = next(r for r in rows if r["worker"] == worker and r["time"].startswith(day))
    # book it through the app first, so the old worker has the calendar event and the task; the demo's
    # busiest day is overbooked, so the dispatcher confirms the override (noted on the deal)
    status, first = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": worker,
                                                          "override": True})
    assert status == 200, first
    assert [e["OWNER_ID"] for e in _bound_events(portal, job["id"])] == [worker]
    team = {r["worker"] for r in rows if r["assigned"] and r["pipeline"] == job["pipeline"]} - {worker}
    other = min(team)
    status, p = api("GET", f"/api/maps/swap?deal={job['id']}&to={other}")
    assert status == 200, p
    assert p["from"]["worker_id"] == worker and p["to"]["worker_id"] == other and p["day"] == day
    ids = lambda d: [s["id"] for s in d["stops"]]  # noqa: E731
    assert job["id"] in ids(p["from"]["before"]) and job["id"] not in ids(p["from"]["after"])
    assert job["id"] not in ids(p["to"]["before"]) and job["id"] in ids(p["to"]["after"])
    assert [s["moved"] for s in p["to"]["after"]["stops"] if s["id"] == job["id"]] == [True]
    assert p["start"] == job["time"]                                    # the agreed time is kept
    assert p["extra_minutes"] == (p["from"]["after"]["drive_minutes"] + p["to"]["after"]["drive_minutes"]
                                  - p["from"]["before"]["drive_minutes"] - p["to"]["before"]["drive_minutes"])
    assert isinstance(p["ok"], bool) and all("late_minutes" in s for s in p["to"]["after"]["stops"])

    status, res = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": other,
                                                        "start": p["start"], "override": not p["ok"]})
    assert status == 200, res
    assert res["previous_worker_id"] == worker
    assert int(portal.db.deals.get(job["id"])[WORKER]) == other
    events = _bound_events(portal, job["id"])
    assert [e["OWNER_ID"] for e in events] == [other]                   # the old worker's event is gone
    tasks = _bound_tasks(portal, job["id"])
    assert len(tasks) == 1 and int(tasks[0]["RESPONSIBLE_ID"]) == other  # one task, re-targeted
    _, after = api("GET", f"/api/maps/worker-day?worker={worker}&date={day}")
    assert job["id"] not in [s["id"] for s in after["stops"]]
    assert not any(b[0].startswith(job["time"]) for b in after["busy"])   # no stale busy block left


def test_reschedule_same_worker_moves_the_event_in_place(api):
    portal = api.portal
    _, doc = api("GET", "/api/maps/jobs")
    job, _ = _bookable(api, _rows(doc))
    api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": job["worker"]})
    (ev,) = _bound_events(portal, job["id"])
    _, grid = api("GET", f"/api/maps/slots/{job['id']}?from={job['time'][:10]}&days=5")
    cell = next(c for c in grid["cells"] if c["worker_id"] == job["worker"] and c["fits"]
                and c["day"] != job["time"][:10])
    new = datetime.fromisoformat(cell["arrival"])
    status, res = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": job["worker"],
                                                        "start": new.strftime("%Y-%m-%dT%H:%M")})
    assert status == 200, res
    (moved,) = _bound_events(portal, job["id"])
    assert moved["ID"] == ev["ID"] and moved["DATE_FROM"].startswith(new.strftime("%Y-%m-%dT%H:%M"))
    assert len(_bound_tasks(portal, job["id"])) == 1


def test_unplaced_lists_pending_deals_with_titles(api):
    live, portal = api.live, api.portal
    from install.registry import installed_ids

    ids = installed_ids(live.store, portal.member_id)
    p = ids.pipeline("measurements")
    client = live.services.client(portal.member_id)
    deal = int(client.call("crm.deal.add", {"fields": {
        "TITLE": "Замер <img src=x>", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("new")}}))
    queued = int(client.call("crm.deal.add", {"fields": {          # an address the geocoder has not seen yet
        "TITLE": "Замер: Арбат", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("new"),
        ids.deal_field("job_address"): "Москва, Арбат, 1"}}))
    status, un = api("GET", "/api/maps/unplaced")
    assert status == 200
    assert [(u["entity_id"], u["title"], u["status"]) for u in un["pending"]] == [
        (deal, "Замер <img src=x>", "no_address"), (queued, "Замер: Арбат", "pending")]


def test_bad_input_and_other_portals(api, cloud):
    _, doc = api("GET", "/api/maps/jobs")
    rows = _rows(doc)
    assigned = next(r for r in rows if r["assigned"] and r["time"])
    unassigned = next(r for r in rows if not r["assigned"])
    cases = [
        ("GET", "/api/maps/swap?deal=x&to=1", 400, "'deal': нужно целое число"),           # the session's LANG
        ("GET", f"/api/maps/swap?deal={assigned['id']}", 400, "не указан параметр 'to'"),
        ("GET", f"/api/maps/swap?deal={assigned['id']}&to={assigned['worker']}", 400, "уже выполняет"),
        ("GET", f"/api/maps/swap?deal={assigned['id']}&to=1", 400, "не входит в выездную команду"),
        ("GET", f"/api/maps/swap?deal={unassigned['id']}&to={assigned['worker']}", 409, "назначьте его"),
        ("GET", f"/api/maps/slots/{unassigned['id']}?days=0", 400, "от 1 до 31"),       # the portal's LANG
        ("GET", f"/api/maps/slots/{unassigned['id']}?days=x", 400, "integer"),
        ("GET", f"/api/maps/slots/{unassigned['id']}?from=2025-13-01", 400, "YYYY-MM-DD"),
        ("GET", f"/api/maps/worker-day?worker={assigned['worker']}&date=tomorrow", 400, "YYYY-MM-DD"),
        ("GET", "/api/maps/candidates/999999", 404, "999999"),
        ("GET", "/api/maps/swap?deal=999999&to=5", 404, "999999"),
    ]
    for method, path, want, text in cases:
        status, body = api(method, path)
        assert status == want and text in body["error_description"], (path, status, body)
    status, body = api("POST", "/api/maps/assign", json={"deal_id": unassigned["id"], "worker_id": assigned["worker"],
                                                         "start": "завтра"})
    assert status == 400 and "start" in body["error_description"]
    assert api.portal.db.deals.get(unassigned["id"])[WORKER] in (None, "", 0)   # nothing half-written
    status, body = api("POST", "/api/maps/pin", json={"entity": "deal", "id": 999999, "lat": 55.7, "lon": 37.5})
    assert status == 404, body

    # another installed portal: its session does not reach the demo portal's deals
    other = cloud.add_portal(seed="empty")
    assert api.live.install(other)["status"] == 200
    token = pagesession.for_live(api.live, page_sessions.PageSession(
        member_id=other.member_id, user_id=1, lang="en"))
    r = requests.get(f"{api.live.url}/api/maps/swap?deal={assigned['id']}&to={assigned['worker']}",
                     headers={page_sessions.HEADER: token}, timeout=30)
    assert r.status_code == 404 and str(assigned["id"]) in r.json()["error_description"]
    r = requests.get(f"{api.live.url}/api/maps/slots/{assigned['id']}", headers={page_sessions.HEADER: token},
                     timeout=30)
    assert r.status_code == 404
    # a portal that never installed the app
    stranger = pagesession.for_live(api.live, page_sessions.PageSession(
        member_id="no-such-portal", user_id=1, lang="ru"))
    r = requests.get(f"{api.live.url}/api/maps/worker-day?worker=1", headers={page_sessions.HEADER: stranger},
                     timeout=30)
    assert r.status_code == 403 and r.json()["error"] == "PORTAL_NOT_INSTALLED"


def test_ui_strings_exist_in_both_languages():
    from maps.strings import STRINGS, strings

    assert set(STRINGS["ru"]) == set(STRINGS["en"])
    assert all(STRINGS["ru"][k].strip() and STRINGS["en"][k].strip() for k in STRINGS["ru"])
    assert strings("en")["open_yandex"] == "Open route in Yandex Maps"
    assert strings("ru")["open_yandex"] == "Открыть маршрут в Яндекс Картах"
