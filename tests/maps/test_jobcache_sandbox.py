"""The map's job cache against the sandbox portal over HTTP, on SQLite and PostgreSQL (issue 19): a burst of
deal events costs ⌈N/50⌉ portal calls, a change whose event was lost is corrected by the safety net's one
call, a deletion we never heard of is drift and the cache is read again in full. Portal calls are counted in
the sandbox's own request log (HTTP requests; a batch is one)."""
from __future__ import annotations

import math
import re

import pytest
import responses

from b24app.inbox import accept_event
from b24app.registry import DISABLED_KEY
from maps import geocoding, jobcache
from maps.geocode import RateLimiter
from tests.app.conftest import live_app  # noqa: F401 - fixture
from tests.maps.test_assign_sandbox import _rows, api, portal  # noqa: F401 - fixtures


@pytest.fixture
def store_url(db_url):
    return db_url


def _http(portal, since: int) -> list:
    """The app's HTTP requests to the portal since ``since``, without the event plumbing (the sandbox's
    ONOFFLINEEVENT makes the worker pull the offline queue: event.offline.get/clear)."""
    return [r for r in portal.log[since:] if r.via == "http" and not r.method.startswith("event.offline.")]


def _quiet(portal):
    """The portal's own event POSTs (ONOFFLINEEVENT → a pull of the offline queue) are lost: the test hands
    the events to the inbox itself, so what reaches us — and when — is the test's choice."""
    portal.faults.drop_events = 1.0


def _drain(live):
    w = live.worker()
    while w.run_once():
        pass


def test_a_burst_of_deal_updates_costs_ceil_n_over_50_reads(api, monkeypatch):
    live, portal = api.live, api.portal
    member = portal.member_id
    _quiet(portal)
    # the 1C stage gate and the desk's work-order stage check read updated deals too: count the map's own reads
    live.store.kv.set(member, DISABLED_KEY, ["sync_1c", "desk"])
    monkeypatch.setattr(geocoding, "LIMITER", RateLimiter(0.0))
    status, doc = api("GET", "/api/maps/jobs")                # the first poll builds the cache
    assert status == 200
    cached = sorted(jobcache.load(live.store.engine, member))
    assert len(cached) >= 200
    burst = cached[:200]
    client = live.services.client(member)
    client.batch_many([("crm.deal.update", {"id": i, "fields": {"TITLE": f"Новое имя {i}"}}) for i in burst])

    since = len(portal.log)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_passthru(portal.url)
        rsps.get(re.compile(r"https://nominatim\.openstreetmap\.org/search.*"), json=[])
        for n, deal_id in enumerate(burst):
            accept_event(live.store, member, {"event": "ONCRMDEALUPDATE", "ts": str(n),
                                              "data": {"FIELDS": {"ID": str(deal_id)}}})
        _drain(live)
    status, after = api("GET", f"/api/maps/jobs?since={doc['version']}")
    calls = _http(portal, since)
    assert len(calls) <= math.ceil(200 / 50), [(c.method, c.params.get("cmd", {}).keys()) for c in calls]
    assert {c.method for c in calls} == {"batch"}
    assert status == 200 and after["version"] > doc["version"]
    titles = {r["id"]: r["title"] for r in _rows(after)}
    assert all(titles[i] == f"Новое имя {i}" for i in burst if i in titles)
    assert sum(1 for i in burst if i in titles) == sum(1 for r in _rows(doc) if r["id"] in burst)

    since = len(portal.log)                                   # three more polls: answered from the cache
    for _ in range(3):
        assert api("GET", "/api/maps/jobs")[0] == 200
        assert api("GET", f"/api/maps/jobs?since={after['version']}")[1].get("unchanged") is True
    assert _http(portal, since) == []


def test_a_lost_event_is_corrected_by_the_safety_net(api):
    live, portal = api.live, api.portal
    member = portal.member_id
    _quiet(portal)
    services = live.services
    portal.clock.advance(300)            # the seed's DATE_MODIFY is now older than the safety net's overlap
    api("GET", "/api/maps/jobs")
    cached = jobcache.load(live.store.engine, member)
    changed, deleted = sorted(cached)[:2]
    client = services.client(member)
    client.call("crm.deal.update", {"id": changed, "fields": {"TITLE": "Изменено, событие потеряно"}})

    since = len(portal.log)
    report = jobcache.safety_net(services, member)            # no event reached us: the "changed since" read
    assert report["full"] == 0 and report["drift"] is True and report["changed"] == 1
    assert len(_http(portal, since)) == 1                     # changed-since page and the count in one batch
    assert jobcache.load(live.store.engine, member)[changed].title == "Изменено, событие потеряно"

    since = len(portal.log)
    assert jobcache.safety_net(services, member) == {"full": 0, "changed": 0, "drift": False}
    assert len(_http(portal, since)) == 1                     # nothing changed: one call

    portal.db.deals.delete(deleted)                           # gone without an event: the count differs
    report = jobcache.safety_net(services, member)
    assert report["full"] == len(cached) - 1 and report["drift"] is True
    assert deleted not in jobcache.load(live.store.engine, member)


