"""Forged calls are refused before any work: 401/403, nothing in the inbox, no call to anyone else."""
from __future__ import annotations

import pytest
import requests

from b24sandbox.frames import frame_data
from b24sandbox.events import portal_form as flatten


@pytest.fixture
def store_url(db_url):
    return db_url


@pytest.fixture
def installed(live_app, portal):
    live_app.install(portal, mode="frame")
    return live_app, portal


def _event(portal, client_id, **auth_overrides) -> list:
    payload = {"event": "ONCRMDEALUPDATE", "event_handler_id": "7", "data": {"FIELDS": {"ID": "5"}},
               "ts": "1700000000", "auth": portal.auth_block(client_id, 1)}
    payload["auth"].update(auth_overrides)
    return flatten(payload)


def _nothing_happened(live_app, portal, log_before: int):
    assert live_app.store.inbox.counts() == {}
    assert len(portal.log) == log_before


def test_genuine_event_is_accepted(installed):
    live_app, portal = installed
    r = requests.post(live_app.url + "/events", data=_event(portal, live_app.client_id), timeout=10)
    assert r.status_code == 200, r.text
    assert live_app.store.inbox.counts(portal.member_id) == {"pending": 1}


@pytest.mark.parametrize("overrides, status", [
    ({"application_token": "0" * 32}, 401),
    ({"application_token": ""}, 401),
    ({"member_id": "f" * 32}, 401),                   # unknown portal
])
def test_forged_event_is_refused(installed, overrides, status):
    live_app, portal = installed
    before = len(portal.log)
    r = requests.post(live_app.url + "/events", data=_event(portal, live_app.client_id, **overrides), timeout=10)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error", "error_description"}
    _nothing_happened(live_app, portal, before)


def test_event_for_uninstalled_portal_is_403(installed):
    live_app, portal = installed
    live_app.store.portals.set_status(portal.member_id, "uninstalled")
    r = requests.post(live_app.url + "/events", data=_event(portal, live_app.client_id), timeout=10)
    assert r.status_code == 403
    assert live_app.store.inbox.counts() == {}


def test_forged_uninstall_keeps_portal(installed):
    live_app, portal = installed
    form = flatten({"event": "ONAPPUNINSTALL", "data": {"CLEAN": 1}, "ts": "1",
                    "auth": {"member_id": portal.member_id, "application_token": "nope"}})
    r = requests.post(live_app.url + "/events", data=form, timeout=10)
    assert r.status_code == 401
    assert live_app.store.portals.get(portal.member_id).status == "installed"


def _robot(portal, client_id, **auth_overrides) -> list:
    payload = {"workflow_id": "wf1", "code": "notify", "event_token": "tok|wf1|A1|e1",
               "document_id": ["crm", "CCrmDocumentDeal", "DEAL_5"],
               "document_type": ["crm", "CCrmDocumentDeal", "DEAL"], "properties": {"text": "Привет"},
               "use_subscription": "Y", "timeout_duration": "0", "ts": "1700000000",
               "auth": portal.auth_block(client_id, 1, refresh=True)}
    payload["auth"].update(auth_overrides)
    return flatten(payload)


def test_robot_call_goes_to_inbox_with_event_token(installed):
    live_app, portal = installed
    r = requests.post(live_app.url + "/robots/notify", data=_robot(portal, live_app.client_id), timeout=10)
    assert r.status_code == 200, r.text
    item = live_app.store.inbox.claim("t")[0]
    assert (item.kind, item.name) == ("robot", "notify")
    assert item.payload["event_token"] == "tok|wf1|A1|e1"
    assert item.payload["document_id"] == ["crm", "CCrmDocumentDeal", "DEAL_5"]
    assert item.payload["properties"] == {"text": "Привет"}
    assert "access_token" not in item.payload["auth"] and "refresh_token" not in item.payload["auth"]


def test_forged_robot_call_is_refused(installed):
    live_app, portal = installed
    before = len(portal.log)
    r = requests.post(live_app.url + "/robots/notify",
                      data=_robot(portal, live_app.client_id, application_token="bad"), timeout=10)
    assert r.status_code == 401
    _nothing_happened(live_app, portal, before)


