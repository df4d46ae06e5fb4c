"""Paid gate (move back + notify), the robots on the real sync, and the 1C push endpoint."""
from __future__ import annotations

import pytest

from b24app import domains
from b24app.inbox import Worker
from b24sandbox.robots import run_robot
from sync_1c import connection, gate
from tests.app.conftest import CLIENT_ID
from tests.install.conftest import app_env  # noqa: F401 - fixture
from tests.sync_1c.test_sync_flow import env, onec, recent  # noqa: F401 - fixtures


def _worker(services):
    # the robots, the 1C push and the gate, the offline-event ping: what sync_1c declares, and the core
    return Worker(services, domains.build(["sync_1c"]), backoff=0.01, max_backoff=0.05)


def _drain(worker, rounds=30):
    import time

    for _ in range(rounds):
        if worker.run_once() == 0 and not worker.services.store.inbox.counts().get("pending"):
            return
        time.sleep(0.02)


def test_unpaid_deal_moved_to_won_goes_back_and_the_user_is_told(env):
    p = env.ids.pipeline("installation")
    order = env.ib.add_order(1000, recent(5), number="ТД00-000801")
    deal = env.deal("ТД00-000801", 1000, stage="job_done")
    env.ib.add_payment([(order, 400)], recent(2))
    env.sync()                                        # remembers the deal's stage (job_done)
    env.client.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": p.stage("won")}})
    assert env.portal.wait_events()
    _drain(_worker(env.services))                     # ONCRMDEALUPDATE → inbox → gate
    assert env.get(deal)["STAGE_ID"] == p.stage("job_done")
    notes = [n for n in env.portal.db.notifications if "не может быть закрыта" in str(n.get("MESSAGE"))]
    assert len(notes) == 1 and str(notes[0].get("USER_ID")) == "1" and "400.00 из 1000.00" in notes[0]["MESSAGE"]


def test_paid_deal_may_be_won(env):
    p = env.ids.pipeline("installation")
    order = env.ib.add_order(1000, recent(5), number="ТД00-000802")
    deal = env.deal("ТД00-000802", 1000, stage="job_done")
    env.ib.add_payment([(order, 1000)], recent(2))
    env.sync()
    env.client.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": p.stage("won")}})
    assert gate.enforce(env.services, env.member_id, deal)["action"] == "none"
    assert env.get(deal)["STAGE_ID"] == p.stage("won")


def test_robots_use_the_sync(env):
    order = env.ib.add_order(1000, recent(5), number="ТД00-000803")
    deal = env.deal("ТД00-000803", 1000)
    env.ib.add_payment([(order, 250)], recent(2))
    token = run_robot(env.portal, CLIENT_ID, "b24app_sync_payments_now", f"DEAL_{deal}", {})
    _drain(_worker(env.services))
    sent = [e for e in env.portal.db.bizproc_events if e["event_token"] == token]
    assert sent[0]["return_values"] == {"amount_paid": 250.0, "paid_in_full": "N"}, sent
    assert "synced, paid 250.00 of 1000.00" in sent[0]["log_message"]
    env.onec.faults.down = True                       # 1C down: the robot answers the last synced values
    token = run_robot(env.portal, CLIENT_ID, "b24app_sync_payments_now", f"DEAL_{deal}", {})
    _drain(_worker(env.services))
    sent = [e for e in env.portal.db.bizproc_events if e["event_token"] == token]
    assert sent[0]["return_values"] == {"amount_paid": 250.0, "paid_in_full": "N"}
    assert "sync failed now" in sent[0]["log_message"]
    env.onec.faults.down = False
    token = run_robot(env.portal, CLIENT_ID, "b24app_check_paid", f"DEAL_{deal}", {})
    _drain(_worker(env.services))
    sent = [e for e in env.portal.db.bizproc_events if e["event_token"] == token]
    assert sent[0]["return_values"] == {"paid_in_full": "N", "shortfall": 750.0}


@pytest.fixture
def http(env):
    from b24app.app import create_app

    app = create_app(env.services.settings, store=env.services.store)
    return app.test_client()


def test_push_refuses_a_wrong_secret(env, http):
    secret = connection.push_secret(env.services.store.kv, env.member_id)
    url = f"/api/1c/push/{env.member_id}"
    assert http.post(url, json={"refs": ["x"]}).status_code == 401
    assert http.post(url, json={"refs": ["x"]}, headers={"X-B24App-1C-Secret": secret + "x"}).status_code == 403
    assert http.post("/api/1c/push/nope", json={"refs": ["x"]},
                     headers={"X-B24App-1C-Secret": secret}).status_code == 403
    assert env.services.store.inbox.counts(env.member_id).get("pending") is None


