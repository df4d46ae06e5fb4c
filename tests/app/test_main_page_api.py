"""The main page (``POST /app``) and the settings endpoints it uses, over HTTP against the sandbox portal:
the hub and the settings only for an administrator (``user.admin`` with the frame's token), English by
LANG, hub buttons that reopen the app on a declared page, and the new ``POST /api/1c/check`` plus the
visits N/M settings with their 400 / 403 answers — one portal never reads another's settings."""
from __future__ import annotations

import json
import re

import pytest
import requests

from b24app import session as page_sessions
from tests import pagesession
from b24sandbox.frames import frame_data, with_query
from sync_1c import connection
from b24sandbox.onec import start as start_1c


@pytest.fixture
def installed(live_app, portal):
    res = live_app.install(portal)
    assert res["progress"]["state"] == "done", res
    return live_app, portal


@pytest.fixture
def onec():
    sb = start_1c()
    yield sb
    sb.shutdown()


def _open(live_app, portal, user_id=1, lang="ru", options=None):
    q, f = frame_data(portal, live_app.client_id, user_id=user_id, lang=lang, options=options)
    r = requests.post(with_query(live_app.url + "/app", q), data=f, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return r


def _config(html: str) -> dict:
    return json.loads(re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>', html,
                                re.S).group(1))


def _hdr(live_app, member_id, admin=True, lang="ru"):
    tok = pagesession.for_live(live_app, page_sessions.PageSession(member_id, 1, lang, is_admin=admin))
    return {page_sessions.HEADER: tok}


def test_admin_gets_hub_and_settings_a_manager_only_the_hub(installed):
    live_app, portal = installed
    r = _open(live_app, portal)
    cfg = _config(r.text)
    assert cfg["is_admin"] is True and cfg["install"]["state"] == "done" and cfg["status"] == "installed"
    assert [h["key"] for h in cfg["hub"]] == ["orders_map", "visit_calendar", "dispatcher", "dashboards", "rules",
                                                "engineers", "field_day", "service_registry"]
    assert "Карта заказов" in r.text and "Диспетчер" in r.text and "Календарь посещений" in r.text
    assert 'data-b24app="settings-1c"' in r.text and 'data-b24app="settings-visits"' in r.text
    assert requests.get(live_app.url + "/api/maps/settings", headers={page_sessions.HEADER: cfg["session"]},
                        timeout=30).status_code == 200

    manager = portal.db.add_user("Ольга", "Смирнова", "olga@example.ru")
    r = _open(live_app, portal, user_id=manager, lang="en")
    cfg = _config(r.text)
    assert cfg["is_admin"] is False and cfg["lang"] == "en"
    assert "Orders map" in r.text and "Application pages" in r.text and "Разделы" not in r.text
    assert 'data-b24app="settings' not in r.text and "settings_1c.js" not in r.text
    sess = {page_sessions.HEADER: cfg["session"]}
    for method, path in [("GET", "/api/maps/settings"), ("PUT", "/api/maps/settings"), ("GET", "/api/1c/settings"),
                         ("POST", "/api/1c/check"), ("POST", "/api/1c/push-secret"), ("GET", "/api/visits/settings"),
                         ("POST", "/api/visits/settings"), ("POST", "/install/retry")]:
        got = requests.request(method, live_app.url + path, headers=sess, json={}, timeout=30)
        assert got.status_code == 403, (method, path, got.text)


def test_hub_page_key_reopens_the_app_on_that_page(installed):
    """openApplication({page}) arrives as PLACEMENT_OPTIONS on /app: the declared handler answers it."""
    live_app, portal = installed
    r = _open(live_app, portal, options={"page": "dispatcher"})
    cfg = _config(r.text)
    assert cfg["mode"] == "dispatcher" and cfg["session"] and "desk/desk.js" in r.text   # the intake screen
    assert 'data-b24app="phone"' in r.text and "orders_map.js" not in r.text
    r = _open(live_app, portal, options={"page": "visit_calendar"})
    cfg = _config(r.text)
    assert cfg["view"] == "calendar" and cfg["is_admin"] is True
    r = _open(live_app, portal, options={"page": "no-such-page"})             # unknown → the hub itself
    assert 'data-b24app="hub"' in r.text


