"""The inbox end to end: delivered events run once, replays are dropped, failures retry, offline events
pulled after downtime run once, and two portals never see each other's data."""
from __future__ import annotations

import time

import pytest
import requests

from b24app.inbox import accept_event, pull_offline
from b24sandbox.events import portal_form as flatten


@pytest.fixture
def store_url(db_url):
    return db_url


@pytest.fixture
def installed(live_app, portal):
    live_app.install(portal, mode="frame")
    return live_app, portal


def _drain(worker, rounds=50):
    for _ in range(rounds):
        if worker.run_once() == 0 and not worker.services.store.inbox.counts().get("pending"):
            return
        time.sleep(0.02)


def test_delivered_and_replayed_event_runs_once(installed):
    live_app, portal = installed
    seen = []
    worker = live_app.worker({"ONCRMDEALUPDATE": lambda s, m, p: seen.append((m, p["data"]))})
    portal.send_event_raw(live_app.client_id, "ONCRMDEALUPDATE", {"FIELDS": {"ID": "42"}},
                          handler=live_app.url + "/events")
    assert portal.wait_events()
    delivery = portal.deliveries[-1]
    assert delivery.status == 200
    replay = requests.post(delivery.url, data=delivery.form, timeout=10)       # the same POST again
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    _drain(worker)
    assert seen == [(portal.member_id, {"FIELDS": {"ID": "42"}})]
    assert live_app.store.inbox.counts(portal.member_id) == {"done": 1}


def _deliver_update(live_app, portal, deal_id: str):
    portal.send_event_raw(live_app.client_id, "ONCRMDEALUPDATE", {"FIELDS": {"ID": deal_id}},
                          handler=live_app.url + "/events")
    assert portal.wait_events()
    delivery = portal.deliveries[-1]
    assert delivery.status == 200
    return delivery


def test_two_updates_in_one_second_both_run(installed):
    """A real portal posts only {FIELDS: {ID}} and ``ts`` in whole seconds: a second genuine update of the
    same deal in the same second is no replay once the first was handled — it must run too."""
    live_app, portal = installed
    seen = []
    worker = live_app.worker({"ONCRMDEALUPDATE": lambda s, m, p: seen.append(p["data"]["FIELDS"]["ID"])})
    first = _deliver_update(live_app, portal, "42")
    _drain(worker)
    assert seen == ["42"]
    second = _deliver_update(live_app, portal, "42")            # the portal's clock has not moved
    assert dict(first.form)["ts"] == dict(second.form)["ts"]
    assert dict(first.form)["event_handler_id"] == dict(second.form)["event_handler_id"]
    _drain(worker)
    assert seen == ["42", "42"]
    assert live_app.store.inbox.counts(portal.member_id) == {"done": 2}


def test_slow_handler_runs_once_with_two_workers(installed):
    """Handlers slower than the lease: the running item's lease is kept alive, a queued item whose lease
    ran out goes to the other worker and is skipped by the first, so every event runs exactly once."""
    import threading

    live_app, portal = installed
    runs, lock, started = [], threading.Lock(), threading.Event()

    def slow(services, member_id, payload):
        with lock:
            runs.append(payload["data"]["FIELDS"]["ID"])
        started.set()
        time.sleep(2.0)

    for deal_id in ("1", "2"):
        _deliver_update(live_app, portal, deal_id)
    a, b = live_app.worker({"ONCRMDEALUPDATE": slow}), live_app.worker({"ONCRMDEALUPDATE": slow})
    a.lease_seconds = b.lease_seconds = 1.5
    stop = threading.Event()

    def poll_b():
        while not stop.is_set():
            if b.run_once() == 0:
                time.sleep(0.05)

    ta = threading.Thread(target=a.run_once)      # a claims both; the second waits behind a slow one
    ta.start()
    assert started.wait(10)
    tb = threading.Thread(target=poll_b)           # b polls for items whose lease ran out
    tb.start()
    try:
        ta.join(15)
        deadline = time.time() + 15
        while time.time() < deadline and live_app.store.inbox.counts(portal.member_id) != {"done": 2}:
            time.sleep(0.05)
    finally:
        stop.set()
        tb.join()
    assert sorted(runs) == ["1", "2"]
    assert live_app.store.inbox.counts(portal.member_id) == {"done": 2}


def test_failing_handler_is_retried_then_done(installed):
    live_app, portal = installed
    calls = []

    def flaky(services, member_id, payload):
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("portal busy")

    worker = live_app.worker({"ONCRMDEALADD": flaky})
    assert accept_event(live_app.store, portal.member_id,
                        {"event": "ONCRMDEALADD", "data": {"FIELDS": {"ID": "1"}}, "ts": "1"})
    deadline = time.time() + 5
    while time.time() < deadline and live_app.store.inbox.counts().get("done") != 1:
        worker.run_once()
        time.sleep(0.02)
    assert len(calls) == 3 and live_app.store.inbox.counts() == {"done": 1}


