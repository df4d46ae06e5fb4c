"""Start/Finish job robots, job statistics, the settings endpoint and the day route — against the sandbox
demo portal over HTTP (robots POSTed by the sandbox the way the portal does, run by the real inbox worker).
Photos are served by a real local HTTP server standing in for the portal's public file links."""
from __future__ import annotations

import http.server
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

from b24app import session as page_sessions
from tests import pagesession
from b24sandbox.robots import find_call, run_robot
from install.registry import installed_ids
from tests.app.conftest import CLIENT_ID
from tests.maps.test_assign_sandbox import _rows, api, portal  # noqa: F401 - fixtures
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures

MSK = ZoneInfo("Europe/Moscow")
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")  # a PNG header is enough


class _PhotoServer(str):
    """The server's base URL (a str, so f-strings keep working) and the paths it was asked for."""

    def __new__(cls, url, requests_seen):
        obj = super().__new__(cls, url)
        obj.url, obj.requests = url, requests_seen
        return obj


@pytest.fixture
def photo_server(tmp_path, api):
    """Listed by the operator (B24APP_PHOTO_HOSTS) as a host photo links may point at."""
    from dataclasses import replace

    (tmp_path / "door.png").write_bytes(PNG)

    seen = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def do_GET(self):
            seen.append(self.path)
            super().do_GET()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    services = api.live.services
    services.settings = replace(services.settings, photo_hosts=f"127.0.0.1:{srv.server_address[1]}")
    yield _PhotoServer(f"http://127.0.0.1:{srv.server_address[1]}", seen)
    srv.shutdown()
    srv.server_close()


def _robot(api, code, deal_id, props):
    token = run_robot(api.portal, CLIENT_ID, code, f"DEAL_{deal_id}", props)
    assert find_call(api.portal, token).status == 200
    worker = api.live.worker()
    while worker.run_once():
        pass
    sent = [e for e in api.portal.db.bizproc_events if e["event_token"] == token]
    assert len(sent) == 1, api.portal.db.bizproc_events
    return sent[0], token


def _comments(portal, deal_id):
    return [c for c in portal.db.comments.rows.values() if c["ENTITY_TYPE"] == "deal" and c["ENTITY_ID"] == deal_id]


def _a_job(api, pipeline="installation"):
    _, doc = api("GET", "/api/maps/jobs")
    return next(r for r in _rows(doc) if r["pipeline"] == pipeline and r["assigned"])


def test_finish_job_posts_comment_and_photos_to_the_timeline_once(api, photo_server):
    from b24app.robot_runtime import RobotCall
    from install.manifest import load
    from maps.robots import finish_job

    portal, job = api.portal, _a_job(api)
    sent, _ = _robot(api, "b24app_start_job", job["id"], {"worker": f"user_{job['worker']}",
                                                          "comment": "Приехал, клиент на месте"})
    assert "comment" in sent["log_message"], sent
    started = _comments(portal, job["id"])
    assert len(started) == 1 and "Приехал, клиент на месте" in started[0]["COMMENT"]

    photos = [f"{photo_server}/door.png", "123"]
    sent, token = _robot(api, "b24app_finish_job", job["id"], {"comment": "Окно установлено", "photos": photos})
    done_stage = installed_ids(api.live.store, portal.member_id).pipeline("installation").stage("job_done")
    assert sent["return_values"]["stage_id"] == done_stage == portal.db.deals.get(job["id"])["STAGE_ID"], sent
    done = [c for c in _comments(portal, job["id"]) if c not in started]
    assert len(done) == 1
    assert "Работа завершена" in done[0]["COMMENT"] and "Окно установлено" in done[0]["COMMENT"]
    assert [(f["name"], f["content"]) for f in done[0]["FILES"]] == [("door.png", PNG)]
    assert "file #123" in done[0]["COMMENT"] and "not attached: file #123" in sent["log_message"]
    assert "with 1 photo(s)" in sent["log_message"]

    # the inbox re-runs a handler whose answer was never stored (crash after the comment was posted):
    # the same event token must not post the comment again
    payload = {"document_id": ["crm", "CCrmDocumentDeal", f"DEAL_{job['id']}"], "event_token": token,
               "properties": {"comment": "Окно установлено", "photos": photos}}
    call = RobotCall(api.live.services, portal.member_id, "b24app_finish_job", payload,
                     load().robot("b24app_finish_job"))
    finish_job(call)
    assert len(_comments(portal, job["id"])) == 2

    # a photo link that does not answer is reported, the comment still goes out
    sent, _ = _robot(api, "b24app_finish_job", job["id"], {"photos": [f"{photo_server}/missing.png"]})
    assert "HTTP 404" in sent["log_message"] and len(_comments(portal, job["id"])) == 3

    # a link to a host that is not the portal's is refused before any request is made (no SSRF)
    before = len(photo_server.requests)
    foreign = photo_server.url.replace("127.0.0.1", "localhost") + "/door.png"
    sent, _ = _robot(api, "b24app_finish_job", job["id"], {"photos": [foreign]})
    assert "not a link to this portal's files" in sent["log_message"]
    assert len(photo_server.requests) == before and len(_comments(portal, job["id"])) == 4


