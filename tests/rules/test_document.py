"""The rules document: validated before anything is stored, errors naming the path and the file's line;
exported and imported as a file by an administrator only (handlers/rules.py over HTTP)."""
from __future__ import annotations

import json

import pytest
import requests

from b24app import roles as app_roles
from b24app import session as page_sessions
from rules import model, presets
from tests import pagesession

GOOD = {"version": 1, "rules": [
    {"id": "wait", "trigger": {"type": "time_in_stage", "stage": "C2:PAYMENT", "after": {"business_days": 2}},
     "actions": [{"type": "notify", "to": ["responsible", "head"], "message": "Ждёт оплаты: {TITLE}"}]}]}


def test_the_seed_preset_validates_and_takes_variables():
    doc = presets.build("seed004_furniture", {"category": "5", "stage_payment": "C5:PAY"})
    pay = next(r for r in doc.rules if r.id == "payment_wait")
    assert pay.category == 5 and pay.trigger["stage"] == "C5:PAY"
    assert pay.trigger["repeat"] == {"every": {"business_days": 2}, "times": 3}
    with pytest.raises(model.RulesError, match="no variable 'colour'"):
        presets.build("seed004_furniture", {"colour": "red"})
    with pytest.raises(model.RulesError, match="no preset"):
        presets.build("nope")


@pytest.mark.parametrize("patch,path,words", [
    (lambda d: d["rules"][0]["trigger"].update(after={"weeks": 1}), "rules[0].trigger.after",
     "Additional properties"),
    (lambda d: d["rules"][0]["trigger"].update(type="sometimes"), "rules[0].trigger.type", "is not one of"),
    (lambda d: d["rules"][0]["actions"][0].update(to=[{"role": "boss"}]), "rules[0].actions[0].to[0]", "boss"),
    (lambda d: d["rules"].append(dict(d["rules"][0])), "rules[1].id", "used twice"),
    (lambda d: d["rules"][0]["actions"].append({"type": "assign_number", "field": "UF_CRM_N", "format": "{yyyy}"}),
     "rules[0].actions[1].format", "{n} is required"),
    (lambda d: d.update(calendar={"tz": "Mars/Olympus"}), "calendar", "unknown time zone"),
])
def test_a_bad_document_names_the_path_and_the_line(patch, path, words):
    doc = json.loads(json.dumps(GOOD))
    patch(doc)
    with pytest.raises(model.RulesError) as e:
        model.validate(doc)
    assert e.value.path == path and words in str(e.value)
    text = model.dump(doc)                                     # the same as a file: the line is named too
    with pytest.raises(model.RulesError) as e:
        model.parse_text(text)
    assert e.value.line is not None
    line = text.splitlines()[e.value.line - 1]
    key = path.rsplit(".", 1)[-1].split("[")[0]
    assert f'"{key}"' in line or key == "to", (line, path)
    assert str(e.value).startswith(f"line {e.value.line}: {path}: ")


def test_a_file_that_is_not_json_names_its_line():
    with pytest.raises(model.RulesError, match=r"^line 3: not valid JSON"):
        model.parse_text('{"version": 1,\n "rules": [\n   {"id": "x",, }]}')


@pytest.fixture
def installed(live_app, portal):
    assert live_app.install(portal)["progress"]["state"] == "done"
    return live_app, portal


def _hdr(live, portal, roles=(app_roles.ADMIN,), lang="ru"):
    tok = pagesession.for_live(live, page_sessions.PageSession(portal.member_id, 1, lang, roles=tuple(roles)))
    return {page_sessions.HEADER: tok}


def test_import_export_by_an_administrator_only(installed):
    live, portal = installed
    admin = _hdr(live, portal)
    text = model.dump(presets.build("seed004_furniture").raw)
    r = requests.post(live.url + "/api/rules/import", data=text.encode(), headers=admin, timeout=30)
    assert r.status_code == 200 and r.json()["rules"] == 22
    r = requests.get(live.url + "/api/rules/export", headers=admin, timeout=30)
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"] and r.text == text
    # a broken file: 400 with the line, and the stored document is untouched
    bad = text.replace('"business_days": 2', '"business_days": "two"', 1)
    r = requests.post(live.url + "/api/rules/import", data=bad.encode(), headers=admin, timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "BAD_SETTINGS"
    bad_line = next(i for i, s in enumerate(bad.splitlines(), 1) if '"two"' in s)
    assert r.json()["error_description"] == (f"rules[5].trigger.after.business_days: строка {bad_line}: "
                                             "'two' is not of type 'integer'")        # a ru portal's words
    r = requests.post(live.url + "/api/rules/import", data=bad.encode(), headers=_hdr(live, portal, lang="en"),
                      timeout=30)
    assert r.status_code == 400 and r.json()["error_description"].startswith(
        f"line {bad_line}: rules[5].trigger.after.business_days: ")
    r = requests.post(live.url + "/api/rules/import", data=b"{\n  \"version\": 1,,\n}", headers=admin, timeout=30)
    assert r.status_code == 400 and "строка 2: это не JSON" in r.json()["error_description"]
    assert model.load(live.store.kv, portal.member_id).raw == json.loads(text)
    # PUT a document, install a preset with its variables
    r = requests.put(live.url + "/api/rules", json=GOOD, headers=admin, timeout=30)
    assert r.status_code == 200 and r.json()["rules"] == 1
    r = requests.post(live.url + "/api/rules/presets/seed004_furniture", json={"variables": {"category": 7}},
                      headers=admin, timeout=30)
    assert r.status_code == 200 and all(x["category"] == 7 for x in r.json()["document"]["rules"]
                                       if x.get("entity") != "lead")
    got = requests.get(live.url + "/api/rules", headers=admin, timeout=30).json()
    assert [p["name"] for p in got["presets"]] == ["seed004_furniture"]
    # anyone short of an administrator: 403 naming the role, nothing written
    for roles in ((app_roles.SALES_MANAGER,), (app_roles.SERVICE_HEAD, app_roles.DISPATCHER)):
        h = _hdr(live, portal, roles)
        assert requests.get(live.url + "/api/rules/export", headers=h, timeout=30).status_code == 403
        r = requests.put(live.url + "/api/rules", json=GOOD, headers=h, timeout=30)
        assert r.status_code == 403 and r.json()["error"] == "ROLE_REQUIRED"
    assert len(model.load(live.store.kv, portal.member_id).rules) == 22
    assert requests.get(live.url + "/api/rules", timeout=30).status_code == 401