def test_gives_up_after_max_attempts(installed):
    live_app, portal = installed
    worker = live_app.worker({"ONCRMDEALADD": lambda *a: 1 / 0})
    worker.max_attempts = 2
    accept_event(live_app.store, portal.member_id, {"event": "ONCRMDEALADD", "data": {}, "ts": "2"})
    deadline = time.time() + 5
    while time.time() < deadline and not live_app.store.inbox.counts().get("failed"):
        worker.run_once()
        time.sleep(0.02)
    assert live_app.store.inbox.counts() == {"failed": 1}


def _add_deals(live_app, member_id, n):
    client = live_app.services.client(member_id)
    return [client.call("crm.deal.add", {"fields": {"TITLE": f"Deal {i}"}}) for i in range(n)]


def test_offline_events_after_downtime_processed_once(installed):
    live_app, portal = installed
    client = live_app.services.client(portal.member_id)
    # the installer bound the deal events offline (app.json "mode": "offline")
    assert {"event": "ONCRMDEALADD", "connector_id": "", "offline": 1} in client.call("event.get")
    portal.faults.drop_events = 1.0      # the app is "down": online deliveries are lost (no retries, §2.2)
    ids = _add_deals(live_app, portal.member_id, 3)          # ... and nothing reads the offline queue
    portal.wait_events()
    portal.faults.drop_events = 0.0
    assert len(portal.events.offline) == 3
    # a pull that crashed after reserving: rows hidden from a plain get, process_id remembered in KV
    res = client.call("event.offline.get", {"clear": 0, "limit": 2})
    live_app.store.kv.set(portal.member_id, "inbox.offline_process_id", res["process_id"])
    taken = pull_offline(live_app.services, portal.member_id)            # the reserved ones are not lost
    taken += pull_offline(live_app.services, portal.member_id)
    assert taken == 3
    assert pull_offline(live_app.services, portal.member_id) == 0
    assert pull_offline(live_app.services, portal.member_id) == 0
    assert portal.events.offline == []
    seen = []
    worker = live_app.worker({"ONCRMDEALADD": lambda s, m, p: seen.append(p["data"]["FIELDS"]["ID"])})
    _drain(worker)
    assert sorted(int(x) for x in seen) == sorted(int(i) for i in ids)


def test_two_portals_are_isolated(live_app, portal, cloud):
    b = cloud.add_portal(seed="empty")
    live_app.install(portal, mode="frame")
    live_app.install(b, mode="frame")
    a_auth = portal.auth_block(live_app.client_id, 1)
    # portal A's genuine application_token, claiming portal B's member_id
    forged = flatten({"event": "ONCRMDEALADD", "data": {"FIELDS": {"ID": "1"}}, "ts": "3",
                      "auth": {**a_auth, "member_id": b.member_id}})
    r = requests.post(live_app.url + "/events", data=forged, timeout=10)
    assert r.status_code == 401
    assert live_app.store.inbox.counts(b.member_id) == {}
    # every call of A's client goes to A
    b_before = len(b.log)
    a_before = len(portal.log)
    ids = _add_deals(live_app, portal.member_id, 2)
    assert len(b.log) == b_before and len(portal.log) == a_before + 2
    assert len(ids) == 2
    client_b = live_app.services.client(b.member_id)
    deals_b = list(client_b.list_all("crm.deal.list", {"select": ["ID", "TITLE"]}))
    assert deals_b == []
    assert live_app.store.portals.get(portal.member_id).client_endpoint == portal.client_endpoint
    assert live_app.store.portals.get(b.member_id).client_endpoint == b.client_endpoint


def test_onofflineevent_ping_pulls_the_queue(installed):
    """Offline binding + the ONOFFLINEEVENT ping: the worker sweeps the queue and handles each change once."""
    from b24app.inbox import EVENT_HANDLERS

    live_app, portal = installed
    # the installer bound the deal events offline and ONOFFLINEEVENT (minTimeout 1) to /events
    ids = _add_deals(live_app, portal.member_id, 2)
    assert portal.wait_events()
    seen = []
    worker = live_app.worker({"ONOFFLINEEVENT": EVENT_HANDLERS["ONOFFLINEEVENT"],
                              "ONCRMDEALADD": lambda s, m, p: seen.append(p["data"]["FIELDS"]["ID"])})
    _drain(worker)
    assert sorted(map(int, seen)) == sorted(map(int, ids))
    assert portal.events.offline == []


def test_needs_reinstall_portal_events_are_kept(installed):
    live_app, portal = installed
    live_app.store.portals.set_status(portal.member_id, "needs_reinstall")
    portal.send_event_raw(live_app.client_id, "ONCRMDEALUPDATE", {"FIELDS": {"ID": "9"}},
                          handler=live_app.url + "/events")
    assert portal.wait_events()
    assert portal.deliveries[-1].status == 200
    assert live_app.store.inbox.counts(portal.member_id) == {"pending": 1}