def test_deleted_and_closed_deals_leave_the_map_by_their_events(api):
    live, portal = api.live, api.portal
    member = portal.member_id
    _quiet(portal)
    live.store.kv.set(member, DISABLED_KEY, ["sync_1c", "desk"])
    api("GET", "/api/maps/jobs")
    cached = jobcache.load(live.store.engine, member)
    gone, won = sorted(cached)[-2:]
    client = live.services.client(member)
    client.call("crm.deal.delete", {"id": gone})
    job = cached[won]
    from install.registry import installed_ids

    ids = installed_ids(live.store, member)
    cat = ids.pipeline(job.pipeline).category_id
    won_stage = next(s["STATUS_ID"] for s in client.call("crm.status.list", {"filter": {
        "ENTITY_ID": f"DEAL_STAGE_{cat}" if cat else "DEAL_STAGE"}}) if s.get("SEMANTICS") == "S")
    client.call("crm.deal.update", {"id": won, "fields": {"STAGE_ID": won_stage}})
    for n, (name, deal_id) in enumerate((("ONCRMDEALDELETE", gone), ("ONCRMDEALUPDATE", won))):
        accept_event(live.store, member, {"event": name, "ts": str(n), "data": {"FIELDS": {"ID": str(deal_id)}}})
    _drain(live)
    left = jobcache.load(live.store.engine, member)
    assert gone not in left and won not in left and len(left) == len(cached) - 2


def test_a_poll_runs_the_overdue_safety_net_and_answers_from_the_cache(api, monkeypatch):
    live, portal = api.live, api.portal
    member = portal.member_id
    _quiet(portal)
    portal.clock.advance(300)
    status, doc = api("GET", "/api/maps/jobs")
    deal = sorted(jobcache.load(live.store.engine, member))[0]
    live.services.client(member).call("crm.deal.update", {"id": deal, "fields": {"TITLE": "Без события"}})
    since = len(portal.log)
    assert api("GET", "/api/maps/jobs")[0] == 200                     # not overdue: the cache, no portal call
    assert _http(portal, since) == []
    later = jobcache.CLOCK() + jobcache.SAFETY_EVERY + 1
    monkeypatch.setattr(jobcache, "CLOCK", lambda: later)
    status, after = api("GET", f"/api/maps/jobs?since={doc['version']}")
    assert status == 200 and len(_http(portal, since)) == 1           # one batch: the safety net
    assert {r["id"]: r["title"] for r in _rows(after)}[deal] == "Без события"
    since = len(portal.log)
    assert api("GET", "/api/maps/jobs")[0] == 200 and _http(portal, since) == []


def test_the_safety_net_rides_in_a_refresh_batch_when_half_due(api, monkeypatch):
    live, portal = api.live, api.portal
    member = portal.member_id
    _quiet(portal)
    live.store.kv.set(member, DISABLED_KEY, ["sync_1c", "desk"])
    portal.clock.advance(300)
    api("GET", "/api/maps/jobs")
    evented, lost = sorted(jobcache.load(live.store.engine, member))[:2]
    client = live.services.client(member)
    client.call("crm.deal.update", {"id": evented, "fields": {"TITLE": "С событием"}})
    client.call("crm.deal.update", {"id": lost, "fields": {"TITLE": "Событие потеряно"}})
    later = jobcache.CLOCK() + jobcache.SAFETY_EVERY / 2 + 1
    monkeypatch.setattr(jobcache, "CLOCK", lambda: later)
    since = len(portal.log)
    accept_event(live.store, member, {"event": "ONCRMDEALUPDATE", "ts": "1", "data": {"FIELDS": {"ID": str(evented)}}})
    _drain(live)
    calls = _http(portal, since)
    assert len(calls) == 1 and "server.time" in str(calls[0].params)   # one batch: the get and the safety net
    cached = jobcache.load(live.store.engine, member)
    assert cached[evented].title == "С событием" and cached[lost].title == "Событие потеряно"
    assert jobcache.state(live.store.engine, member).checked_at == later