def test_travel_and_on_site_minutes_per_worker(api, monkeypatch):
    from maps import robots

    jobs = [r for r in _rows(api("GET", "/api/maps/jobs")[1]) if r["assigned"]]
    worker = jobs[0]["worker"]
    a, b = jobs[0]["id"], jobs[1]["id"]
    day = date(2025, 5, 14)                                   # a Wednesday; shift 09:00 (portal default)
    clock = {"now": None}
    monkeypatch.setattr(robots, "_now", lambda: clock["now"])

    def at(h, m):
        return datetime(day.year, day.month, day.day, h, m, tzinfo=MSK).astimezone(ZoneInfo("UTC"))

    for deal, start, finish in ((a, at(9, 40), at(10, 30)), (b, at(10, 55), at(12, 0))):
        clock["now"] = start
        _robot(api, "b24app_start_job", deal, {"worker": f"user_{worker}"})
        clock["now"] = finish
        _robot(api, "b24app_finish_job", deal, {})
    status, st = api("GET", f"/api/maps/job-stats?from={day}&to={day}")
    assert status == 200, st
    assert st["workers"] == [{"worker_id": worker, "jobs": 2, "finished": 2,
                              "on_site_minutes": 50 + 65, "travel_minutes": 40 + 25}]
    status, other = api("GET", f"/api/maps/job-stats?from={day + timedelta(days=1)}&to={day + timedelta(days=2)}")
    assert status == 200 and other["workers"] == []
    assert api("GET", f"/api/maps/job-stats?from={day}&to={day - timedelta(days=1)}")[0] == 400
    assert api("GET", "/api/maps/job-stats?from=yesterday")[0] == 400


def _admin(api, admin=True):
    token = pagesession.for_live(api.live, page_sessions.PageSession(
        member_id=api.portal.member_id, user_id=1, lang="ru", is_admin=admin))

    def call(method, path, **kw):
        r = requests.request(method, api.live.url + path, headers={page_sessions.HEADER: token}, timeout=30, **kw)
        return r.status_code, r.json()
    return call


def test_settings_endpoint_per_worker_hours(api):
    from maps import service

    admin = _admin(api)
    status, doc = admin("GET", "/api/maps/settings")
    assert status == 200 and doc["settings"] == {} and doc["hours"]["start"] == "09:00"
    worker = _a_job(api)["worker"]
    body = {"tz": "Asia/Yekaterinburg", "hours": {"start": "09:00", "end": "18:00", "breaks": [["13:00", "14:00"]]},
            "worker_hours": {str(worker): {"start": "07:30", "breaks": [], "weekdays": [0, 1, 2, 3]}}}
    status, doc = admin("PUT", "/api/maps/settings", json=body)
    assert status == 200, doc
    assert doc["worker_hours"][str(worker)] == {"start": "07:30", "end": "18:00", "breaks": [],
                                                "weekdays": [0, 1, 2, 3]}
    assert doc["hours"]["breaks"] == [["13:00", "14:00"]] and doc["tz"] == "Asia/Yekaterinburg"

    _, current = service.jobs(api.live.services, api.portal.member_id)
    team = {w.id: w for w in service.team(api.live.services, api.portal.member_id, current)}
    mine = team[str(worker)].hours
    assert (mine.start.strftime("%H:%M"), mine.breaks, mine.weekdays) == ("07:30", (), frozenset({0, 1, 2, 3}))
    others = [w.hours for k, w in team.items() if k != str(worker)]
    assert others and all(h.start.strftime("%H:%M") == "09:00" and len(h.breaks) == 1 for h in others)
    assert str(mine.tz) == "Asia/Yekaterinburg"

    for bad, where in [({"hours": {"start": "25:00"}}, "hours.start"),
                       ({"hours": {"start": "18:00", "end": "09:00"}}, "hours.end"),
                       ({"worker_hours": {"abc": {}}}, "worker_hours.abc"),
                       ({"worker_hours": {"4": {"weekdays": [7]}}}, "worker_hours.4.weekdays"),
                       ({"worker_hours": {"4": {"lunch": "13:00"}}}, "worker_hours.4.lunch"),
                       ({"tz": "Mars/Olympus"}, "tz"), ({"colour": "red"}, "colour"),
                       ({"homes": {"4": [95, 37]}}, "homes.4"), ([1, 2], "$")]:
        status, err = admin("PUT", "/api/maps/settings", json=bad)
        assert status == 400 and err["error"] == "BAD_SETTINGS" and err["error_description"].startswith(where), err
    assert admin("GET", "/api/maps/settings")[1]["settings"]["worker_hours"] == \
        {str(worker): {"start": "07:30", "breaks": [], "weekdays": [0, 1, 2, 3]}}        # nothing half-written
    user = _admin(api, admin=False)
    assert user("GET", "/api/maps/settings")[0] == 403
    assert user("PUT", "/api/maps/settings", json={})[0] == 403


