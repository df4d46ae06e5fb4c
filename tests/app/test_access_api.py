"""handlers/access.py over HTTP against the sandbox portal: what the roles and phone-link sections rely on.

A roles document the server cannot store is a 400 in words and nothing written; the GET names people and
departments in the page's language; the pickers find active people by part of a name; anyone short of an
administrator is refused in his language, naming the role; a person sees and revokes only his own phone
links (someone else's is a 404, as if it did not exist); one portal never sees or revokes another's; the
roles section's explanations cover every action of PERMISSIONS in both languages."""
from __future__ import annotations

import json
import re

import pytest
import requests

from b24app import admin_strings
from b24app import roles as app_roles
from b24app import session as page_sessions
from b24sandbox.frames import frame_data, with_query
from tests import pagesession


@pytest.fixture
def installed(live_app, portal):
    assert live_app.install(portal)["progress"]["state"] == "done"
    return live_app, portal


def _hdr(live_app, member_id, user_id=1, lang="ru", roles=(app_roles.ADMIN,)):
    tok = pagesession.for_live(live_app, page_sessions.PageSession(member_id, user_id, lang, roles=tuple(roles)))
    return {page_sessions.HEADER: tok}


def _worker(live_app, member_id, user_id, lang="ru"):
    return _hdr(live_app, member_id, user_id, lang, roles=(app_roles.FIELD_WORKER,))


def test_bad_roles_documents_are_400_in_words_and_store_nothing(installed):
    live_app, portal = installed
    url, admin = live_app.url + "/api/access/roles", _hdr(live_app, portal.member_id, lang="en")
    cases = [
        ([], "a JSON object"),
        ({"users": {}, "groups": {}}, "unknown key 'groups'"),
        ({"users": {"5": ["boss"]}}, "unknown role 'boss'"),
        ({"users": {"abc": ["engineer"]}}, "'abc' is not a user id"),
        ({"users": {"-3": ["engineer"]}}, "'-3' is not a user id"),
        ({"departments": {"0": ["engineer"]}}, "'0' is not a department id"),
        ({"departments": {"2": "engineer"}}, "departments[2]: a list of role names"),
        ({"users": [5]}, "users: an object"),
        ({"users": {"5": [7]}}, "a list of role names"),
    ]
    for body, words in cases:
        r = requests.put(url, headers=admin, json=body, timeout=30)
        assert r.status_code == 400 and r.json()["error"] == "BAD_REQUEST", (body, r.text)
        assert words in r.json()["error_description"], (body, r.json())
    r = requests.put(url, headers={**admin, "Content-Type": "application/json"}, data="{not json", timeout=30)
    assert r.status_code == 400 and "a JSON object" in r.json()["error_description"]
    ru = _hdr(live_app, portal.member_id)                    # a Russian portal reads the same refusals in Russian
    for body, words in [({"users": {"5": ["boss"]}}, "неизвестная роль 'boss'"), ([], "нужен JSON-объект")]:
        r = requests.put(url, headers=ru, json=body, timeout=30)
        assert r.status_code == 400 and words in r.json()["error_description"], (body, r.json())
    assert live_app.store.kv.get(portal.member_id, app_roles.KV_KEY) is None


def test_roles_read_back_with_names_in_the_page_language(installed):
    live_app, portal = installed
    dep = portal.db.departments.insert({"NAME": "Выездная служба", "SORT": 600, "PARENT": 1, "UF_HEAD": 1})
    olga = portal.db.add_user("Ольга", "Смирнова", "olga@example.ru", position="Диспетчер")
    url, admin = live_app.url + "/api/access/roles", _hdr(live_app, portal.member_id)
    r = requests.put(url, headers=admin, timeout=30, json={
        "users": {str(olga): ["engineer", "dispatcher", "dispatcher"], "3": []},
        "departments": {str(dep): ["field_worker"]}})
    assert r.status_code == 200, r.text
    # normalised: roles in the table's order, duplicates and empty rows dropped
    assert r.json()["saved"] == {"users": {str(olga): ["dispatcher", "engineer"]},
                                 "departments": {str(dep): ["field_worker"]}}
    doc = requests.get(url, headers=admin, timeout=30).json()
    assert doc["users"] == [{"id": olga, "name": "Ольга Смирнова", "roles": ["dispatcher", "engineer"]}]
    assert doc["departments"] == [{"id": dep, "name": "Выездная служба", "roles": ["field_worker"]}]
    assert {r["key"]: r["name"] for r in doc["roles"]}["service_head"] == "руководитель сервиса"
    assert doc["me"] == {"user_id": 1, "roles": ["admin"]}
    en = requests.get(url, headers=_hdr(live_app, portal.member_id, lang="en"), timeout=30).json()
    assert {r["key"]: r["name"] for r in en["roles"]}["service_head"] == "service head"
    # a Ukrainian portal reads the page in Russian (i18n.lang_of): the role names follow the page
    ua = requests.get(url, headers=_hdr(live_app, portal.member_id, lang="ua"), timeout=30).json()
    assert {r["key"]: r["name"] for r in ua["roles"]}["engineer"] == "инженер"


