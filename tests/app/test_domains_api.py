"""handlers/domains.py over HTTP: an administrator switches a part of the app off for his portal only.

The list names the deployment's domains in the page's language (never the installer); a bad list is a 400
in words with nothing written; anyone short of an administrator is refused; once ``maps`` is off, the
portal's "job started" robot is answered that the part is off (the worker reads the same kv), and another
portal's robots are not affected; switched on again, the robot works."""
from __future__ import annotations

import pytest
import requests

from b24app import registry as app_registry
from b24app import roles as app_roles
from b24app import session as page_sessions
from b24sandbox.robots import find_call, run_robot
from install.registry import installed_ids
from tests import pagesession


@pytest.fixture
def installed(live_app, portal):
    assert live_app.install(portal)["progress"]["state"] == "done"
    return live_app, portal


def _hdr(live_app, member_id, user_id=1, lang="ru", roles=(app_roles.ADMIN,)):
    tok = pagesession.for_live(live_app, page_sessions.PageSession(member_id, user_id, lang, roles=tuple(roles)))
    return {page_sessions.HEADER: tok}


def test_the_list_names_each_switchable_part_in_the_page_language(installed):
    live_app, portal = installed
    r = requests.get(live_app.url + "/api/domains", headers=_hdr(live_app, portal.member_id), timeout=30)
    assert r.status_code == 200, r.text
    got = {d["name"]: d for d in r.json()["domains"]}
    assert set(got) == set(live_app.services.registry.domains) - {"install"}
    assert got["maps"] == {"name": "maps", "title": "Карта заказов и диспетчеризация", "enabled": True,
                           "description": "замеры и монтажи на карте, назначение сотрудников, маршруты"}
    en = requests.get(live_app.url + "/api/domains", headers=_hdr(live_app, portal.member_id, lang="en"),
                      timeout=30).json()
    assert {d["name"]: d["title"] for d in en["domains"]}["visits"] == "Visits"


@pytest.mark.parametrize("body, words", [
    ({"disabled": ["install"]}, "нельзя отключить: install"),
    ({"disabled": ["maps", "nosuch"]}, "нельзя отключить: nosuch"),
    ({"disabled": "maps"}, "ожидается список разделов"),
    ({"disabled": [1]}, "ожидается список разделов"),
    ([], "ожидается список разделов"),
])
def test_a_bad_list_is_400_in_words_and_stores_nothing(installed, body, words):
    live_app, portal = installed
    r = requests.put(live_app.url + "/api/domains", json=body, headers=_hdr(live_app, portal.member_id), timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "BAD_SETTINGS", r.text
    assert words in r.json()["error_description"]
    assert live_app.store.kv.get(portal.member_id, app_registry.DISABLED_KEY) is None


def test_anyone_short_of_an_administrator_is_refused(installed):
    live_app, portal = installed
    staff = _hdr(live_app, portal.member_id, 2, roles=(app_roles.DISPATCHER, app_roles.SERVICE_HEAD))
    for method in ("get", "put"):
        r = getattr(requests, method)(live_app.url + "/api/domains", json={"disabled": ["maps"]}, headers=staff,
                                      timeout=30)
        assert r.status_code == 403 and r.json()["error"] == "ROLE_REQUIRED", (method, r.text)
    assert requests.put(live_app.url + "/api/domains", json={"disabled": ["maps"]}, timeout=30).status_code == 401
    assert live_app.store.kv.get(portal.member_id, app_registry.DISABLED_KEY) is None


def _start_job(live_app, portal, deal_id: int) -> dict:
    token = run_robot(portal, live_app.client_id, "b24app_start_job", f"DEAL_{deal_id}")
    assert find_call(portal, token).status == 200
    live_app.worker().run_once()
    (sent,) = [e for e in portal.db.bizproc_events if e["event_token"] == token]
    return sent


def test_a_part_switched_off_answers_its_robots_so_on_this_portal_only(installed, cloud):
    live_app, portal = installed
    admin = _hdr(live_app, portal.member_id)
    other = cloud.add_portal(seed="empty")
    assert live_app.install(other)["progress"]["state"] == "done"
    measurements = installed_ids(live_app.store, portal.member_id).pipeline("measurements")
    deal = int(live_app.services.client(portal.member_id).call("crm.deal.add", {"fields": {
        "TITLE": "Замер", "CATEGORY_ID": measurements.category_id, "STAGE_ID": measurements.stage("new")}}))

    r = requests.put(live_app.url + "/api/domains", json={"disabled": ["maps", "reports"]}, headers=admin,
                     timeout=30)
    assert r.status_code == 200 and r.json() == {"disabled": ["maps", "reports"]}
    listed = requests.get(live_app.url + "/api/domains", headers=admin, timeout=30).json()["domains"]
    assert sorted(d["name"] for d in listed if not d["enabled"]) == ["maps", "reports"]

    answer = _start_job(live_app, portal, deal)
    assert "отключён на этом портале" in answer["log_message"] + str(answer["return_values"]), answer
    assert portal.db.deals.get(deal)["STAGE_ID"] == measurements.stage("new")        # nothing was done
    assert app_registry.disabled_domains(live_app.store, other.member_id) == set()

    requests.put(live_app.url + "/api/domains", json={"disabled": []}, headers=admin, timeout=30)
    answer = _start_job(live_app, portal, deal)
    assert "отключён" not in answer["log_message"] + str(answer["return_values"]), answer
    assert "ошибка" not in answer["log_message"], answer
    assert portal.db.deals.get(deal)["STAGE_ID"] == answer["return_values"]["stage_id"] != measurements.stage("new")
