"""Robots when the portal misbehaves: a refused write is answered at once with a clear error; a transient
failure is retried and, when the inbox gives up, still answered; a dropped connection on crm.item.add makes
one item, not two (xmlId = b24app:<event_token>); check_paid validates its return stage; remembered
answers expire."""
from __future__ import annotations

import time

import requests

from b24app.inbox import Worker
from b24app.robot_runtime import ANSWER_KEY
from b24sandbox.robots import find_call, run_robot
from install.manifest import load
from tests.app.conftest import CLIENT_ID
from tests.registries import robots_only

from .conftest import robot


def _deal(services, ids, member_id, pipeline="installation", **fields):
    p = ids.pipeline(pipeline)
    return int(services.client(member_id).call("crm.deal.add", {"fields": {
        "TITLE": "Окна, ул. Ленина 1", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("scheduled"), **fields}}))


def _answers(portal, token):
    return [e for e in portal.db.bizproc_events if e["event_token"] == token]


def _engineer(services, member_id, user=2):
    """The user the calculation robots name holds the app's engineer role (the robots check it)."""
    from b24app import roles as app_roles

    app_roles.save(services.store.kv, member_id, {"users": {str(user): ["engineer"]}, "departments": {}})


def _robot_items(services, portal) -> dict:
    """The portal's robot items in the inbox by status (events the test's own changes cause are not counted)."""
    import sqlalchemy as sa

    from b24app.store.tables import inbox

    q = (sa.select(inbox.c.status, sa.func.count()).where(inbox.c.member_id == portal.member_id,
                                                          inbox.c.kind == "robot").group_by(inbox.c.status))
    with services.store.engine.connect() as c:
        return {status: n for status, n in c.execute(q)}


def _drain(services, portal, worker, rounds=60):
    """Run the worker until no robot item is pending (retries wait their backoff); returns
    the robot items by status."""
    for _ in range(rounds):
        worker.run_once()
        counts = _robot_items(services, portal)
        if not counts.get("pending") and not counts.get("working"):
            return counts
        time.sleep(0.02)
    raise AssertionError(f"inbox not drained: {services.store.inbox.counts(portal.member_id)}")


def _worker(services, attempts=8):
    return Worker(services, robots_only(), backoff=0.01, max_backoff=0.02, max_attempts=attempts)


def _requests(portal, method, status=None):
    return [r for r in portal.log if r.method == method and (status is None or r.status == status)]


def test_refused_write_is_answered_at_once_and_not_retried(installed, portal):
    """403 ACCESS_DENIED on crm.deal.update (set through the sandbox's control API): one answer with the
    portal's refusal in the log message, the inbox item done, the write tried once."""
    services, ids = installed
    deal = _deal(services, ids, portal.member_id)
    r = requests.post(portal.url + "/_sandbox/faults", json={"method_errors": {"crm.deal.update": {
        "error": "ACCESS_DENIED", "error_description": "Access denied!", "status": 403}}}, timeout=10)
    assert r.status_code == 200 and r.json()["method_errors"]["crm.deal.update"]["status"] == 403
    token = run_robot(portal, CLIENT_ID, "b24app_start_job", f"DEAL_{deal}", {"worker": "user_3"})
    counts = _drain(services, portal, _worker(services))
    assert counts == {"done": 1}, counts
    sent = _answers(portal, token)
    assert len(sent) == 1 and sent[0]["return_values"] == {}
    name = load().robot("b24app_start_job")["name"]["ru"]
    log = sent[0]["log_message"]
    assert log.startswith(f"b24app {name}: ошибка: портал отклонил crm.deal.update: ACCESS_DENIED"), log
    assert len(_requests(portal, "crm.deal.update")) == 1
    assert find_call(portal, token).answered
    got = services.client(portal.member_id).call("crm.deal.get", {"id": deal})
    assert got["STAGE_ID"] == ids.pipeline("installation").stage("scheduled")     # nothing half-written


def test_transient_failure_retried_then_given_up_with_an_answer(installed, portal):
    """crm.deal.get keeps answering 503: the client's tries and the inbox's attempts run out, and the
    give-up handler still answers the workflow with an error (once)."""
    services, ids = installed
    services.client_options["max_tries"] = 2
    deal = _deal(services, ids, portal.member_id)
    portal.faults.fail_method("crm.deal.get", "QUERY_LIMIT_EXCEEDED", "Too many requests", 503)
    token = run_robot(portal, CLIENT_ID, "b24app_finish_job", f"DEAL_{deal}")
    counts = _drain(services, portal, _worker(services, attempts=3))
    assert counts == {"failed": 1}, counts
    assert len(_requests(portal, "crm.deal.get", 503)) == 3 * 2           # inbox attempts × client tries
    sent = _answers(portal, token)
    assert len(sent) == 1 and sent[0]["return_values"] == {}
    assert "ошибка: портал не ответил после нескольких попыток" in sent[0]["log_message"]
    assert "QUERY_LIMIT_EXCEEDED" in sent[0]["log_message"]
    assert find_call(portal, token).answered
    _worker(services).run_once()                                            # nothing is left to re-send
    assert len(_answers(portal, token)) == 1


