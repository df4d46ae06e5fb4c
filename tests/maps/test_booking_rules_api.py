"""Issue 14's booking defects over HTTP against the sandbox demo portal, the portal's clock as "now":
``POST /api/maps/assign {"start": "2020-01-01T09:00"}`` answered 200 and the date grid offered past days as
best; a worker the candidate list marks busy could be assigned. Now: 409 with a reason in the person's
language and nothing written; the grid starts today and never before now; busy takes the dispatcher's
explicit override, which the deal's timeline keeps."""
from __future__ import annotations

import requests

from b24app import session as page_sessions
from tests import pagesession
from tests.app.conftest import live_app, store_url  # noqa: F401 - fixtures
from tests.maps.test_assign_sandbox import _rows, api, portal  # noqa: F401 - fixtures

WORKER = "UF_CRM_B24APP_WORKER"
JOB_AT = "UF_CRM_B24APP_JOB_AT"


def _bound_events(portal, deal_id):
    return [e for e in portal.db.calendar_events.rows.values() if f"D_{deal_id}" in e["CRM_FIELDS"]]


def _deal_comments(portal, deal_id):
    return [c["COMMENT"] for c in portal.db.comments.rows.values()
            if c["ENTITY_TYPE"] == "deal" and int(c["ENTITY_ID"]) == int(deal_id)]


def _as(api, lang):
    token = pagesession.for_live(api.live, page_sessions.PageSession(
        member_id=api.portal.member_id, user_id=1, lang=lang))

    def call(method, path, **kw):
        r = requests.request(method, api.live.url + path, headers={page_sessions.HEADER: token}, timeout=30, **kw)
        return r.status_code, r.json()
    return call


def test_no_booking_in_the_past_and_the_grid_starts_now(api, cloud):
    portal = api.portal
    cloud.clock.advance(9 * 3600)                       # 2026-01-01 12:00 in Moscow, the portal's zone
    today, now = "2026-01-01", "2026-01-01T12:00"
    _, doc = api("GET", "/api/maps/jobs")
    rows = _rows(doc)
    job = next(r for r in rows if not r["assigned"] and r["pipeline"] == "installation")
    worker = next(r["worker"] for r in rows if r["assigned"] and r["pipeline"] == "installation")
    before = dict(portal.db.deals.get(job["id"]))
    for start in ("2020-01-01T09:00", f"{today}T10:00"):
        status, body = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": worker,
                                                             "start": start, "override": True})
        assert status == 409 and body["error"] == "BOOKING_IN_PAST", body
        assert "уже прошло" in body["error_description"]                       # the session's LANG is ru
    assert portal.db.deals.get(job["id"])[WORKER] == before[WORKER] and not _bound_events(portal, job["id"])

    status, grid = api("GET", f"/api/maps/slots/{job['id']}?from=2020-01-01&days=3")
    assert status == 200, grid
    assert grid["days"] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert grid["best"] and all(b["arrival"] >= now for b in grid["best"])
    assert all(c["arrival"] >= now for c in grid["cells"] if c["fits"])
    status, cands = api("GET", f"/api/maps/candidates/{job['id']}")
    assert status == 200 and all(c["arrival"] >= now for c in cands["candidates"] if c["fits"])

    # the grid's best slot is bookable as it stands; one past the shift is not
    best = grid["best"][0]
    status, res = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": best["worker_id"],
                                                        "start": best["arrival"]})
    assert status == 200 and res["override"] is False, res
    status, body = _as(api, "en")("POST", "/api/maps/assign", json={
        "deal_id": job["id"], "worker_id": best["worker_id"], "start": "2026-01-02T22:00", "override": True})
    assert status == 409 and body["error"] == "OUTSIDE_HOURS" and "working hours" in body["error_description"]


def test_a_busy_worker_takes_a_confirmed_override_kept_on_the_deal(api):
    portal = api.portal
    _, doc = api("GET", "/api/maps/jobs")
    picked = None
    for r in _rows(doc):
        if not (r["assigned"] and r["time"]):
            continue
        _, c = api("GET", f"/api/maps/candidates/{r['id']}")
        busy = [x for x in c["candidates"] if not x["fits"] and "нет свободного окна" in x["reason"]
                and x["worker_id"] != r["worker"]]
        if busy:
            picked = r, busy[0]
            break
    job, cand = picked
    status, body = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": cand["worker_id"]})
    assert status == 409 and body["error"] == "WORKER_BUSY", body
    assert "подтвердите" in body["error_description"]
    assert int(portal.db.deals.get(job["id"])[WORKER]) == job["worker"]         # nothing written
    assert not _bound_events(portal, job["id"]) and not _deal_comments(portal, job["id"])
    status, body = _as(api, "en")("POST", "/api/maps/assign", json={"deal_id": job["id"],
                                                                   "worker_id": cand["worker_id"]})
    assert status == 409 and "confirm the override" in body["error_description"]
    status, body = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": cand["worker_id"],
                                                         "override": "yes"})
    assert status == 400 and body["error"] == "BAD_REQUEST"                       # a flag, not a word

    status, res = api("POST", "/api/maps/assign", json={"deal_id": job["id"], "worker_id": cand["worker_id"],
                                                        "override": True})
    assert status == 200 and res["override"] is True, res
    assert int(portal.db.deals.get(job["id"])[WORKER]) == cand["worker_id"]
    (note,) = _deal_comments(portal, job["id"])
    assert "Назначено поверх занятости" in note and cand["name"] in note and "[USER=1]" in note


def test_the_assign_robot_obeys_the_rules(api, cloud):
    """The robot's "assign the nearest free worker" (maps.assign.auto_assign): a job whose agreed time is
    over is assigned to nobody; a job without a time gets the first free slot from now on, never before."""
    from datetime import datetime

    from maps import assign as dispatch

    live, portal = api.live, api.portal
    cloud.clock.advance(9 * 3600)                       # 2026-01-01 12:00 in Moscow
    _, doc = api("GET", "/api/maps/jobs")
    rows = _rows(doc)
    past = next(r for r in rows if r["time"] and r["time"] < "2026-01-01T12:00")
    team = sorted({r["worker"] for r in rows if r["assigned"] and r["pipeline"] == past["pipeline"]})
    before = portal.db.deals.get(past["id"])[WORKER]
    assert dispatch.auto_assign(live.services, portal.member_id, past["id"], team) is None
    assert portal.db.deals.get(past["id"])[WORKER] == before                 # nothing written
    free = next(r for r in rows if not r["assigned"] and not r["time"])
    team = sorted({r["worker"] for r in rows if r["assigned"] and r["pipeline"] == free["pipeline"]})
    out = dispatch.auto_assign(live.services, portal.member_id, free["id"], team)
    assert out is not None and out["override"] is False
    assert datetime.fromisoformat(out["start"]).strftime("%Y-%m-%dT%H:%M") >= "2026-01-01T12:00"
