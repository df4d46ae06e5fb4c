"""Install/uninstall over real HTTP: the sandbox portal POSTs to the live app."""
from __future__ import annotations

import pytest
import requests

from b24app.store.interface import INSTALLED, UNINSTALLED


@pytest.fixture
def store_url(db_url):          # these tests run on SQLite and PostgreSQL
    return db_url


def _bindings(portal, client_id):
    return [(b.event, b.handler) for b in portal.events.bindings if b.client_id == client_id]


def test_frame_install_stores_portal_from_app_info(live_app, portal):
    result = live_app.install(portal, mode="frame")
    assert result["status"] == 200, result
    # the installer's script is static/install/install.js (no inline script under the CSP)
    assert "/static/install/install.js" in result["text"]
    assert "BX24.installFinish" in requests.get(live_app.url + "/static/install/install.js", timeout=30).text
    assert live_app.settings.bx24_js_url in result["text"]
    p = live_app.store.portals.get(portal.member_id)
    assert p.status == INSTALLED
    assert p.client_endpoint == portal.client_endpoint
    assert p.domain == portal.domain
    assert p.application_token == portal.installs[live_app.client_id].application_token
    assert p.access_token and p.refresh_token
    assert p.lang == "ru"
    assert ("ONAPPUNINSTALL", live_app.url + "/events") in _bindings(portal, live_app.client_id)
    # the installer page is Russian for LANG=ru
    assert "Установка" in result["text"]


def test_event_install_stores_portal(live_app, portal):
    result = live_app.install(portal, mode="event")
    assert result["status"] == 200, result
    p = live_app.store.portals.get(portal.member_id)
    assert p.status == INSTALLED and p.client_endpoint == portal.client_endpoint
    assert ("ONAPPUNINSTALL", live_app.url + "/events") in _bindings(portal, live_app.client_id)


def test_reinstall_treats_already_binded_as_success(live_app, portal):
    live_app.install(portal, mode="frame")
    again = live_app.install(portal, mode="frame")
    assert again["status"] == 200, again
    assert _bindings(portal, live_app.client_id).count(("ONAPPUNINSTALL", live_app.url + "/events")) == 1
    assert "event.bind" not in again["text"]        # no warning shown: 'already binded' is success


def test_spoofed_domain_changes_nothing(live_app, portal, attacker):
    """DOMAIN in the installer POST or in a frame points at an attacker: refused with 403 before the portal
    is called or anything is stored, and the attacker hears nothing."""
    from b24sandbox.frames import frame_data

    att_url, hits = attacker
    live_app.install(portal, mode="frame")
    stored = live_app.store.portals.get(portal.member_id)
    inbox_before = live_app.store.inbox.counts()
    query, form = frame_data(portal, live_app.client_id)
    host = att_url.split("//", 1)[1]
    query["DOMAIN"] = host
    form["SERVER_ENDPOINT"] = att_url + "/rest/"
    before = len(portal.log)
    r = requests.post(live_app.url + "/install", params=query, data=form, timeout=10)
    assert r.status_code == 403 and "WRONG_DOMAIN" in r.text, r.text
    after = live_app.store.portals.get(portal.member_id)
    assert (after.access_token, after.refresh_token, after.token_version) == \
        (stored.access_token, stored.refresh_token, stored.token_version)
    assert live_app.store.inbox.counts() == inbox_before          # no install job queued
    r = requests.post(live_app.url + "/app", params=query, data=form, timeout=10)
    assert r.status_code == 403 and "WRONG_DOMAIN" in r.text
    assert 'data-b24app="main"' not in r.text
    assert len(portal.log) == before                               # no user.admin, event.bind, user.current
    assert hits == []


def test_spoofed_server_endpoint_is_ignored(live_app, portal, attacker):
    """SERVER_ENDPOINT is never used: the stored OAuth server is the configured one."""
    from b24sandbox.frames import frame_data

    att_url, hits = attacker
    live_app.install(portal, mode="frame")                 # the portal knows the app; this POST re-installs
    query, form = frame_data(portal, live_app.client_id)
    form["SERVER_ENDPOINT"] = att_url + "/rest/"
    r = requests.post(live_app.url + "/install", params=query, data=form, timeout=10)
    assert r.status_code == 200, r.text
    p = live_app.store.portals.get(portal.member_id)
    assert p.client_endpoint == portal.client_endpoint
    assert p.server_endpoint.startswith(live_app.cloud.oauth_url)
    assert hits == []