def test_day_route_keeps_agreed_times(api):
    """Three booked jobs east–west–east at 10:00, 13:00, 16:00: driving alone would do both eastern ones
    first; the route must keep the agreed order and times (and say so in ``starts``)."""
    from maps.geo import TravelModel
    from maps.routing import optimise_day
    from maps.schedule import Job

    portal, live = api.portal, api.live
    ids = installed_ids(live.store, portal.member_id)
    client = live.services.client(portal.member_id)
    p = ids.pipeline("installation")
    worker = _a_job(api)["worker"]
    day = date(2031, 3, 12)                                      # a Wednesday, no demo jobs that far ahead
    spots = {"A": ((55.750, 37.800), 10), "B": ((55.750, 37.400), 13), "C": ((55.760, 37.790), 16)}
    deal = {}
    for name, ((lat, lon), hour) in spots.items():
        deal[name] = int(client.call("crm.deal.add", {"fields": {
            "TITLE": f"Монтаж {name}", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("scheduled"),
            ids.deal_field("worker"): worker, ids.deal_field("coordinates"): f"{lat},{lon}",
            ids.deal_field("job_duration"): 60,
            ids.deal_field("job_at"): datetime(2031, 3, 12, hour, 0, tzinfo=MSK).isoformat()}}))
    from b24app.inbox import accept_event

    for k, d in enumerate(deal.values()):                        # the portal's ONCRMDEALADD, through the inbox
        accept_event(live.store, portal.member_id, {"event": "ONCRMDEALADD", "ts": str(k),
                                                    "data": {"FIELDS": {"ID": str(d)}}})
    w = live.worker()
    while w.run_once():
        pass
    free = optimise_day(spots["A"][0], [Job(n, pt, 60) for n, (pt, _) in spots.items()], None, TravelModel(),
                        depart_at=datetime(2031, 3, 12, 9, 0), engine="exact")
    assert free.order != ("A", "B", "C")                         # the test would catch times being ignored
    status, r = api("GET", f"/api/maps/route?worker={worker}&date={day}")
    assert status == 200, r
    assert r["order"] == [deal["A"], deal["B"], deal["C"]] and r["unassigned"] == []
    assert [r["starts"][str(deal[n])] for n in "ABC"] == ["10:00", "13:00", "16:00"]
    assert all(r["arrivals"][str(deal[n])] <= r["starts"][str(deal[n])] for n in "ABC")
    assert r["finish_by"] == "18:00"
    status, wd = api("GET", f"/api/maps/worker-day?worker={worker}&date={day}")
    assert status == 200 and [s["id"] for s in wd["stops"]] == [deal["A"], deal["B"], deal["C"]]

    # an overbooked day: D at 13:30 in the east while B (west) runs 13:00–14:00 — one of them will be late;
    # it stays in the route at its agreed place (links and map numbers show every stop) and is named
    deal["D"] = int(client.call("crm.deal.add", {"fields": {
        "TITLE": "Монтаж D", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("scheduled"),
        ids.deal_field("worker"): worker, ids.deal_field("coordinates"): "55.755,37.810",
        ids.deal_field("job_duration"): 60,
        ids.deal_field("job_at"): datetime(2031, 3, 12, 13, 30, tzinfo=MSK).isoformat()}}))
    accept_event(live.store, portal.member_id,
                 {"event": "ONCRMDEALADD", "ts": "9", "data": {"FIELDS": {"ID": str(deal["D"])}}})
    while w.run_once():
        pass
    status, r = api("GET", f"/api/maps/route?worker={worker}&date={day}")
    assert status == 200, r
    assert r["order"] == [deal["A"], deal["B"], deal["D"], deal["C"]]
    assert len(r["unassigned"]) == 1 and r["unassigned"][0] in (deal["B"], deal["D"])
    assert r["yandex"][0].count("~") == 3                           # all four stops in the link


def test_worker_day_and_route_default_to_the_portals_today(api):
    """No date given: the portal's today (its time zone, by the portal's clock), not the server's. The zone
    is picked so that its date differs from UTC's at that moment."""
    from datetime import timezone

    utc_now = api.live.services.now(timezone.utc)
    zone = "Pacific/Kiritimati" if utc_now.hour >= 11 else "Etc/GMT+12"      # UTC+14 / UTC−12
    expected = utc_now.astimezone(ZoneInfo(zone)).date()
    assert expected != utc_now.date()
    status, _ = _admin(api)("PUT", "/api/maps/settings", json={"tz": zone})
    assert status == 200
    worker = _a_job(api)["worker"]
    status, wd = api("GET", f"/api/maps/worker-day?worker={worker}")
    assert status == 200 and wd["day"] == expected.isoformat(), wd
    status, r = api("GET", f"/api/maps/route?worker={worker}")
    assert status == 200 and r["day"] == expected.isoformat(), r