def test_check_connection_against_the_1c_sandbox(installed, onec, cloud):
    live_app, portal = installed
    url, admin = live_app.url, _hdr(live_app, portal.member_id)
    assert requests.post(url + "/api/1c/check", timeout=30).status_code == 401
    r = requests.post(url + "/api/1c/check", headers=admin, timeout=30)
    assert r.status_code == 409 and "save them first" in r.json()["error_description"]
    good = {"base_url": onec.url, "username": onec.username, "password": onec.password, "profile": "ut11_5",
            "interval": 300}
    r = requests.post(url + "/api/1c/settings", headers=admin, json=good, timeout=30)
    assert r.status_code == 200 and r.json()["problems"] == []
    r = requests.post(url + "/api/1c/check", headers=admin, timeout=30)
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["problems"] == []
    assert onec.password not in r.text
    r = requests.post(url + "/api/1c/settings", headers=admin, json={"password": "wrong"}, timeout=30)
    assert r.status_code == 200 and r.json()["problems"]
    r = requests.post(url + "/api/1c/check", headers=admin, timeout=30)
    assert r.status_code == 200 and r.json()["ok"] is False and "$metadata" in r.json()["problems"][0]

    # another installed portal's administrator sees nothing of this connection
    other = cloud.add_portal(seed="empty")
    assert live_app.install(other)["progress"]["state"] == "done"
    theirs = _hdr(live_app, other.member_id)
    assert requests.post(url + "/api/1c/check", headers=theirs, timeout=30).status_code == 409
    got = requests.get(url + "/api/1c/settings", headers=theirs, timeout=30).json()
    assert got["connection"] is None and onec.url not in json.dumps(got)
    # a session naming a portal that is not installed here
    assert requests.post(url + "/api/1c/check", headers=_hdr(live_app, "f" * 32), timeout=30).status_code == 403


def test_1c_settings_refuse_bad_values_in_words_and_store_nothing(installed, onec):
    live_app, portal = installed
    url, admin = live_app.url + "/api/1c/settings", _hdr(live_app, portal.member_id, lang="en")
    good = {"base_url": onec.url, "username": onec.username, "password": onec.password}
    # a ru session reads the refusal in Russian; the rest are read from an en session
    r = requests.post(url, headers=_hdr(live_app, portal.member_id), json={"base_url": onec.url, "username": "u"},
                      timeout=30)
    assert r.status_code == 400 and "password обязателен" in r.json()["error_description"], r.text
    for body, text in [({"base_url": onec.url, "username": "u"}, "password is required"),
                       ({**good, "base_url": "ftp://1c/odata"}, "http(s)://"),
                       ({**good, "interval": 5}, "interval must be a whole number ≥ 60"),
                       ({**good, "lookback_days": "many"}, "lookback_days"),
                       ({**good, "tz": "Mars/Olympus"}, "unknown time zone"),
                       ({**good, "profile": "nope"}, "unknown 1C profile"),
                       ({**good, "gate": {"enabled": "yes"}}, "enabled must be true or false"),
                       ({**good, "auto_forward": {"installation": {"won": "new"}}}, "not after")]:
        r = requests.post(url, headers=admin, json=body, timeout=30)
        assert r.status_code == 400 and text in r.json()["error_description"], (body, r.text)
    assert live_app.store.kv.get(portal.member_id, connection.KV_KEY) is None
    r = requests.get(url, headers=admin, timeout=30).json()
    assert r["connection"] is None and {p["key"] for p in r["pipeline_choices"]} == \
        {"measurements", "production", "installation", "services", "svc_warranty_repair", "svc_warranty_maint",
         "svc_post_repair", "svc_post_maint", "svc_presale"}
    assert {p["name"] for p in r["profiles"]} >= {"ut11_5", "unf"}
    # profile names are for people: no developer's "(inferred)"/"(unverified)"; the flag says it (issue 14)
    assert not [p["title"] for p in r["profiles"] if re.search(r"inferred|unverified|\(", p["title"])]
    assert {p["name"]: p["verified"] for p in r["profiles"]}["ut11_5"] is True
    assert {p["name"]: p["verified"] for p in r["profiles"]}["unf"] is False