def test_pickers_find_active_people_by_part_of_a_name_and_list_departments(installed):
    live_app, portal = installed
    base, admin = live_app.url, _hdr(live_app, portal.member_id)
    olga = portal.db.add_user("Ольга", "Смирнова", "olga@example.ru", position="Диспетчер")
    gone = portal.db.add_user("Павел", "Смирнов", "pavel@example.ru")
    portal.db.users.get(gone)["ACTIVE"] = False
    dep = portal.db.departments.insert({"NAME": "Выездная служба", "SORT": 600, "PARENT": 1, "UF_HEAD": 1})
    found = requests.get(base + "/api/access/users", params={"q": "смир"}, headers=admin, timeout=30).json()
    assert found["users"] == [{"id": olga, "name": "Ольга Смирнова", "position": "Диспетчер"}]
    everyone = requests.get(base + "/api/access/users", headers=admin, timeout=30).json()["users"]
    assert {u["id"] for u in everyone} == {1, 2, 3, olga}
    deps = requests.get(base + "/api/access/departments", headers=admin, timeout=30).json()["departments"]
    assert {"id": dep, "name": "Выездная служба"} in deps and {"id": 1, "name": "Компания"} in deps


def test_anyone_short_of_an_administrator_is_refused_naming_the_role(installed):
    live_app, portal = installed
    base = live_app.url
    staff = _hdr(live_app, portal.member_id, 2, roles=(app_roles.DISPATCHER, app_roles.SERVICE_HEAD))
    body = {"users": {"2": ["admin"]}, "departments": {}}
    r = requests.put(base + "/api/access/roles", headers=staff, json=body, timeout=30)
    assert r.status_code == 403 and r.json() == {
        "error": "ROLE_REQUIRED", "error_description": "Недостаточно прав в приложении: нужна роль администратор."}
    r = requests.put(base + "/api/access/roles", json=body, timeout=30,
                     headers=_hdr(live_app, portal.member_id, 2, lang="en", roles=(app_roles.DISPATCHER,)))
    assert r.status_code == 403 and r.json()["error_description"] == \
        "Not allowed in the app: this needs the role administrator."
    for path in ("/api/access/roles", "/api/access/users?q=a", "/api/access/departments"):
        assert requests.get(base + path, headers=staff, timeout=30).status_code == 403, path
    assert requests.put(base + "/api/access/roles", json=body, timeout=30).status_code == 401
    assert live_app.store.kv.get(portal.member_id, app_roles.KV_KEY) is None