def test_transient_failure_then_success_answers_once(installed, portal):
    services, ids = installed
    services.client_options["max_tries"] = 2
    deal = _deal(services, ids, portal.member_id)
    portal.faults.fail_method("crm.deal.update", "INTERNAL_SERVER_ERROR", "Internal server error", 500, times=2)
    token = run_robot(portal, CLIENT_ID, "b24app_start_job", f"DEAL_{deal}", {"worker": "user_3"})
    counts = _drain(services, portal, _worker(services))
    assert counts == {"done": 1}, counts
    sent = _answers(portal, token)
    assert len(sent) == 1 and sent[0]["return_values"]["stage_id"] == ids.pipeline("installation").stage("job_started")


def _work_items(portal, ids):
    etid = ids.smart_process("work").entity_type_id
    return [r for r in portal.db.table_for(etid).rows.values()]


def test_dropped_answer_to_crm_item_add_makes_one_work_item(installed, portal):
    """The portal runs crm.item.add and the connection drops: the robot finds the item by its xmlId."""
    services, ids = installed
    deal = _deal(services, ids, portal.member_id, "measurements")
    portal.faults.drop_after("crm.item.add")
    _engineer(services, portal.member_id)
    sent, call = robot(services, portal, "b24app_order_work", f"DEAL_{deal}", {"engineer": "user_2"})
    items = _work_items(portal, ids)
    assert len(items) == 1 and items[0]["XML_ID"] == f"b24app:{call.event_token}"
    assert sent["return_values"]["work_id"] == items[0]["ID"]
    assert len(_requests(portal, "crm.item.add")) == 1


def test_dropped_add_and_failed_lookup_are_finished_by_the_inbox_retry(installed, portal, monkeypatch):
    """The add ran, its answer was lost and the look-up right after failed too: the handler goes back to
    the inbox, and the retry finds the item by xmlId instead of adding a second one."""
    services, ids = installed
    services.client_options["max_tries"] = 2
    deal = _deal(services, ids, portal.member_id, "measurements")
    portal.faults.drop_after("crm.item.add")
    original, budget = portal.faults.take_method_error, [1, 1]

    def lookups_fail_after_the_add(method):
        if method == "crm.item.list" and budget and _requests(portal, "crm.item.add"):
            budget.pop()
            return "QUERY_LIMIT_EXCEEDED", "Too many requests", 503
        return original(method)
    monkeypatch.setattr(portal.faults, "take_method_error", lookups_fail_after_the_add)
    _engineer(services, portal.member_id)
    token = run_robot(portal, CLIENT_ID, "b24app_order_work", f"DEAL_{deal}", {"engineer": "user_2"})
    worker = _worker(services)
    worker.run_once()
    assert _robot_items(services, portal) == {"pending": 1}            # went back for a retry
    assert _answers(portal, token) == []
    counts = _drain(services, portal, worker)
    assert counts == {"done": 1}, counts
    items = _work_items(portal, ids)
    assert len(items) == 1 and items[0]["XML_ID"] == f"b24app:{token}"
    sent = _answers(portal, token)
    assert len(sent) == 1 and sent[0]["return_values"]["work_id"] == items[0]["ID"]
    assert len(_requests(portal, "crm.item.add")) == 1


def test_dropped_answer_on_create_visit_makes_one_visit(installed, portal):
    services, ids = installed
    company = int(services.client(portal.member_id).call("crm.company.add", {"fields": {"TITLE": "ООО Ромашка"}}))
    portal.faults.drop_after("crm.item.add")
    sent, call = robot(services, portal, "b24app_create_visit", f"COMPANY_{company}",
                       {"company_id": str(company), "visit_date": "01.03.2025 10:00:00"})
    etid = ids.smart_process("visit").entity_type_id
    visits = list(portal.db.table_for(etid).rows.values())
    assert len(visits) == 1 and visits[0]["XML_ID"] == f"b24app:{call.event_token}"
    assert sent["return_values"]["visit_id"] == visits[0]["ID"]