def test_visit_rule_days_are_saved_and_checked(installed, cloud):
    from visits import rules

    live_app, portal = installed
    url, admin = live_app.url + "/api/visits/settings", _hdr(live_app, portal.member_id)
    doc = requests.get(url, headers=admin, timeout=30).json()
    assert (doc["repeat_days"], doc["overdue_days"]) == (3, 5)
    r = requests.post(url, headers=admin, json={"repeat_days": 2, "overdue_days": "7"}, timeout=30)
    assert r.status_code == 200 and (r.json()["repeat_days"], r.json()["overdue_days"]) == (2, 7)
    cfg = rules.settings_of(live_app.store.kv, portal.member_id)
    assert (cfg.repeat_days, cfg.overdue_days) == (2, 7)
    for body, text in [({"repeat_days": -1}, "repeat_days: нужно целое число дней 0–365"),       # ru session
                       ({"overdue_days": 0}, "overdue_days: нужно целое число дней 1–365"),
                       ({"overdue_days": True}, "overdue_days"), ({"repeat_days": 1.5}, "repeat_days"),
                       ({"repeat_days": 1, "visited_period": "fortnight"}, "'fortnight'"),
                       ({"repeat_days": 1, "colour": "red"}, "неизвестные настройки: colour")]:
        r = requests.post(url, headers=admin, json=body, timeout=30)
        assert r.status_code == 400 and text in r.json()["error_description"], (body, r.text)
    cfg = rules.settings_of(live_app.store.kv, portal.member_id)
    assert (cfg.repeat_days, cfg.overdue_days) == (2, 7)                  # nothing half-written
    other = cloud.add_portal(seed="empty")
    assert live_app.install(other)["progress"]["state"] == "done"
    theirs = requests.get(url, headers=_hdr(live_app, other.member_id), timeout=30).json()
    assert (theirs["repeat_days"], theirs["overdue_days"]) == (3, 5)


def test_main_page_shows_a_failed_install_and_its_session_may_retry(installed):
    """The install card reads the same progress as GET /install/status; the admin's main-page session
    re-queues the job, a manager's is refused."""
    from b24app import install_flow

    live_app, portal = installed
    live_app.store.kv.set(portal.member_id, install_flow.PROGRESS_KEY, {
        "state": install_flow.FAILED, "done": 2, "total": 5, "step": "create field deal worker",
        "errors": ["QUERY_LIMIT_EXCEEDED: too many requests"], "job": "j1", "updated": 0})
    cfg = _config(_open(live_app, portal).text)
    assert cfg["install"]["state"] == "failed"
    assert cfg["install"]["errors"] == ["QUERY_LIMIT_EXCEEDED: too many requests"]
    manager = portal.db.add_user("Ольга", "Смирнова", "olga@example.ru")
    mcfg = _config(_open(live_app, portal, user_id=manager).text)
    assert mcfg["install"]["state"] == "failed"
    r = requests.post(live_app.url + "/install/retry", headers={page_sessions.HEADER: mcfg["session"]}, timeout=30)
    assert r.status_code == 403
    r = requests.post(live_app.url + "/install/retry", headers={page_sessions.HEADER: cfg["session"]}, timeout=30)
    assert r.status_code == 200 and r.json()["state"] == "queued"
    assert live_app.wait_install(portal.member_id)["state"] == "done"
    r = requests.get(live_app.url + "/install/status", headers={page_sessions.HEADER: cfg["session"]}, timeout=30)
    assert r.json()["state"] == "done" and r.json()["percent"] == 100
