"""Offline events end to end (reference §2.4): the installer binds the domain events offline and the
ONOFFLINEEVENT ping online; what happens while the app is down is pulled once it is back, exactly once;
a portal without ``rest_offline_extended`` is pulled with clear=1 and still loses nothing."""
from __future__ import annotations

import time
from collections import Counter

import pytest

from b24app.inbox import OFFLINE_MODE_KEY, on_offline_event, pull_all_offline, pull_offline


@pytest.fixture
def store_url(sqlite_url):
    return sqlite_url


def _drain(worker, rounds=100):
    for _ in range(rounds):
        if worker.run_once() == 0 and not worker.services.store.inbox.counts().get("pending"):
            return
        time.sleep(0.02)


def _recorder(live_app, seen):
    def on(name):
        return lambda s, m, p: seen.append((name, str(p["data"]["FIELDS"]["ID"])))
    handlers = {n: on(n) for n in ("ONCRMDEALADD", "ONCRMDEALUPDATE")}
    handlers["ONOFFLINEEVENT"] = on_offline_event
    return live_app.worker(handlers)


def _methods(portal, since=0):
    return [(r.method, dict(r.params or {})) for r in portal.log[since:]]


def test_changes_while_app_is_down_arrive_once_when_it_is_back(live_app, portal):
    live_app.install(portal, mode="frame")
    assert live_app.store.kv.get(portal.member_id, OFFLINE_MODE_KEY) == "confirm"
    client = live_app.services.client(portal.member_id)
    portal.faults.drop_events = 1.0                 # the app is down: every POST to it is lost, pings too
    ids = [str(client.call("crm.deal.add", {"fields": {"TITLE": f"Deal {i}"}})) for i in range(3)]
    for _ in range(3):                              # 3 updates of one deal = one queue row (per object)
        client.call("crm.deal.update", {"id": ids[0], "fields": {"TITLE": "changed"}})
    portal.wait_events()
    portal.faults.drop_events = 0.0
    assert live_app.store.inbox.counts(portal.member_id) == {}            # nothing reached us online
    # back up: the worker's periodic sweep takes the queue
    assert pull_all_offline(live_app.services) == 4
    assert pull_all_offline(live_app.services) == 0
    assert portal.events.offline == []
    seen = []
    _drain(_recorder(live_app, seen))
    assert Counter(seen) == Counter([("ONCRMDEALADD", i) for i in ids] + [("ONCRMDEALUPDATE", ids[0])])


def test_onofflineevent_ping_makes_the_worker_pull(live_app, portal):
    live_app.install(portal, mode="frame")
    client = live_app.services.client(portal.member_id)
    mark = len(portal.log)
    deal = str(client.call("crm.deal.add", {"fields": {"TITLE": "pinged"}}))
    assert portal.wait_events()
    pings = [d for d in portal.deliveries if d.event == "ONOFFLINEEVENT"]
    assert pings and pings[-1].status == 200
    assert "event.offline.get" not in [m for m, _ in _methods(portal, mark)]   # nothing pulled yet
    seen = []
    _drain(_recorder(live_app, seen))
    assert seen == [("ONCRMDEALADD", deal)]
    assert ("event.offline.clear" in [m for m, _ in _methods(portal, mark)])
    assert portal.events.offline == []


def test_portal_without_offline_extended_is_pulled_with_clear_1(live_app, portal):
    portal.settings.features["rest_offline_extended"] = False
    live_app.install(portal, mode="frame")
    assert live_app.store.kv.get(portal.member_id, OFFLINE_MODE_KEY) == "clear"
    client = live_app.services.client(portal.member_id)
    mark = len(portal.log)
    ids = [str(client.call("crm.deal.add", {"fields": {"TITLE": f"Deal {i}"}})) for i in range(3)]
    assert portal.wait_events()
    seen = []
    _drain(_recorder(live_app, seen))
    assert sorted(seen) == sorted(("ONCRMDEALADD", i) for i in ids)
    gets = [p for m, p in _methods(portal, mark) if m == "event.offline.get"]
    assert gets and all(str(p.get("clear")) == "1" for p in gets)
    assert "event.offline.clear" not in [m for m, _ in _methods(portal, mark)]
    assert portal.events.offline == []
    assert pull_offline(live_app.services, portal.member_id) == 0


def test_portal_refusing_confirm_mode_falls_back_to_clear(live_app, portal):
    """Recorded "confirm", but the portal's plan changed: the refused clear=0 switches the mode, no row lost."""
    live_app.install(portal, mode="frame")
    client = live_app.services.client(portal.member_id)
    portal.faults.drop_events = 1.0
    ids = [str(client.call("crm.deal.add", {"fields": {"TITLE": f"Deal {i}"}})) for i in range(2)]
    portal.wait_events()
    portal.faults.drop_events = 0.0
    portal.settings.features["rest_offline_extended"] = False
    assert pull_offline(live_app.services, portal.member_id) == 2
    assert live_app.store.kv.get(portal.member_id, OFFLINE_MODE_KEY) == "clear"
    seen = []
    _drain(_recorder(live_app, seen))
    assert sorted(seen) == sorted(("ONCRMDEALADD", i) for i in ids)
