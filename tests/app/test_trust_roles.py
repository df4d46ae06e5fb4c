"""Issue 11, point 3: an ordinary employee who can open the app (a field worker) used to act with the
installing admin's token on every page endpoint. Now every page session comes from a verified frame, acts
with that person's own portal token, and is held to their app role on the server.

Each test opens real frames of the demo portal through the sandbox (user 4 is a field worker of
department 2 "Выездная служба", user 1 the portal admin) and checks the answers and the portal's own
request log (who the portal saw as the caller)."""
from __future__ import annotations

import json
import re

import pytest
import requests

from b24app import roles
from b24app import session as page_sessions
from b24sandbox.frames import frame_data, with_query
from tests.app.conftest import live_app, store_url  # noqa: F401 - the live app fixture

WORKER, OTHER_WORKER, MANAGER = 4, 5, 3


@pytest.fixture
def portal(cloud):
    return cloud.add_portal(seed="demo")


@pytest.fixture
def demo(live_app, portal):
    res = live_app.install(portal)
    assert res["status"] == 200, res
    return live_app, portal


def open_frame(live, portal, user_id: int, path: str = "/placements/orders-map", placement: str = "LEFT_MENU",
               lang: str = "ru") -> dict:
    """The page config a real frame of this user gets (session, can, ...)."""
    query, form = frame_data(portal, live.client_id, user_id=user_id, lang=lang, placement=placement)
    r = requests.post(with_query(live.url + path, query), data=form, timeout=30)
    assert r.status_code == 200, r.text[:300]
    raw = re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>', r.text, re.S).group(1)
    return json.loads(raw)


def call(live, token: str, method: str, path: str, **kw):
    r = requests.request(method, live.url + path, headers={page_sessions.HEADER: token}, timeout=60, **kw)
    return r.status_code, (r.json() if r.headers.get("Content-Type", "").startswith("application/json") else r.text)


def _rows(doc):
    return [dict(zip(doc["columns"], r)) for r in doc["rows"]]


def test_a_field_worker_sees_only_his_own_jobs(demo):
    live, portal = demo
    admin = open_frame(live, portal, 1)
    worker = open_frame(live, portal, WORKER)
    assert admin["can"]["dispatch"] is True and worker["can"] == {"dispatch": False, "jobs.all": False,
                                                                 "settings": False}
    status, everything = call(live, admin["session"], "GET", "/api/maps/jobs")
    assert status == 200
    status, mine = call(live, worker["session"], "GET", "/api/maps/jobs")
    assert status == 200
    # his jobs that the portal lets him read (the demo gives him the CRM role "own deals")
    expected = {r["id"] for r in _rows(everything) if r["worker"] == WORKER
                and int(portal.db.deals.get(r["id"])["ASSIGNED_BY_ID"]) == WORKER}
    assert expected and {r["id"] for r in _rows(mine)} == expected
    assert len(_rows(everything)) > len(expected) * 5          # the whole map is far bigger than his part
    # his own day and route, nobody else's
    assert call(live, worker["session"], "GET", f"/api/maps/worker-day?worker={WORKER}")[0] == 200
    status, err = call(live, worker["session"], "GET", f"/api/maps/worker-day?worker={OTHER_WORKER}")
    assert status == 403 and err["error"] == "ROLE_REQUIRED" and "диспетчер" in err["error_description"]
    assert call(live, worker["session"], "GET", f"/api/maps/route?worker={OTHER_WORKER}")[0] == 403


def test_a_field_worker_cannot_reassign_reschedule_or_read_the_desk(demo):
    live, portal = demo
    admin = open_frame(live, portal, 1)
    worker = open_frame(live, portal, WORKER)
    rows = _rows(call(live, admin["session"], "GET", "/api/maps/jobs")[1])
    his = next(r for r in rows if r["worker"] == WORKER)
    someone_elses = next(r for r in rows if r["worker"] not in (0, WORKER))
    before = {d: portal.db.deals.get(d) for d in (his["id"], someone_elses["id"])}
    calls_before = len(portal.log)
    refused = [
        ("POST", "/api/maps/assign", {"json": {"deal_id": someone_elses["id"], "worker_id": WORKER}}),
        ("POST", "/api/maps/assign", {"json": {"deal_id": his["id"], "worker_id": WORKER,
                                               "start": "2030-01-10T09:00"}}),        # moving his own job
        ("GET", f"/api/maps/candidates/{his['id']}", {}),
        ("GET", f"/api/maps/slots/{his['id']}", {}),
        ("GET", f"/api/maps/swap?deal={his['id']}&to={OTHER_WORKER}", {}),
        ("POST", "/api/maps/pin", {"json": {"id": his["id"], "lat": 55.7, "lon": 37.6}}),
        ("GET", "/api/maps/unplaced", {}),
        ("GET", "/api/maps/settings", {}),
        ("PUT", "/api/maps/settings", {"json": {}}),
        ("GET", "/api/maps/job-stats", {}),
        ("GET", "/api/desk/lookup?phone=%2B74950000000", {}),
        ("POST", "/api/desk/request", {"json": {}}),
        ("GET", "/api/1c/review", {}),
        ("GET", "/api/1c/settings", {}),
        ("POST", "/api/1c/settings", {"json": {}}),
        ("GET", "/api/visits/settings", {}),
        ("GET", "/api/visits/stats", {}),
        ("GET", f"/api/visits/month?manager={MANAGER}", {}),
        ("GET", "/api/access/roles", {}),
        ("PUT", "/api/access/roles", {"json": {"users": {str(WORKER): ["admin"]}}}),
        ("GET", "/api/reports/visits", {}),
        ("POST", "/install/retry", {}),
    ]
    for method, path, kw in refused:
        status, body = call(live, worker["session"], method, path, **kw)
        assert status == 403, (method, path, status, body)
        assert body["error"] in ("ROLE_REQUIRED", "ACCESS_DENIED"), (path, body)
    # nothing reached the portal on his behalf, nothing changed there, and he did not make himself admin
    assert len(portal.log) == calls_before
    assert {d: portal.db.deals.get(d) for d in before} == before
    assert roles.load(live.store.kv, portal.member_id)["users"] == {}


