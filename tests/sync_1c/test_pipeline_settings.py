"""Per-pipeline paid-gate and auto-forward settings through POST /api/1c/settings: our pipeline and stage
keys (or the portal's ids) are accepted, checked against the installed ids, stored as portal ids the gate
and the sync read; anything wrong → 400 with the reason and nothing stored. Then the stored settings
drive a real sync (auto-forward) and the gate (pipelines it holds)."""
from __future__ import annotations

import pytest

from sync_1c import connection, gate
from tests.install.conftest import app_env  # noqa: F401 - fixture
from tests.sync_1c.test_sync_flow import env, onec, recent  # noqa: F401 - fixtures


@pytest.fixture
def api(env):
    from b24app import session as page_sessions
    from tests import pagesession
    from b24app.app import create_app

    http = create_app(env.services.settings, store=env.services.store).test_client()
    tok = {lang: pagesession.for_live(env.services, page_sessions.PageSession(env.member_id, 1, lang, is_admin=True))
           for lang in ("en", "ru")}

    def post(body, lang="en"):
        return http.post("/api/1c/settings", json=body, headers={page_sessions.HEADER: tok[lang]})

    post.get = lambda: http.get("/api/1c/settings", headers={page_sessions.HEADER: tok["ru"]})
    return post


def test_auto_forward_and_gate_by_our_keys_are_stored_as_portal_ids(env, api):
    inst, meas = env.ids.pipeline("installation"), env.ids.pipeline("measurements")
    r = api({"auto_forward": {"installation": {"job_done": "won"}},
             "gate": {"enabled": True, "pipelines": ["installation"]}})
    assert r.status_code == 200, r.json
    kv = env.services.store.kv
    assert kv.get(env.member_id, connection.AUTO_FORWARD_KEY) == {
        str(inst.category_id): {inst.stage("job_done"): inst.stage("won")}}
    assert kv.get(env.member_id, connection.GATE_KEY) == {"enabled": True, "categories": [inst.category_id],
                                                          "all_deals": False, "scope": {}}
    assert r.json["auto_forward"] == {"installation": {"job_done": "won"}}
    assert r.json["gate"]["pipelines"] == ["installation"]
    got = api.get().json
    assert got["auto_forward"] == {"installation": {"job_done": "won"}} and got["gate"]["pipelines"] == ["installation"]
    # portal ids are accepted too
    r = api({"auto_forward": {str(meas.category_id): {meas.stage(list(meas.stages)[0]): list(meas.stages)[1]}}})
    assert r.status_code == 200, r.json
    assert list(kv.get(env.member_id, connection.AUTO_FORWARD_KEY)) == [str(meas.category_id)]


def test_a_russian_portal_reads_the_refusal_in_russian(env, api):
    r = api({"gates": 1}, lang="ru")
    assert r.status_code == 400 and r.json["error_description"] == "неизвестные настройки: gates", r.json


@pytest.mark.parametrize("body,why", [
    ({"auto_forward": {"nope": {"a": "b"}}}, "unknown pipeline 'nope'"),
    ({"auto_forward": {"installation": {"job_done": "C99:WON"}}}, "has no stage 'C99:WON'"),
    ({"auto_forward": {"installation": {"won": "job_done"}}}, "is not after"),
    ({"auto_forward": ["installation"]}, "an object"),
    ({"gate": {"pipelines": ["installation", "nope"]}}, "unknown pipeline 'nope'"),
    ({"gate": {"enabled": "yes"}}, "enabled must be true or false"),
    ({"gate": {"stages": []}}, "unknown key(s) stages"),
    ({"gate": {"enabled": False}, "auto_forward": {"installation": {"won": "job_done"}}}, "is not after"),
    ({"gates": {}}, "unknown setting(s): gates"),
])
def test_bad_pipeline_settings_are_400_and_store_nothing(env, api, body, why):
    r = api(body)
    assert r.status_code == 400 and r.json["error"] == "BAD_SETTINGS" and why in r.json["error_description"], r.json
    kv = env.services.store.kv
    assert kv.get(env.member_id, connection.AUTO_FORWARD_KEY) is None
    assert kv.get(env.member_id, connection.GATE_KEY) is None


def test_stored_settings_drive_the_sync_and_the_gate(env, api):
    inst, meas = env.ids.pipeline("installation"), env.ids.pipeline("measurements")
    assert api({"auto_forward": {"installation": {"job_done": "won"}},
                "gate": {"pipelines": ["measurements"]}}).status_code == 200
    order = env.ib.add_order(700, recent(5), number="ТД00-001501")
    deal = env.deal("ТД00-001501", 700, stage="job_done")
    env.ib.add_payment([(order, 700)], recent(1))
    env.sync()
    assert env.get(deal)["STAGE_ID"] == inst.stage("won")                   # forwarded when paid
    unpaid_order = env.ib.add_order(900, recent(5), number="ТД00-001502")
    held = env.deal("ТД00-001502", 900, pipeline="measurements", stage=list(meas.stages)[0])
    free = env.deal("ТД00-001503", 900, stage="job_done")
    env.ib.add_payment([(unpaid_order, 100)], recent(1))
    env.sync()
    env.client.call("crm.deal.update", {"id": held, "fields": {"STAGE_ID": meas.stage("won")}})
    env.client.call("crm.deal.update", {"id": free, "fields": {"STAGE_ID": inst.stage("won")}})
    assert gate.enforce(env.services, env.member_id, held)["action"] == "moved_back"
    assert gate.enforce(env.services, env.member_id, free)["action"] == "recorded"   # pipeline not gated
    assert api({"gate": {"enabled": False}}).status_code == 200
    env.client.call("crm.deal.update", {"id": held, "fields": {"STAGE_ID": meas.stage("won")}})
    assert gate.enforce(env.services, env.member_id, held)["action"] == "recorded"