def test_push_is_idempotent_and_pulls_the_named_payments(env, http):
    secret = connection.push_secret(env.services.store.kv, env.member_id)
    order = env.ib.add_order(1000, recent(5), number="ТД00-000804")
    deal = env.deal("ТД00-000804", 1000)
    ref = env.ib.add_payment([(order, 1000)], recent(2))
    hdr = {"Authorization": f"Bearer {secret}"}
    r1 = http.post(f"/api/1c/push/{env.member_id}", json={"refs": [ref.upper()]}, headers=hdr)
    r2 = http.post(f"/api/1c/push/{env.member_id}", json={"refs": [ref]}, headers=hdr)
    assert (r1.status_code, r1.json["duplicate"]) == (202, False)
    assert (r2.status_code, r2.json["duplicate"]) == (202, True)
    mark = env.mark()
    _drain(_worker(env.services))
    assert env.paid(deal) == (1000.0, "Y") and len(env.comments(deal)) == 1
    assert sorted(env.writes(mark)) == ["crm.deal.update", "crm.timeline.comment.add"]
    assert env.ledger.cursor()["window_end"] is None             # a targeted pull does not move the cursor
    again = http.post(f"/api/1c/push/{env.member_id}", json={"refs": [ref], "id": "2"}, headers=hdr)
    assert again.status_code == 202
    mark = env.mark()
    _drain(_worker(env.services))
    assert env.writes(mark) == []
    assert http.post(f"/api/1c/push/{env.member_id}", json={"nothing": 1}, headers=hdr).status_code == 400


def test_gate_holds_only_1c_deals_and_trusts_1c_over_a_hand_edit(env):
    p = env.ids.pipeline("measurements")
    plain = int(env.client.call("crm.deal.add", {"fields": {
        "TITLE": "Замер", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("won"), "OPPORTUNITY": 500}}))
    assert gate.enforce(env.services, env.member_id, plain)["action"] == "recorded"
    order = env.ib.add_order(1000, recent(5), number="ТД00-000805")
    deal = env.deal("ТД00-000805", 1000, stage="job_done")
    env.ib.add_payment([(order, 100)], recent(2))
    env.sync()
    inst = env.ids.pipeline("installation")
    env.client.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": inst.stage("won"),
                                                               env.f("amount_paid"): 1000}})
    assert gate.enforce(env.services, env.member_id, deal)["action"] == "moved_back"
    assert env.get(deal)["STAGE_ID"] == inst.stage("job_done")


def test_settings_api_never_returns_the_password(env, http):
    from b24app import session as page_sessions
    from tests import pagesession

    def hdr(admin):
        tok = pagesession.for_live(env.services, page_sessions.PageSession(env.member_id, 1, "ru", is_admin=admin))
        return {page_sessions.HEADER: tok}

    assert http.get("/api/1c/settings").status_code == 401
    assert http.get("/api/1c/settings", headers=hdr(False)).status_code == 403
    got = http.get("/api/1c/settings", headers=hdr(True))
    assert got.status_code == 200 and env.onec.password not in got.get_data(as_text=True)
    assert got.json["connection"]["password_set"] is True
    saved = http.post("/api/1c/settings", json={"lookback_days": 20, "password": ""}, headers=hdr(True))
    assert saved.status_code == 200 and saved.json["problems"] == []
    assert env.onec.password not in saved.get_data(as_text=True)
    assert connection.load(env.services.store.kv, env.member_id).password == env.onec.password
    bad = http.post("/api/1c/settings", json={"profile": "nope"}, headers=hdr(True))
    assert bad.status_code == 400
    secret = http.post("/api/1c/push-secret", headers=hdr(True)).json["secret"]
    assert connection.push_secret(env.services.store.kv, env.member_id) == secret
    # The review list names clients and money: an administrator's (issue 11: it was open to any session).
    assert http.get("/api/1c/review", headers=hdr(True)).json == {"items": []}
    assert http.get("/api/1c/review", headers=hdr(False)).status_code == 403


def test_gate_is_one_of_several_deal_update_handlers():
    """No chain(): the registry keeps a list per event, whichever domain declares first."""
    from sync_1c.gate import on_deal_update

    def other(services, member_id, payload):
        pass

    def other_domain(registry):
        registry.on_event("ONCRMDEALUPDATE", other)

    for first_other in (True, False):
        order = [("other", other_domain), ("sync_1c", domains.plugin_of("sync_1c"))]
        registry = domains.build([])
        for name, plugin in (order if first_other else order[::-1]):
            registry.use(name, plugin)
        members = [d.fn for d in registry.events["ONCRMDEALUPDATE"]]
        assert set(members) == {other, on_deal_update} and len(members) == 2


def test_periodic_job_and_changed_since_push(env, http):
    from sync_1c import jobs

    jt = env.services.registry.periodic["sync_1c.pull"]
    assert jt.fn is jobs.pull and jt.setting_key == "sync_1c.interval" and jt.seconds == 600
    assert env.services.store.kv.get(env.member_id, "sync_1c.interval") == 600
    jobs.pull(env.services, "f" * 32)                             # a portal without 1C: quietly nothing
    order = env.ib.add_order(300, recent(5), number="ТД00-000806")
    deal = env.deal("ТД00-000806", 300)
    env.ib.add_payment([(order, 300)], recent(1))
    secret = connection.push_secret(env.services.store.kv, env.member_id)
    r = http.post(f"/api/1c/push/{env.member_id}", json={"changed_since": recent(2).isoformat()},
                  headers={"X-B24App-1C-Secret": secret})
    assert r.status_code == 202
    _drain(_worker(env.services))
    assert env.paid(deal) == (300.0, "Y")
    jobs.pull(env.services, env.member_id)                        # the periodic run after it: nothing new
    assert env.ledger.cursor()["window_end"] is not None