def test_installer_domain_compared_case_insensitively_with_port(live_app, portal):
    from b24sandbox.frames import frame_data

    live_app.install(portal, mode="frame")
    query, form = frame_data(portal, live_app.client_id)
    assert ":" in query["DOMAIN"]                                   # the sandbox is host:port
    query["DOMAIN"] = query["DOMAIN"].upper()
    r = requests.post(live_app.url + "/install", params=query, data=form, timeout=10)
    assert r.status_code == 200, r.text
    assert live_app.store.portals.get(portal.member_id).domain == portal.domain


def test_install_with_bad_token_stores_nothing(live_app, portal):
    from b24sandbox.frames import frame_data

    from b24sandbox.portal import AppInstall

    # the portal knows the app, but the POST carries a token the OAuth server never issued

    portal.installs[live_app.client_id] = AppInstall(client_id=live_app.client_id, application_token="x" * 32,
                                                     scope=["crm"])
    query, form = frame_data(portal, live_app.client_id)
    form["AUTH_ID"] = "forged-token"
    r = requests.post(live_app.url + "/install", params=query, data=form, timeout=10)
    assert r.status_code == 401
    assert live_app.store.portals.get(portal.member_id) is None


def test_install_with_other_portals_member_id_is_refused(live_app, portal, cloud):
    from b24sandbox.frames import frame_data

    other = cloud.add_portal(seed="empty")
    live_app.install(other, mode="frame")
    query, form = frame_data(other, live_app.client_id)
    form["member_id"] = portal.member_id            # token of `other`, claims to be `portal`
    r = requests.post(live_app.url + "/install", params=query, data=form, timeout=10)
    assert r.status_code == 403
    assert live_app.store.portals.get(portal.member_id) is None


def test_install_bad_input_is_400(live_app):
    r = requests.post(live_app.url + "/install", data={"foo": "bar"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "INVALID_REQUEST"
    r = requests.post(live_app.url + "/install", data={"event": "ONAPPINSTALL"}, timeout=10)
    assert r.status_code == 400


def test_http_portal_refused_unless_allowed(live_app, portal):
    from dataclasses import replace

    svc = live_app.services
    svc.settings = replace(svc.settings, allow_http_portals=False)
    result = portal.install_app(live_app.client_id, mode="frame")
    assert result["status"] == 403
    assert live_app.store.portals.get(portal.member_id) is None


def test_uninstall_clean_removes_rows(live_app, portal):
    live_app.install(portal, mode="frame")
    live_app.store.kv.set(portal.member_id, "x", {"a": 1})
    portal.send_event_raw(live_app.client_id, "ONCRMDEALADD", {"FIELDS": {"ID": "1"}},
                          handler=live_app.url + "/events")
    assert portal.wait_events()
    assert live_app.store.inbox.counts(portal.member_id)
    portal.uninstall_app(live_app.client_id, clean=True)
    assert portal.wait_events()
    assert live_app.store.portals.get(portal.member_id) is None
    assert live_app.store.kv.items(portal.member_id) == {}
    assert live_app.store.inbox.counts(portal.member_id) == {}


def test_uninstall_without_clean_keeps_rows(live_app, portal):
    live_app.install(portal, mode="frame")
    live_app.store.kv.set(portal.member_id, "x", {"a": 1})
    portal.uninstall_app(live_app.client_id, clean=False)
    assert portal.wait_events()
    p = live_app.store.portals.get(portal.member_id)
    assert p.status == UNINSTALLED
    assert p.access_token is None and p.refresh_token is None
    assert live_app.store.kv.get(portal.member_id, "x") == {"a": 1}


def test_healthz(live_app):
    r = requests.get(live_app.url + "/healthz", timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "ok"