def test_send_to_calculation_retry_does_not_double(installed, portal):
    """The same robot call handled twice (a crash before the answer was remembered) → one Calculation."""
    from b24app.robot_runtime import handle_robot

    services, ids = installed
    deal = _deal(services, ids, portal.member_id, "measurements")
    _engineer(services, portal.member_id)
    sent, call = robot(services, portal, "b24app_send_to_calculation", f"DEAL_{deal}", {"engineer": "user_2"})
    services.store.kv.delete(portal.member_id, ANSWER_KEY + call.event_token)    # as if never remembered
    payload = {"event_token": call.event_token, "code": "b24app_send_to_calculation",
               "document_id": call.document_id, "properties": call.properties}
    again = handle_robot(services, portal.member_id, payload)
    etid = ids.smart_process("calculation").entity_type_id
    assert len(portal.db.table_for(etid).rows) == 1
    assert again == sent["return_values"]


# --- b24app_check_paid: the return stage -------------------------------------------------------------
def _unpaid(services, ids, mid):
    return _deal(services, ids, mid, OPPORTUNITY=1000, **{ids.deal_field("amount_paid"): 400})


def test_check_paid_accepts_our_stage_key_and_a_status_id(installed, portal):
    services, ids = installed
    inst = ids.pipeline("installation")
    deal = _unpaid(services, ids, portal.member_id)
    sent, _ = robot(services, portal, "b24app_check_paid", f"DEAL_{deal}", {"return_stage": "job_done"})
    assert sent["return_values"]["paid_in_full"] == "N"
    client = services.client(portal.member_id)
    assert client.call("crm.deal.get", {"id": deal})["STAGE_ID"] == inst.stage("job_done")
    assert f"returned to {inst.stage('job_done')}" in sent["log_message"]
    sent, _ = robot(services, portal, "b24app_check_paid", f"DEAL_{deal}", {"return_stage": inst.stage("scheduled")})
    assert client.call("crm.deal.get", {"id": deal})["STAGE_ID"] == inst.stage("scheduled")


def test_check_paid_rejects_a_stage_of_another_pipeline_or_a_final_one(installed, portal):
    services, ids = installed
    inst, meas = ids.pipeline("installation"), ids.pipeline("measurements")
    deal = _unpaid(services, ids, portal.member_id)
    client = services.client(portal.member_id)
    for given, why in ((meas.stage("proposal"), "is not a stage of deal"), ("typo_stage", "is not a stage of deal"),
                       (inst.stage("won"), "is a final stage")):
        sent, _ = robot(services, portal, "b24app_check_paid", f"DEAL_{deal}", {"return_stage": given})
        assert sent["return_values"] == {} and "ошибка:" in sent["log_message"], sent
        assert why in sent["log_message"] and repr(given) in sent["log_message"], sent["log_message"]
        assert client.call("crm.deal.get", {"id": deal})["STAGE_ID"] == inst.stage("scheduled")
        if why.startswith("is not"):                                # the error names what would be accepted
            assert "job_done" in sent["log_message"] and inst.stage("job_done") in sent["log_message"]
            assert "won" not in sent["log_message"].split("use ", 1)[1]
    assert not [r for r in portal.log if r.method == "crm.deal.update"]


# --- remembered answers expire --------------------------------------------------------------------------
def test_robot_answers_expire_after_30_days(installed, portal):
    from b24app.robot_runtime import expire_answers

    services, ids = installed
    deal = _deal(services, ids, portal.member_id)
    _, call = robot(services, portal, "b24app_start_job", f"DEAL_{deal}", {"worker": "user_3"})
    kv, mid = services.store.kv, portal.member_id
    key = ANSWER_KEY + call.event_token
    assert kv.get(mid, key)["at"] > 0
    kv.set(mid, ANSWER_KEY + "legacy", {"values": {}, "log": "old"})            # written before answers had a time
    now = time.time()
    assert expire_answers(services, mid, now=now + 29 * 86400) == 0
    assert kv.get(mid, key) is not None and kv.get(mid, ANSWER_KEY + "legacy")["at"] == now + 29 * 86400
    assert expire_answers(services, mid, now=now + 31 * 86400) == 1
    assert kv.get(mid, key) is None and kv.get(mid, ANSWER_KEY + "legacy") is not None
    assert kv.get(mid, "installed") is not None                                   # nothing else touched


def test_the_platform_wires_the_robot_give_up_answer(app_env):
    """create_app() → domains.build(): the inbox's give-up hook for robots is ours, ONAPPUPDATE is handled."""
    from b24app.robot_runtime import robot_gave_up
    from install.jobs import on_app_update

    GIVE_UP_HANDLERS = {kind: d.fn for kind, d in app_env.registry.give_up.items()}
    EVENT_HANDLERS = {name: [d.fn for d in ds] for name, ds in app_env.registry.events.items()}
    assert GIVE_UP_HANDLERS["robot"] is robot_gave_up
    assert EVENT_HANDLERS["ONAPPUPDATE"] == [on_app_update]