def test_what_an_employee_may_do_runs_as_him_and_the_portal_decides(demo):
    live, portal = demo
    app = live.services.client(portal.member_id)
    his, theirs = sorted(portal.db.companies.rows)[:2]
    app.call("crm.company.update", {"id": his, "fields": {"ASSIGNED_BY_ID": WORKER}})
    app.call("crm.company.update", {"id": theirs, "fields": {"ASSIGNED_BY_ID": MANAGER}})
    worker = open_frame(live, portal, WORKER, path="/placements/visit-calendar")
    mark = len(portal.log)
    status, body = call(live, worker["session"], "POST", f"/api/visits/company/{his}",
                        json={"fields": {"COMMENTS": "ворота с торца"}})
    assert status == 200, body
    writes = [r for r in portal.log[mark:] if r.method == "crm.company.update"]
    assert writes and {r.user_id for r in writes} == {WORKER} and all(r.auth_kind == "oauth" for r in writes)
    assert int(portal.db.companies.get(his)["MODIFY_BY_ID"]) == WORKER
    # another's company: his CRM role lets him read it, not write it — the portal refuses, we say so
    before = dict(portal.db.companies.get(theirs))
    status, err = call(live, worker["session"], "POST", f"/api/visits/company/{theirs}",
                       json={"fields": {"COMMENTS": "чужая"}})
    assert status == 403 and err["error"] == "PORTAL_ACCESS_DENIED", err
    assert portal.db.companies.get(theirs) == before


def test_a_dispatcher_role_reassigns_and_the_portal_records_the_dispatcher(demo):
    live, portal = demo
    roles.save(live.store.kv, portal.member_id, {"users": {str(MANAGER): ["dispatcher"]}})
    admin = open_frame(live, portal, 1)
    dispatcher = open_frame(live, portal, MANAGER)
    assert dispatcher["can"]["dispatch"] is True and dispatcher["can"]["settings"] is False
    rows = _rows(call(live, admin["session"], "GET", "/api/maps/jobs")[1])
    job = next(r for r in rows if r["worker"] == WORKER and r["pipeline"] == "measurements")
    mark = len(portal.log)
    status, body = call(live, dispatcher["session"], "POST", "/api/maps/assign",
                        json={"deal_id": job["id"], "worker_id": OTHER_WORKER, "override": True})
    assert status == 200, body
    # the writes are the dispatcher's; the map's shared cache then reads the deal back with the app's token
    writes = [r for r in portal.log[mark:] if r.method == "crm.deal.update"
              or (r.method == "batch" and "crm.deal.update" in str(r.params))]
    assert writes and {r.user_id for r in writes} == {MANAGER}
    assert call(live, dispatcher["session"], "GET", "/api/maps/settings")[0] == 403


def test_a_department_role_applies_and_the_refusal_is_in_english_on_an_english_portal(demo):
    live, portal = demo
    roles.save(live.store.kv, portal.member_id, {"departments": {"2": ["dispatcher"]}})
    worker = open_frame(live, portal, WORKER)
    assert worker["can"]["dispatch"] is True
    roles.save(live.store.kv, portal.member_id, {})
    plain = open_frame(live, portal, WORKER, lang="en")
    status, err = call(live, plain["session"], "GET", "/api/maps/unplaced")
    assert status == 403 and err["error_description"].startswith("Not allowed in the app") \
        and "dispatcher" in err["error_description"]


def test_no_session_without_a_frame_and_none_in_the_url(demo):
    live, portal = demo
    worker = open_frame(live, portal, WORKER)
    r = requests.get(live.url + "/api/maps/jobs?session=" + worker["session"], timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "NO_SESSION"
    r = requests.get(live.url + "/api/maps/jobs", headers={page_sessions.HEADER: "x" * 43}, timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "BAD_SESSION"


def test_a_persons_tokens_are_kept_sealed_and_refreshed_as_him(demo):
    """The frame's AUTH_ID/REFRESH_ID are kept for acting as the person: sealed in the database, and when
    the access token expires his own refresh token renews it — never the app's."""
    import sqlalchemy as sa

    live, portal = demo
    worker = open_frame(live, portal, WORKER)
    with live.store.engine.connect() as c:
        row = c.execute(sa.text("SELECT access_token, refresh_token FROM user_tokens WHERE user_id = :u"),
                        {"u": WORKER}).one()
    assert row.access_token.startswith("fernet:") and row.refresh_token.startswith("fernet:")
    kept = live.store.user_tokens.get(portal.member_id, WORKER)
    assert kept.access_token not in row.access_token and kept.refresh_token not in row.refresh_token
    app_refreshes = portal.refresh_count
    portal.clock.advance(3700)                          # past the person's one-hour access token
    status, doc = call(live, worker["session"], "GET", "/api/maps/jobs")
    assert status == 200 and doc["rows"]
    renewed = live.store.user_tokens.get(portal.member_id, WORKER)
    assert renewed.token_version == kept.token_version + 1 and renewed.access_token != kept.access_token
    last = [r for r in portal.log if r.method == "crm.deal.list"][-1]
    assert last.user_id == WORKER
    assert portal.refresh_count >= app_refreshes + 1
