"""Installed ids used by features, every manifest robot answered through bizproc.event.send, the CLI,
and uninstall."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from install.apply import KV_KEY, install
from install.manifest import load
from install.registry import NotInstalled
from tests.app.conftest import CLIENT_ID

from .conftest import robot as _robot


def _company(client, title="ООО Ромашка"):
    return int(client.call("crm.company.add", {"fields": {"TITLE": title}}))


def _deal(services, ids, member_id, pipeline="installation", **fields):
    p = ids.pipeline(pipeline)
    return int(services.client(member_id).call("crm.deal.add", {"fields": {
        "TITLE": "Окна, ул. Ленина 1", "CATEGORY_ID": p.category_id, "STAGE_ID": p.stage("scheduled"), **fields}}))


def test_feature_creates_a_visit_through_stored_ids(installed, portal):
    services, ids = installed
    client = services.client(portal.member_id)
    v = ids.smart_process("visit")
    company = _company(client)
    item = client.call("crm.item.add", {"entityTypeId": v.entity_type_id, "fields": {
        "title": "Визит", "categoryId": v.category_id, "stageId": v.stage("in_work"), "companyId": company,
        v.field("visit_date"): "2025-03-01T10:00:00+03:00", v.field("region"): "Москва",
        v.field("visit_type"): v.enum_id("visit_type", "repeat")}})["item"]
    got = client.call("crm.item.get", {"entityTypeId": v.entity_type_id, "id": item["id"]})["item"]
    assert got["stageId"] == v.stage("in_work")
    assert got[v.field("region")] == "Москва"
    assert str(got[v.field("visit_type")]) == str(v.enum_id("visit_type", "repeat"))
    with pytest.raises(NotInstalled, match="smart process 'visits'"):
        ids.smart_process("visits")


def test_start_and_finish_job_move_the_deal(installed, portal):
    services, ids = installed
    deal = _deal(services, ids, portal.member_id)
    sent, call = _robot(services, portal, "b24app_start_job", f"DEAL_{deal}", {"worker": "user_3"})
    stage = ids.pipeline("installation").stage("job_started")
    assert sent["return_values"]["stage_id"] == stage and sent["return_values"]["started_at"]
    assert call.answered and call.return_values["stage_id"] == stage
    row = services.client(portal.member_id).call("crm.deal.get", {"id": deal})
    assert row["STAGE_ID"] == stage and str(row[ids.deal_field("worker")]) == "3"
    sent, _ = _robot(services, portal, "b24app_finish_job", f"DEAL_{deal}")
    assert sent["return_values"]["stage_id"] == ids.pipeline("installation").stage("job_done")
    assert sent["return_values"]["actual_minutes"] == 0


def test_create_visit_robot(installed, portal):
    services, ids = installed
    company = _company(services.client(portal.member_id))
    sent, _ = _robot(services, portal, "b24app_create_visit", f"COMPANY_{company}",
                     {"company_id": str(company), "visit_date": "01.03.2025 10:00:00", "purpose": "Обучение"})
    v = ids.smart_process("visit")
    visit_id = sent["return_values"]["visit_id"]
    item = services.client(portal.member_id).call("crm.item.get", {"entityTypeId": v.entity_type_id,
                                                                   "id": visit_id})["item"]
    assert item["stageId"] == v.stage("draft") and item["companyId"] == company
    assert "created for company" in sent["log_message"]


def test_calculation_and_work_are_children_of_the_deal(installed, portal):
    services, ids = installed
    deal = _deal(services, ids, portal.member_id, "measurements")
    client = services.client(portal.member_id)
    from b24app import roles as app_roles

    # the robots act as far as the person they name may: user 2 holds the app's engineer role
    app_roles.save(services.store.kv, portal.member_id, {"users": {"2": ["engineer"]}, "departments": {}})
    for code, key, ret in (("b24app_send_to_calculation", "calculation", "calculation_id"),
                           ("b24app_order_work", "work", "work_id")):
        sent, _ = _robot(services, portal, code, f"DEAL_{deal}", {"engineer": "user_2", "comment": "3 окна"})
        sp = ids.smart_process(key)
        item = client.call("crm.item.get", {"entityTypeId": sp.entity_type_id, "id": sent["return_values"][ret]})
        assert item["item"]["parentId2"] == deal and item["item"]["stageId"] == sp.stage("new")


def test_payment_robots(installed, portal):
    services, ids = installed
    deal = _deal(services, ids, portal.member_id, OPPORTUNITY=1000, **{ids.deal_field("amount_paid"): 400,
                                                                         ids.deal_field("order_1c_number"): "УТ-42"})
    # the 400 was typed by hand and 1C never reported it: money comes from 1C only (sync_1c.gate)
    sent, _ = _robot(services, portal, "b24app_check_paid", f"DEAL_{deal}")
    assert sent["return_values"] == {"paid_in_full": "N", "shortfall": 1000.0}
    assert "NOT paid in full" in sent["log_message"]
    sent, _ = _robot(services, portal, "b24app_sync_payments_now", f"DEAL_{deal}")
    assert sent["return_values"] == {"amount_paid": 0.0, "paid_in_full": "N"}
    assert "nothing fetched" in sent["log_message"]


def test_assign_nearest_worker_assigns_a_free_candidate(installed, portal):
    services, ids = installed
    deal = _deal(services, ids, portal.member_id, **{ids.deal_field("coordinates"): "55.75,37.61",
                                                     ids.deal_field("job_at"): "2030-03-05T11:00:00+03:00"})
    sent, _ = _robot(services, portal, "b24app_assign_nearest_worker", f"DEAL_{deal}",
                     {"candidates": ["user_2", "user_3"]})
    assert sent["return_values"]["worker_id"] in (2, 3), sent
    assert "assigned to" in sent["log_message"]
    got = services.client(portal.member_id).call("crm.deal.get", {"id": deal})
    assert int(got[ids.deal_field("worker")]) == sent["return_values"]["worker_id"]
    assert any(f"D_{deal}" in e["CRM_FIELDS"] for e in portal.db.calendar_events.rows.values())
    busy = _deal(services, ids, portal.member_id, **{ids.deal_field("coordinates"): "55.75,37.61",
                                                     ids.deal_field("job_at"): "2030-03-10T11:00:00+03:00"})
    sent, _ = _robot(services, portal, "b24app_assign_nearest_worker", f"DEAL_{busy}",   # a Sunday: day off
                     {"candidates": ["user_2"]})
    assert sent["return_values"] == {} and "not assigned" in sent["log_message"]


def test_start_and_finish_job_record_facts(installed, portal):
    from maps import mapstate

    services, ids = installed
    deal = _deal(services, ids, portal.member_id)
    _robot(services, portal, "b24app_start_job", f"DEAL_{deal}", {"worker": "user_3"})
    _robot(services, portal, "b24app_finish_job", f"DEAL_{deal}")
    facts = mapstate.job_facts(services.store.engine, portal.member_id)
    assert len(facts) == 1 and facts[0]["worker_id"] == 3 and facts[0]["actual_minutes"] == 0
    assert facts[0]["started_at"] is not None and facts[0]["finished_at"] is not None


@pytest.mark.parametrize("code,doc,props,message", [
    ("b24app_create_visit", "CONTACT_1", {"company_id": "", "visit_date": "01.03.2025"}, "not on a company"),
    ("b24app_create_visit", "COMPANY_1", {"company_id": "999", "visit_date": "tomorrow"}, "not a valid datetime"),
    ("b24app_create_visit", "COMPANY_1", {"company_id": "999", "visit_date": "01.03.2025"},
     "company 999 cannot be read"),
    ("b24app_start_job", "DEAL_4242", {}, "deal 4242 cannot be read"),
    ("b24app_send_to_calculation", "DEAL_1", {"engineer": ""}, "'engineer' is required"),
    ("b24app_sync_payments_now", "COMPANY_1", {}, "works on deals only"),
])
def test_bad_calls_are_answered_with_a_clear_log_message(installed, portal, code, doc, props, message):
    services, _ = installed
    sent, call = _robot(services, portal, code, doc, props)
    assert sent["return_values"] == {}
    name = load().robot(code)["name"]["ru"]                   # the portal's language is Russian
    assert sent["log_message"].startswith(f"b24app {name}: ошибка: "), sent["log_message"]
    assert message in sent["log_message"], sent["log_message"]
    assert call.answered


def test_every_manifest_robot_has_a_handler():
    from b24app import domains

    HANDLERS = domains.build().robots              # every domain's robots, as create_app builds them
    assert set(HANDLERS) == {r["code"] for r in load().robots}


def test_cli_dry_run_and_install(app_env, portal):
    """`b24app install --dry-run PORTAL` prints the plan and sends no write; without it, installs."""
    from install.cli import install_command

    st = app_env.settings
    env = {"B24APP_DATABASE_URL": st.database_url, "B24APP_PUBLIC_URL": st.public_url, "B24_CLIENT_ID": st.client_id,
           "B24_CLIENT_SECRET": st.client_secret, "B24_OAUTH_SERVER": st.oauth_server,
           "B24APP_ALLOW_HTTP_PORTALS": "1"}
    runner = CliRunner()
    res = runner.invoke(install_command, ["--dry-run", portal.domain], env=env)
    assert res.exit_code == 0, res.output
    assert res.output.startswith("plan: ") and "create smart_process visit" in res.output
    assert "crm.type.add" not in [r.method for r in portal.log]
    res = runner.invoke(install_command, [portal.member_id], env=env)
    assert res.exit_code == 0, res.output
    assert "complete after" in res.output and "offline events: confirm mode" in res.output
    res = runner.invoke(install_command, ["--dry-run", portal.member_id], env=env)
    assert "0 create, 0 update, 0 remove" in res.output
    res = runner.invoke(install_command, ["nowhere.bitrix24.ru"], env=env)
    assert res.exit_code != 0 and "no installed portal" in res.output


def test_uninstall_removes_bindings_and_clean_forgets(installed, portal):
    from install.uninstall import on_uninstalled, remove_bindings

    services, _ = installed
    assert remove_bindings(services, portal.member_id) == []
    assert not [r for r in portal.db.robots if r[0] == CLIENT_ID]
    assert not [p for p in portal.db.placements.values() if p.get("client_id") == CLIENT_ID]
    # offline bindings are unbound too (event_type=offline, no handler); the lifecycle ones stay
    left = {(b.event, b.offline) for b in portal.events.bindings if b.client_id == CLIENT_ID}
    assert not [e for e, offline in left if offline] and ("ONOFFLINEEVENT", False) not in left
    assert {("ONAPPUNINSTALL", False), ("ONAPPUPDATE", False)} <= left       # a later uninstall is still heard
    rec = services.store.kv.get(portal.member_id, KV_KEY)
    assert rec["robots"] == {} and rec["smart_processes"]["visit"]["entityTypeId"]
    again = install(services, portal.member_id)           # a re-install restores the bindings only
    assert again.complete and not [s for s in again.sent if "crm.type.add" in s]
    on_uninstalled(services.store, portal.member_id, clean=True)
    assert services.store.kv.get(portal.member_id, KV_KEY) is None


def test_uninstall_keeps_onappuninstall_so_a_later_clean_uninstall_is_heard(installed, portal):
    from install.uninstall import remove_bindings

    services, _ = installed
    assert remove_bindings(services, portal.member_id) == []
    portal.uninstall_app(CLIENT_ID, clean=True)            # the portal POSTs ONAPPUNINSTALL to what is bound
    assert portal.events.flush()
    assert services.store.portals.get(portal.member_id) is None
    assert services.store.kv.get(portal.member_id, KV_KEY) is None


def test_cli_uninstall_removes_bindings(installed, portal):
    """`b24app install --uninstall PORTAL`: placements, robots and domain events unbound, lifecycle kept."""
    from install.cli import install_command

    services, _ = installed
    st = services.settings
    env = {"B24APP_DATABASE_URL": st.database_url, "B24APP_PUBLIC_URL": st.public_url, "B24_CLIENT_ID": st.client_id,
           "B24_CLIENT_SECRET": st.client_secret, "B24_OAUTH_SERVER": st.oauth_server,
           "B24APP_ALLOW_HTTP_PORTALS": "1"}
    assert [r for r in portal.db.robots if r[0] == CLIENT_ID]
    res = CliRunner().invoke(install_command, ["--uninstall", portal.domain], env=env)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"bindings removed from {portal.member_id}"
    assert not [r for r in portal.db.robots if r[0] == CLIENT_ID]
    assert not [p for p in portal.db.placements.values() if p.get("client_id") == CLIENT_ID]
    left = {b.event for b in portal.events.bindings if b.client_id == CLIENT_ID}
    assert {"ONAPPUNINSTALL", "ONAPPUPDATE"} <= left <= {"ONAPPINSTALL", "ONAPPUNINSTALL", "ONAPPUPDATE"}, left
    rec = services.store.kv.get(portal.member_id, KV_KEY)
    assert rec["robots"] == {} and not rec["complete"] and rec["smart_processes"]["visit"]["entityTypeId"]