def test_phone_links_are_ones_own_unless_administrator(installed):
    live_app, portal = installed
    base = live_app.url
    maria, oleg = _worker(live_app, portal.member_id, 2), _worker(live_app, portal.member_id, 3)
    r = requests.post(base + "/api/visits/phone-link", headers=maria, json={"label": "Телефон"}, timeout=30)
    assert r.status_code == 200, r.text
    link, link_id = r.json()["url"], r.json()["id"]
    phone = requests.get(link, timeout=30)
    assert phone.status_code == 200
    phone_sid = json.loads(re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>',
                                     phone.text, re.S).group(1))["session"]

    mine = requests.get(base + "/api/access/phone-links", headers=maria, timeout=30).json()["links"]
    assert [(x["id"], x["user_id"], x["label"], x["revoked"]) for x in mine] == [(link_id, 2, "Телефон", False)]
    assert mine[0]["last_used_at"] >= mine[0]["created_at"] and "user" not in mine[0]
    assert requests.get(base + "/api/access/phone-links", headers=oleg, timeout=30).json()["links"] == []
    # someone else's link: as if it did not exist, and it keeps working
    r = requests.delete(base + f"/api/access/phone-links/{link_id}", headers=oleg, timeout=30)
    assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"
    assert requests.get(link, timeout=30).status_code == 200
    assert requests.delete(base + "/api/access/phone-links/" + "0" * 64, headers=maria, timeout=30).status_code == 404

    admin = _hdr(live_app, portal.member_id)
    everyone = requests.get(base + "/api/access/phone-links", headers=admin, timeout=30).json()["links"]
    assert [(x["id"], x["user"]) for x in everyone] == [(link_id, "Мария Менеджерова")]
    # the owner revokes it: the link and the phone session it opened stop at once
    assert requests.delete(base + f"/api/access/phone-links/{link_id}", headers=maria, timeout=30).json() == \
        {"revoked": True}
    assert requests.get(link, timeout=30).status_code == 401
    r = requests.get(base + "/api/access/phone-links", headers={page_sessions.HEADER: phone_sid}, timeout=30)
    assert r.status_code == 401
    after = requests.get(base + "/api/access/phone-links", headers=admin, timeout=30).json()["links"]
    assert [x["revoked"] for x in after] == [True]


def test_one_portal_never_sees_or_revokes_anothers_links(installed, cloud):
    live_app, portal = installed
    base = live_app.url
    r = requests.post(base + "/api/visits/phone-link", headers=_worker(live_app, portal.member_id, 2), timeout=30)
    link, link_id = r.json()["url"], r.json()["id"]
    other = cloud.add_portal(seed="empty")
    assert live_app.install(other)["progress"]["state"] == "done"
    theirs = _hdr(live_app, other.member_id)
    assert requests.get(base + "/api/access/phone-links", headers=theirs, timeout=30).json()["links"] == []
    r = requests.delete(base + f"/api/access/phone-links/{link_id}", headers=theirs, timeout=30)
    assert r.status_code == 404
    assert requests.get(link, timeout=30).status_code == 200
    ours = requests.get(base + "/api/access/phone-links", headers=_hdr(live_app, portal.member_id), timeout=30)
    assert [x["revoked"] for x in ours.json()["links"]] == [False]
    # and their roles document is their own
    requests.put(base + "/api/access/roles", headers=theirs, json={"users": {"2": ["engineer"]}}, timeout=30)
    assert live_app.store.kv.get(portal.member_id, app_roles.KV_KEY) is None


def test_every_action_and_role_is_explained_in_both_languages():
    for lang in ("ru", "en"):
        assert set(admin_strings.ACTIONS[lang]) == set(app_roles.PERMISSIONS), lang
        help_ = admin_strings.role_help(lang)
        assert [h["key"] for h in help_] == list(app_roles.ASSIGNABLE)
        assert all(h["may"] and h["name"] == app_roles.NAMES[lang][h["key"]] for h in help_)
    field = {h["key"]: h["may"] for h in admin_strings.role_help("ru")}[app_roles.FIELD_WORKER]
    assert field == ("свои визиты, карточка компании, страница на телефоне; свои заявки и маршрут на карте; "
                     "заказ-наряды, где он механик: завершение, акт, моточасы, фото (и с телефона)")
    ru, en = admin_strings.strings("ru"), admin_strings.strings("en")
    prefixes = ("roles.", "links.")
    assert {k for k in ru if k.startswith(prefixes)} == {k for k in en if k.startswith(prefixes)}


def test_main_page_carries_the_role_help_only_for_an_administrator(installed):
    live_app, portal = installed

    def config(user_id):
        q, f = frame_data(portal, live_app.client_id, user_id=user_id, lang="ru")
        r = requests.post(with_query(live_app.url + "/app", q), data=f, timeout=30)
        assert r.status_code == 200, r.text[:300]
        return r.text, json.loads(re.search(r'<script id="b24app-config" type="application/json">(.*?)</script>',
                                            r.text, re.S).group(1))

    html, cfg = config(1)
    assert [h["key"] for h in cfg["role_help"]] == list(app_roles.ASSIGNABLE)
    assert 'data-b24app="settings-roles"' in html and 'data-b24app="phone-links"' in html
    assert "settings_roles.js" in html and "phone_links.js" in html
    html, cfg = config(2)
    assert cfg["role_help"] == [] and "settings-roles" not in html and "phone-links" not in html
    assert "settings_roles.js" not in html