def test_auto_forward_to_won_passes_the_gate(env):
    p = env.ids.pipeline("installation")
    env.services.store.kv.set(env.member_id, connection.AUTO_FORWARD_KEY,
                              {str(p.category_id): {p.stage("job_done"): p.stage("won")}})
    order = env.ib.add_order(700, recent(5), number="ТД00-000807")
    deal = env.deal("ТД00-000807", 700, stage="job_done")
    env.ib.add_payment([(order, 700)], recent(1))
    env.sync()
    assert env.get(deal)["STAGE_ID"] == p.stage("won")
    assert env.portal.wait_events()
    _drain(_worker(env.services))
    assert env.get(deal)["STAGE_ID"] == p.stage("won")
    assert not [n for n in env.portal.db.notifications if "не может быть закрыта" in str(n.get("MESSAGE"))]


def test_gate_never_trusts_a_hand_typed_amount_on_an_unmatched_deal(env):
    """A deal with a 1C order number the sync has not matched yet, and amount_paid typed by hand: the
    gate reads the order from 1C now (scoped) and holds the deal by what 1C says."""
    inst = env.ids.pipeline("installation")
    order = env.ib.add_order(1000, recent(5), number="ТД00-000811")
    env.ib.add_payment([(order, 300)], recent(2))
    deal = env.deal("ТД00-000811", 1000, stage="job_done")
    env.client.call("crm.deal.update", {"id": deal, "fields": {env.f("amount_paid"): 1000,
                                                               env.f("paid_in_full"): "Y"}})
    env.client.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": inst.stage("won")}})
    done = gate.enforce(env.services, env.member_id, deal)
    assert done["action"] == "moved_back" and done["source"] == "fetched" and done["paid"] == "300.00"
    assert env.get(deal)["STAGE_ID"] == inst.stage("job_done")
    assert env.paid(deal) == (300.0, "N")                         # and the field shows 1C's amount again
    # 1C has nothing for this number (typo) and is even down: unknown counts as unpaid
    other = env.deal("ТД00-000899", 500, stage="job_done", **{env.f("amount_paid"): 500})
    env.client.call("crm.deal.update", {"id": other, "fields": {"STAGE_ID": inst.stage("won")}})
    done = gate.enforce(env.services, env.member_id, other)
    assert (done["action"], done["source"], done["paid"]) == ("moved_back", "unknown", "0.00")
    env.onec.faults.down = True
    env.client.call("crm.deal.update", {"id": other, "fields": {"STAGE_ID": inst.stage("won")}})
    assert gate.enforce(env.services, env.member_id, other)["source"] == "unknown"
    env.onec.faults.down = False
    # once paid in full in 1C the same deal may be won
    env.ib.add_payment([(order, 700)], recent(1))
    env.sync()
    env.client.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": inst.stage("won")}})
    assert gate.enforce(env.services, env.member_id, deal) == {"action": "none", "stage": inst.stage("won"),
                                                                "source": "register"}


def test_check_paid_robot_uses_1c_not_the_field(env):
    order = env.ib.add_order(1000, recent(5), number="ТД00-000812")
    env.ib.add_payment([(order, 100)], recent(2))
    deal = env.deal("ТД00-000812", 1000, **{env.f("amount_paid"): 1000})     # typed by hand, never synced
    token = run_robot(env.portal, CLIENT_ID, "b24app_check_paid", f"DEAL_{deal}", {})
    _drain(_worker(env.services))
    sent = [e for e in env.portal.db.bizproc_events if e["event_token"] == token]
    assert sent[0]["return_values"] == {"paid_in_full": "N", "shortfall": 1000.0}
    env.sync()
    token = run_robot(env.portal, CLIENT_ID, "b24app_check_paid", f"DEAL_{deal}", {})
    _drain(_worker(env.services))
    sent = [e for e in env.portal.db.bizproc_events if e["event_token"] == token]
    assert sent[0]["return_values"] == {"paid_in_full": "N", "shortfall": 900.0}


def test_no_1c_connection_no_gate(env):
    inst = env.ids.pipeline("installation")
    deal = env.deal("ТД00-000813", 1000, stage="job_done")
    env.services.store.kv.delete(env.member_id, connection.KV_KEY)
    env.client.call("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": inst.stage("won")}})
    assert gate.enforce(env.services, env.member_id, deal)["action"] == "recorded"
    assert env.get(deal)["STAGE_ID"] == inst.stage("won")
