"""Lifecycle events proved, not believed: every employee has the APPLICATION_TOKEN (it is posted into each
frame), so a forged ONAPPUNINSTALL or ONAPPUPDATE carries the real one. Against the sandbox portal over
HTTP: a forged CLEAN uninstall deletes nothing (our token still works), a genuine one — the portal
revoked our tokens first — still wipes or marks the portal; an unreachable portal is re-checked later
instead of believed; forged updates queue no install job, a genuine one exactly one per version."""
from __future__ import annotations

from dataclasses import replace

import pytest
import requests
import sqlalchemy as sa

from b24app import lifecycle
from b24app.inbox import EVENT_HANDLERS, Worker
from b24app.install_flow import progress_of, run_install_job
from b24sandbox.events import portal_form as flatten
from b24app.store.interface import INSTALLED, UNINSTALLED
from b24app.store.sql import t_inbox
from install.jobs import on_app_update

DEAD = "http://127.0.0.1:1/rest/"                 # nothing listens there: the portal is "unreachable"


@pytest.fixture
def installed(live_app, portal):
    res = live_app.install(portal)
    assert res["progress"]["state"] == "done", res
    store = live_app.store
    store.kv.set(portal.member_id, "x", {"a": 1})
    portal.send_event_raw(live_app.client_id, "ONCRMDEALADD", {"FIELDS": {"ID": "1"}}, handler=live_app.url + "/events")
    assert portal.wait_events()
    assert store.inbox.counts(portal.member_id) == {"pending": 1}
    return live_app, portal


def _forged_uninstall(live_app, portal, clean=1):
    """What an employee can build: the frame's APPLICATION_TOKEN and the portal's public facts."""
    form = flatten({"event": "ONAPPUNINSTALL", "data": {"LANGUAGE_ID": "ru", "CLEAN": clean}, "ts": "1700000000",
                    "auth": {"domain": portal.domain, "member_id": portal.member_id,
                             "client_endpoint": portal.client_endpoint,
                             "application_token": portal.installs[live_app.client_id].application_token}})
    return requests.post(live_app.url + "/events", data=form, timeout=30)


def _untouched(live_app, portal):
    p = live_app.store.portals.get(portal.member_id)
    assert p is not None and p.status == INSTALLED and p.access_token
    assert live_app.store.kv.get(portal.member_id, "x") == {"a": 1}
    assert _items(live_app, portal.member_id, "event", "ONCRMDEALADD")           # the portal's rows are all there
    assert live_app.client_id in portal.installs                   # the app is still installed on the portal


def _checks(portal, since):
    return [(r.method, r.status) for r in portal.log[since:] if r.method == "app.info"]


def _set_endpoint(live_app, member_id, endpoint):
    store = live_app.store
    store.portals.upsert(replace(store.portals.get(member_id), client_endpoint=endpoint))


def _drain(live_app, handlers=None):
    worker = Worker(live_app.services, handlers, backoff=0.01, max_backoff=0.02)
    while worker.run_once():
        pass


def test_forged_clean_uninstall_with_the_real_application_token_deletes_nothing(installed, caplog):
    live_app, portal = installed
    mark = len(portal.log)
    r = _forged_uninstall(live_app, portal)
    assert r.status_code == 200 and r.json() == {"result": True}
    _untouched(live_app, portal)
    assert _checks(portal, mark) == [("app.info", 200)]             # one question to the portal, answered
    warning = [m for m in caplog.messages if "ONAPPUNINSTALL" in m and "ignored" in m]
    assert warning and portal.installs[live_app.client_id].application_token not in warning[0]
    # our stored access token has expired meanwhile: refreshed once, still ours → still forged
    refreshes = portal.refresh_count
    live_app.cloud.clock.advance(3700)
    assert _forged_uninstall(live_app, portal, clean=0).status_code == 200
    _untouched(live_app, portal)
    assert portal.refresh_count == refreshes + 1


@pytest.mark.parametrize("clean", [True, False])
def test_genuine_uninstall_is_still_acted_on(installed, clean):
    live_app, portal = installed
    mark = len(portal.log)
    portal.uninstall_app(live_app.client_id, clean=clean)          # revokes our tokens, then posts the event
    assert portal.wait_events()
    assert [s for m, s in _checks(portal, mark)] == [401]          # our token: APPLICATION_NOT_FOUND
    p = live_app.store.portals.get(portal.member_id)
    if clean:
        assert p is None and live_app.store.kv.items(portal.member_id) == {}
        assert live_app.store.inbox.counts(portal.member_id) == {}
    else:
        assert p.status == UNINSTALLED and p.access_token is None
        assert live_app.store.kv.get(portal.member_id, "x") == {"a": 1}


