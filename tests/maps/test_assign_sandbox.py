"""Orders map end to end against the sandbox portal over HTTP: the demo portal is installed (its
pipelines and fields adopted), the jobs endpoint shows the demo jobs, candidates are ranked with reasons,
and one assign writes the deal's worker, a calendar event and a task bound to the deal in one batch."""
from __future__ import annotations

import requests
import pytest

from b24app import session as page_sessions
from tests import pagesession
from tests.app.conftest import live_app, store_url  # noqa: F401 - the live app fixture



@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="demo")


@pytest.fixture
def api(live_app, portal):
    res = live_app.install(portal)
    assert res["status"] == 200, res
    token = pagesession.for_live(live_app, page_sessions.PageSession(
        member_id=portal.member_id, user_id=1, lang="ru"))

    def call(method: str, path: str, **kw):
        r = requests.request(method, live_app.url + path, headers={page_sessions.HEADER: token}, timeout=30, **kw)
        return r.status_code, r.json()
    call.live, call.portal = live_app, portal
    return call


def _rows(doc):
    cols = doc["columns"]
    return [dict(zip(cols, r)) for r in doc["rows"]]


def test_demo_jobs_on_the_map_and_one_click_assign(api):
    portal = api.portal
    ids = __import__("install.registry", fromlist=["x"]).installed_ids(api.live.store, portal.member_id)
    assert ids.deal_field("worker") == "UF_CRM_B24APP_WORKER"          # adopted, not duplicated
    assert ids.pipeline("measurements").category_id == 1

    status, doc = api("GET", "/api/maps/jobs")
    assert status == 200, doc
    rows = _rows(doc)
    assert len(rows) == 160 and not doc["unplaced"]
    assert {r["pipeline"] for r in rows} == {"measurements", "installation"}
    assert all(55.5 < r["lat"] < 56 and r["title"] for r in rows)
    unassigned = [r for r in rows if not r["assigned"]]
    assert unassigned and all(r["color"] == "#E53935" for r in unassigned)

    status, same = api("GET", f"/api/maps/jobs?since={doc['version']}")
    assert status == 200 and same == {"version": doc["version"], "unchanged": True}
    status, prod = api("GET", "/api/maps/jobs?pipeline=production")
    assert status == 200 and len(prod["rows"]) == 40
    status, none = api("GET", "/api/maps/jobs?worker=none")
    assert len(none["rows"]) == len(unassigned)

    job = next(r for r in unassigned if r["time"])
    status, cands = api("GET", f"/api/maps/candidates/{job['id']}")
    assert status == 200, cands
    assert cands["candidates"] and all(c["reason"] for c in cands["candidates"])
    team = {r["worker"] for r in rows if r["assigned"] and r["pipeline"] == job["pipeline"]}
    assert {c["worker_id"] for c in cands["candidates"]} == team        # measurers for measurements
    fitting = [c for c in cands["candidates"] if c["fits"]]
    assert fitting, cands
    worker = fitting[0]["worker_id"]

    status, res = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": worker})
    assert status == 200, res
    deal = portal.db.deals.get(job["id"])
    assert int(deal["UF_CRM_B24APP_WORKER"]) == worker
    assert deal["STAGE_ID"].endswith(":SCHEDULED")                     # was "new": now scheduled
    events = [e for e in portal.db.calendar_events.rows.values() if f"D_{job['id']}" in e["CRM_FIELDS"]]
    assert len(events) == 1 and events[0]["OWNER_ID"] == worker
    tasks = [t for t in portal.db.tasks.rows.values() if f"D_{job['id']}" in (t.get("UF_CRM_TASK") or [])]
    assert len(tasks) == 1 and int(tasks[0]["RESPONSIBLE_ID"]) == worker
    assert "yandex.ru/maps" in tasks[0]["DESCRIPTION"]
    assert "rtext=~" in tasks[0]["DESCRIPTION"]           # the route starts where the worker is now
    assert sum(1 for r in portal.log if r.method == "batch") >= 1

    status, after = api("GET", f"/api/maps/jobs?since={doc['version']}")
    assert status == 200 and after["version"] > doc["version"]
    moved = next(r for r in _rows(after) if r["id"] == job["id"])
    assert moved["assigned"] == 1 and moved["worker"] == worker and moved["color"] != "#E53935"