def test_robot_call_with_other_portals_member_id_is_refused(installed, cloud):
    """Portal A's genuine auth block claiming installed portal B: A's token is not B's → 401, nothing
    queued, neither portal called."""
    live_app, portal = installed
    other = cloud.add_portal(seed="empty")
    live_app.install(other, mode="frame")
    before, other_before = len(portal.log), len(other.log)
    r = requests.post(live_app.url + "/robots/notify",
                      data=_robot(portal, live_app.client_id, member_id=other.member_id), timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "INVALID_APPLICATION_TOKEN"
    assert live_app.store.inbox.counts() == {}
    assert len(portal.log) == before and len(other.log) == other_before


@pytest.mark.parametrize("how", ["status", "clean_uninstall"])
def test_robot_call_for_uninstalled_portal_is_refused(installed, how):
    live_app, portal = installed
    form = _robot(portal, live_app.client_id)            # built while the app was still installed
    if how == "status":
        live_app.store.portals.set_status(portal.member_id, "uninstalled")
        expected = 403
    else:
        portal.uninstall_app(live_app.client_id, clean=True)       # ONAPPUNINSTALL CLEAN=1 → portal forgotten
        assert portal.wait_events()
        assert live_app.store.portals.get(portal.member_id) is None
        expected = 401
    before = len(portal.log)
    r = requests.post(live_app.url + "/robots/notify", data=form, timeout=10)
    assert r.status_code == expected, r.text
    assert live_app.store.inbox.counts() == {}
    assert len(portal.log) == before


# --- frames -----------------------------------------------------------------------------------------
def _frame(portal, client_id, lang="ru", **form_overrides):
    query, form = frame_data(portal, client_id, lang=lang)
    form.update(form_overrides)
    return query, form


def _calls(portal, method):
    """HTTP requests the portal served for ``method`` — alone, or inside a batch (a frame check asks
    ``user.current`` and ``user.admin`` in one batch request)."""
    def asks(r):
        if r.method == method:
            return r.via == "http"
        cmd = (r.params or {}).get("cmd") if r.method == "batch" else None
        return isinstance(cmd, dict) and any(str(c).split("?")[0] == method for c in cmd.values())
    return [r for r in portal.log if asks(r)]


def test_frame_main_page_ru_and_en_and_cached_check(installed):
    live_app, portal = installed
    q, f = _frame(portal, live_app.client_id, lang="ru")
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 200 and 'data-b24app="main"' in r.text
    assert "Портал" in r.text and portal.domain in r.text and "установлено" in r.text
    assert live_app.settings.bx24_js_url in r.text
    n = len(_calls(portal, "user.current"))
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)     # same AUTH_ID: cached
    assert r.status_code == 200 and len(_calls(portal, "user.current")) == n
    q, f = _frame(portal, live_app.client_id, lang="en")
    r = requests.post(live_app.url + "/placements/CRM_DEAL_DETAIL_TAB", params=q,
                      data={**f, "PLACEMENT": "CRM_DEAL_DETAIL_TAB", "PLACEMENT_OPTIONS": '{"ID":"5"}'}, timeout=10)
    assert r.status_code == 200 and "Portal" in r.text and "CRM_DEAL_DETAIL_TAB" in r.text


def test_frame_needs_reinstall_warning(installed):
    live_app, portal = installed
    live_app.store.portals.set_status(portal.member_id, "needs_reinstall")
    q, f = _frame(portal, live_app.client_id)
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 200 and 'data-b24app="reinstall-warning"' in r.text


def test_forged_frames_are_refused(installed, cloud, attacker):
    """Every local check (member_id, APPLICATION_TOKEN, DOMAIN) runs before anything leaves the app."""
    live_app, portal = installed
    att_url, hits = attacker
    host = att_url.split("//", 1)[1]
    before = len(portal.log)
    q, f = _frame(portal, live_app.client_id)
    q["DOMAIN"] = host                                                       # spoofed DOMAIN
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 403 and "WRONG_DOMAIN" in r.text
    q, f = _frame(portal, live_app.client_id)
    del q["DOMAIN"]
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 403
    q, f = _frame(portal, live_app.client_id)                               # a genuine AUTH_ID without
    f.pop("APPLICATION_TOKEN")                                               # the application token
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 401 and "INVALID_APPLICATION_TOKEN" in r.text
    # a genuine token of another portal, claiming this portal's member_id
    other = cloud.add_portal(seed="empty")
    live_app.install(other, mode="frame")
    before = len(portal.log)
    other_before = len(other.log)
    q, f = _frame(other, live_app.client_id)
    f["member_id"], q["DOMAIN"] = portal.member_id, portal.domain
    f.pop("APPLICATION_TOKEN")
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 401
    q, f = _frame(other, live_app.client_id, member_id=portal.member_id)   # with other's APPLICATION_TOKEN
    q["DOMAIN"] = portal.domain
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 401
    q, f = _frame(portal, live_app.client_id, member_id="e" * 32)
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 403
    assert len(portal.log) == before and len(other.log) == other_before    # refused before any call
    assert hits == []
    assert live_app.store.inbox.counts() == {}


def test_refused_auth_id_is_not_asked_twice(installed):
    """A frame that passes the local checks but carries a bad AUTH_ID costs the portal one call, then
    the refusal is remembered for a while."""
    live_app, portal = installed
    q, f = _frame(portal, live_app.client_id, AUTH_ID="not-a-token")
    n = len(_calls(portal, "user.current"))
    for _ in range(3):
        r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
        assert r.status_code == 401 and "INVALID_AUTH" in r.text
    assert len(_calls(portal, "user.current")) == n + 1


def test_frame_domain_case_and_port(installed):
    """A legitimate DOMAIN (host:port in the sandbox) passes whatever its case."""
    live_app, portal = installed
    q, f = _frame(portal, live_app.client_id)
    assert ":" in q["DOMAIN"]
    q["DOMAIN"] = q["DOMAIN"].upper()
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 200 and 'data-b24app="main"' in r.text


def test_frame_checks_take_the_portals_request_budget(installed):
    """AUTH_ID checks go through the portal's leaky bucket, shared with the app's own calls: forged
    frames cannot push the portal past its limit; when the budget is gone the frame is answered 503."""
    from b24app.throttle import Throttle

    live_app, portal = installed
    q, good = _frame(portal, live_app.client_id)
    assert requests.post(live_app.url + "/app", params=q, data=good, timeout=10).status_code == 200
    live_app.services.throttle = Throttle(burst=2, drain=0.001)       # two slots, none coming back soon
    n = len(_calls(portal, "user.current"))
    statuses = []
    for i in range(3):
        q, f = _frame(portal, live_app.client_id, AUTH_ID=f"forged-{i}")
        statuses.append(requests.post(live_app.url + "/app", params=q, data=f, timeout=20).status_code)
    assert statuses == [401, 401, 503]
    assert len(_calls(portal, "user.current")) == n + 2
    assert live_app.services.throttle.bucket(portal.member_id).level > 1.9
    # a user whose AUTH_ID was confirmed before is still served from the cache, at no cost
    q, _ = _frame(portal, live_app.client_id)
    r = requests.post(live_app.url + "/app", params=q, data=good, timeout=10)
    assert r.status_code == 200 and len(_calls(portal, "user.current")) == n + 2