def test_unreachable_portal_forged_uninstall_is_rechecked_not_believed(installed):
    live_app, portal = installed
    mid, endpoint = portal.member_id, live_app.store.portals.get(portal.member_id).client_endpoint
    _set_endpoint(live_app, mid, DEAD)
    assert _forged_uninstall(live_app, portal).status_code == 200
    assert _forged_uninstall(live_app, portal).status_code == 200            # one re-check pending, not two
    _untouched(live_app, portal)
    pending = _items(live_app, mid, lifecycle.RECHECK_KIND)
    assert [s for s, _ in pending] == ["pending"]
    _set_endpoint(live_app, mid, endpoint)                                   # the portal answers again
    _drain(live_app, {k: v for k, v in EVENT_HANDLERS.items() if k.startswith(lifecycle.RECHECK_KIND)})
    _untouched(live_app, portal)
    assert [s for s, _ in _items(live_app, mid, lifecycle.RECHECK_KIND)] == ["done"]


def test_unreachable_portal_genuine_uninstall_is_acted_on_later(installed):
    live_app, portal = installed
    mid, endpoint = portal.member_id, live_app.store.portals.get(portal.member_id).client_endpoint
    _set_endpoint(live_app, mid, DEAD)
    portal.uninstall_app(live_app.client_id, clean=True)
    assert portal.wait_events()
    assert live_app.store.portals.get(mid).status == INSTALLED               # nothing deleted on an unproven event
    recheck = {k: v for k, v in EVENT_HANDLERS.items() if k.startswith(lifecycle.RECHECK_KIND)}
    # still unreachable, and the inbox gives up on the item: a fresh check is queued, nothing is lost
    Worker(live_app.services, recheck, max_attempts=1).run_once()
    assert live_app.store.portals.get(mid) is not None
    assert [s for s, _ in _items(live_app, mid, lifecycle.RECHECK_KIND)] == ["failed", "pending"]
    _set_endpoint(live_app, mid, endpoint)
    _drain(live_app, recheck)
    assert live_app.store.portals.get(mid) is None and live_app.store.kv.items(mid) == {}


# --- ONAPPUPDATE -----------------------------------------------------------------------------------------
def _items(live_app, member_id, kind, name=None):
    i = t_inbox.c
    q = sa.select(i.status, i.name).where(i.member_id == member_id, i.kind == kind)
    with live_app.store.engine.connect() as c:
        return [(r.status, r.name) for r in c.execute(q.order_by(i.id)) if name in (None, r.name)]


UPDATE_AND_JOB = {"ONAPPUPDATE": on_app_update, "app:INSTALL": run_install_job}


def _install_jobs(live_app, member_id):
    return len(_items(live_app, member_id, "app", "INSTALL"))


def _update_form(portal, client_id, version, **auth):
    block = portal.auth_block(client_id, 2, refresh=True)          # an employee's own genuine tokens
    block.update(auth)
    return flatten({"event": "ONAPPUPDATE", "event_handler_id": "7", "ts": "1700000000",
                    "data": {"VERSION": version, "PREVIOUS_VERSION": "1", "LANGUAGE_ID": "ru"}, "auth": block})


def test_forged_updates_queue_no_install_job(installed):
    live_app, portal = installed
    mid, mark = portal.member_id, len(portal.log)
    jobs = _install_jobs(live_app, mid)
    forged = [_update_form(portal, live_app.client_id, "2", access_token="0" * 64),   # a made-up token
              _update_form(portal, live_app.client_id, "1"),                           # an employee's real token
              _update_form(portal, live_app.client_id, "99")]                          # ... claiming a new version
    for form in forged:
        r = requests.post(live_app.url + "/events", data=form, timeout=30)
        assert r.status_code == 200 and r.json() == {"result": True, "duplicate": True}, r.text
    _drain(live_app, UPDATE_AND_JOB)
    assert _install_jobs(live_app, mid) == jobs                     # 3 forged posts → 0 install jobs
    assert _items(live_app, mid, "event", "ONAPPUPDATE") == []
    assert len(portal.log) == mark                                  # and 0 calls to the portal


def test_genuine_update_queues_one_job_per_version(installed):
    live_app, portal = installed
    mid = portal.member_id
    jobs = _install_jobs(live_app, mid)
    for version, expected in (("2", 1), ("3", 1)):
        mark = len(portal.deliveries)
        portal.update_app(live_app.client_id, version)
        assert portal.wait_events()
        genuine = portal.deliveries[mark]
        assert genuine.event == "ONAPPUPDATE" and genuine.status == 200
        for _ in range(2):                                          # the same delivery replayed: not news
            assert requests.post(live_app.url + "/events", data=genuine.form, timeout=30).status_code == 200
        _drain(live_app, UPDATE_AND_JOB)                            # the event queues the job, the job runs
        assert _install_jobs(live_app, mid) == jobs + expected, version
        assert live_app.store.kv.get(mid, lifecycle.VERSION_KEY) == version
        assert progress_of(live_app.store, mid)["state"] == "done"
        jobs = _install_jobs(live_app, mid)