def test_worker_day_slots_route_and_errors(api):
    status, doc = api("GET", "/api/maps/jobs")
    rows = _rows(doc)
    busy = next(r for r in rows if r["assigned"] and r["time"])
    day = busy["time"][:10]
    status, wd = api("GET", f"/api/maps/worker-day?worker={busy['worker']}&date={day}")
    assert status == 200, wd
    assert busy["id"] in [s["id"] for s in wd["stops"]]
    status, route = api("GET", f"/api/maps/route?worker={busy['worker']}&date={day}")
    assert status == 200, route
    assert busy["id"] in route["order"] and route["yandex"][0].startswith("https://yandex.ru/maps/")
    unassigned = next(r for r in rows if not r["assigned"])
    status, sl = api("GET", f"/api/maps/slots/{unassigned['id']}")
    assert status == 200 and sl["best"], sl
    assert api("GET", "/api/maps/worker-day")[0] == 400
    assert api("POST", "/api/maps/assign", json={"deal_id": "x"})[0] == 400
    assert api("GET", "/api/maps/candidates/999999")[0] in (404, 502)
    r = requests.get(api.live.url + "/api/maps/jobs", timeout=10)
    assert r.status_code == 401


def test_new_deal_is_geocoded_by_the_worker_then_on_the_map(api, monkeypatch):
    """ONCRMDEALUPDATE through the real inbox and worker: the address is geocoded (Nominatim mocked), the
    coordinates written to the sandbox deal once, and the job appears on the next poll."""
    import re

    import responses

    from b24app.inbox import accept_event
    from install.registry import installed_ids
    from maps import geocoding
    from maps.geocode import RateLimiter

    live, portal = api.live, api.portal
    monkeypatch.setattr(geocoding, "LIMITER", RateLimiter(0.0))
    ids = installed_ids(live.store, portal.member_id)
    client = live.services.client(portal.member_id)
    p = ids.pipeline("measurements")
    deal = int(client.call("crm.deal.add", {"fields": {
        "TITLE": "Замер: Тверская, 7", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("new"),
        ids.deal_field("job_address"): "г. Москва, ул. Тверская, д. 7"}}))
    _, before = api("GET", "/api/maps/jobs")
    assert deal in [u["id"] for u in before["unplaced"]]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(portal.url)
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*"),
                 json=[{"lat": "55.7597", "lon": "37.6107", "display_name": "Тверская, 7", "place_id": 9}])
        for _ in range(2):                       # the second time is our own update echoing back
            accept_event(live.store, portal.member_id, {"event": "ONCRMDEALUPDATE", "ts": str(_),
                                                        "data": {"FIELDS": {"ID": str(deal)}}})
            worker = live.worker()
            while worker.run_once():
                pass
        nominatim_calls = [c for c in rsps.calls if "nominatim" in c.request.url]
    assert len(nominatim_calls) == 1
    assert portal.db.deals.get(deal)[ids.deal_field("coordinates")] == "55.759700,37.610700"
    updates = [r for r in portal.log if r.method == "crm.deal.update" and str(r.params.get("id")) == str(deal)]
    assert len(updates) == 1
    _, after = api("GET", f"/api/maps/jobs?since={before['version']}")
    assert deal in [r[0] for r in after["rows"]]


def test_unplaced_listed_and_manual_pin(api, monkeypatch):
    import re

    import responses

    from install.registry import installed_ids
    from maps import geocoding
    from maps.geocode import RateLimiter

    live, portal = api.live, api.portal
    monkeypatch.setattr(geocoding, "LIMITER", RateLimiter(0.0))
    ids = installed_ids(live.store, portal.member_id)
    client = live.services.client(portal.member_id)
    p = ids.pipeline("installation")
    deal = int(client.call("crm.deal.add", {"fields": {
        "TITLE": "Монтаж: нет адреса", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("new"),
        ids.deal_field("job_address"): "Москва, улица Которой Нет, 1"}}))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(portal.url)
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), json=[])
        geocoding.on_deal_event(live.services, portal.member_id, {"data": {"FIELDS": {"ID": str(deal)}}})
        w = live.worker()                 # the event marked the deal; the refresh job reads and geocodes it
        while w.run_once():
            pass
    status, un = api("GET", "/api/maps/unplaced")
    assert status == 200 and [(r["entity_id"], r["status"]) for r in un["records"]] == [(deal, "not_found")]
    status, res = api("POST", "/api/maps/pin", json={"entity": "deal", "id": deal, "lat": 55.7, "lon": 37.5})
    assert status == 200 and res["status"] == "manual", res
    assert portal.db.deals.get(deal)[ids.deal_field("coordinates")] == "55.700000,37.500000"
    assert api("GET", "/api/maps/unplaced")[1]["records"] == []
    _, doc = api("GET", "/api/maps/jobs")
    assert deal in [r[0] for r in doc["rows"]]
    assert api("POST", "/api/maps/pin", json={"id": deal, "lat": 99, "lon": 0})[0] == 400
