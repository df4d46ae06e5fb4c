"""Forged calls are refused before any work: 401/403, nothing in the inbox, no call to anyone else."""
from __future__ import annotations

import pytest
import requests

from b24app.sandbox.frames import frame_data
from b24app.sandbox.phpform import flatten


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


# --- frames -----------------------------------------------------------------------------------------
def _frame(portal, client_id, lang="ru", **form_overrides):
    query, form = frame_data(portal, client_id, lang=lang)
    form.update(form_overrides)
    return query, form


def _calls(portal, method):
    return [r for r in portal.log if r.method == method]


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
    live_app, portal = installed
    att_url, hits = attacker
    host = att_url.split("//", 1)[1]
    q, f = _frame(portal, live_app.client_id, AUTH_ID="not-a-token")
    q["DOMAIN"] = host
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 401
    # a genuine token of another portal, claiming this portal's member_id
    other = cloud.add_portal(seed="empty")
    live_app.install(other, mode="frame")
    q, f = _frame(other, live_app.client_id)
    f["member_id"], q["DOMAIN"] = portal.member_id, host
    f.pop("APPLICATION_TOKEN")
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 401
    q, f = _frame(other, live_app.client_id, member_id=portal.member_id)   # with other's APPLICATION_TOKEN
    before = len(portal.log)
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 401 and len(portal.log) == before                # refused before any call
    q, f = _frame(portal, live_app.client_id, member_id="e" * 32)
    r = requests.post(live_app.url + "/app", params=q, data=f, timeout=10)
    assert r.status_code == 403
    assert hits == []
    assert live_app.store.inbox.counts() == {}
