"""Seed 004's rules not covered by test_reminders/test_events, each with the sandbox portal's clock: the lead
rules (2 working hours, the order-type task), the required-field entry guards, the technologist's return and
preparation, the production task's checklist/co-executors/observers, delivery planning, the shipment
documents 2 hours before the shipment, full payment without installation, installation control, the closing
documents task — and the whole preset installed on an empty portal with its pipelines and fields in one step."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from b24app import roles as app_roles
from b24app import session as page_sessions
from rules import model
from tests import pagesession
from tests.rules.conftest import PASSED

MSK = ZoneInfo("Europe/Moscow")
MON = datetime(2027, 3, 1, 10, 0, tzinfo=MSK)            # Monday 1 March 2027


def msk(*a) -> datetime:
    return datetime(*a, tzinfo=MSK)


def _checklist(f, task_title_part: str) -> list[str]:
    task = next(t for t in f.portal.db.tasks.rows.values() if task_title_part in t["TITLE"])
    items = sorted((i for i in f.portal.db.checklist.rows.values() if i["TASK_ID"] == task["ID"]),
                   key=lambda i: i["SORT_INDEX"])
    return [i["TITLE"] for i in items]


def _lead(f, **fields) -> int:
    return int(f.client.call("crm.lead.add", {"fields": {"TITLE": "Прилавок с сайта", "ASSIGNED_BY_ID": f.manager,
                                                         **fields}}))


@pytest.mark.parametrize("clock_start", [msk(2027, 3, 5, 16, 0)])
def test_a_new_lead_not_taken_in_2_working_hours_tells_the_head(furniture):
    f = furniture
    f.set_now(msk(2027, 3, 5, 17, 0))                      # Friday 17:00: one working hour left today
    lead = _lead(f)
    taken = _lead(f, TITLE="Взят вовремя")
    f.set_now(msk(2027, 3, 9, 9, 30))                      # Mon 8 March is a holiday: Tue 9:30 = 1.5 h
    assert f.sweep().fired == []
    f.client.call("crm.lead.update", {"id": taken, "fields": {"STATUS_ID": "IN_PROCESS"}})
    f.set_now(msk(2027, 3, 9, 10, 0))                      # 2 working hours: 17–18 Fri + 9–10 Tue
    st = f.sweep()
    assert [(r, d) for r, d, _ in st.fired] == [("lead_not_taken", lead)]
    [note] = f.notes()
    assert note["USER_ID"] == f.head and "Прилавок с сайта" in note["MESSAGE"]
    f.set_now(msk(2027, 3, 10, 12, 0))
    assert f.sweep().fired == [] and len(f.notes()) == 1   # once


@pytest.mark.parametrize("clock_start", [MON])
def test_a_lead_taken_into_work_gets_the_order_type_task_once(furniture):
    f = furniture
    lead = _lead(f)
    f.run_events()
    assert f.tasks() == []
    f.client.call("crm.lead.update", {"id": lead, "fields": {"STATUS_ID": "IN_PROCESS"}})
    f.run_events()
    f.breathe()
    f.live.store.inbox.put(f.member_id, "event", "ONCRMLEADUPDATE",
                           {"event": "ONCRMLEADUPDATE", "data": {"FIELDS": {"ID": lead}}}, f"replay:lead:{lead}")
    f.run_events()                                          # the same event again: no second task
    [task] = f.tasks()
    assert "Указать тип заказа" in task["TITLE"] and task["UF_CRM_TASK"] == [f"L_{lead}"]
    assert int(task["RESPONSIBLE_ID"]) == f.manager and task["DEADLINE"].startswith("2027-03-02T10:0")


@pytest.mark.parametrize("clock_start", [MON])
def test_payment_stage_needs_the_amount_and_the_due_date_before_design(furniture):
    f = furniture
    deal = f.add_deal("PAYMENT", OPPORTUNITY=90000)
    f.run_events()
    f.move(deal, "DESIGN", UF_CRM_PAYMENT_AMOUNT=45000)      # no due date
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("PAYMENT")
    back = [n for n in f.notes() if "возвращена" in n["MESSAGE"]]
    assert sorted(n["USER_ID"] for n in back) == sorted([f.manager, f.head])
    assert "суммой оплаты и сроком сдачи" in back[0]["MESSAGE"]
    assert f.tasks(f.technologist) == []                    # the move did not count
    f.advance(hours=1)
    f.move(deal, "DESIGN", UF_CRM_DUE_DATE="2027-03-20")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("DESIGN")
    [task] = f.tasks(f.technologist)
    assert task["DEADLINE"].startswith("2027-03-03T11:0")   # 2 business days
    assert _checklist(f, "Подготовить производство") == ["Документация", "Заявка на склад", "Программа для ЧПУ",
                                                          "Сопроводительная документация"]


@pytest.mark.parametrize("clock_start", [MON])
def test_the_technologist_returns_the_project_with_a_comment(furniture):
    f = furniture
    deal = f.add_deal("DESIGN", **PASSED)
    f.run_events()
    f.move(deal, "CALC", COMMENTS="Столешница 2400 не проходит по раскрою")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("CALC")      # a move back, not refused
    [task] = [t for t in f.tasks(f.manager) if "Внести изменения" in t["TITLE"]]
    assert "Столешница 2400" in task["DESCRIPTION"] and task["DEADLINE"].startswith("2027-03-02T10:0")


@pytest.mark.parametrize("clock_start", [MON])
def test_production_needs_the_documents_then_the_task_has_checklist_co_executors_and_observers(furniture):
    f = furniture
    fitter = f.portal.db.add_user("Игорь", "Сборщиков", "fit@example.ru", position="Сборщик")
    fields = {k: v for k, v in PASSED.items() if k != "UF_CRM_TECH_DOCS"}
    deal = f.add_deal("DESIGN", UF_CRM_ASSEMBLERS=[fitter], **fields)
    f.run_events()
    f.move(deal, "PROD_TASK")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("DESIGN") and f.tasks(f.production_head) == []
    f.advance(hours=1)
    f.move(deal, "PROD_TASK", UF_CRM_TECH_DOCS="КД.pdf")
    f.run_events()
    [task] = f.tasks(f.production_head)
    assert [int(a) for a in task["ACCOMPLICES"]] == [fitter]
    assert sorted(int(a) for a in task["AUDITORS"]) == sorted([f.head, f.manager])
    assert task["DEADLINE"].startswith("2027-03-02T11:0")   # 1 working day
    assert _checklist(f, "Производство:") == ["Раскрой", "Кромка и присадка", "Сборка", "Упаковка"]


@pytest.mark.parametrize("clock_start", [MON])
def test_order_ready_delivery_task_in_2_working_hours_and_documents_2_hours_before_shipment(furniture):
    f = furniture
    deal = f.add_deal("PRODUCTION", UF_CRM_INSTALL_NEEDED="Y", **PASSED)
    f.run_events()
    f.set_now(msk(2027, 3, 1, 17, 0))
    f.move(deal, "READY")
    f.run_events()
    [plan] = f.tasks(f.production_head)
    assert "дату доставки" in plan["TITLE"] and plan["DEADLINE"].startswith("2027-03-02T10:00")  # 17–18 + 9–10
    assert not [t for t in f.tasks(f.manager) if "полную оплату" in t["TITLE"]]   # installation needed
    f.client.call("crm.deal.update", {"id": deal, "fields": {"UF_CRM_SHIP_AT": "2027-03-04T15:00:00+03:00"}})
    f.run_events()
    [docs] = [t for t in f.tasks(f.manager) if "документы к отгрузке" in t["TITLE"]]
    assert datetime.fromisoformat(docs["DEADLINE"]) == msk(2027, 3, 4, 13, 0)


@pytest.mark.parametrize("clock_start", [MON])
def test_without_installation_the_manager_collects_the_full_payment(furniture):
    f = furniture
    deal = f.add_deal("PRODUCTION", **PASSED)
    f.run_events()
    f.move(deal, "READY")
    f.run_events()
    [task] = [t for t in f.tasks(f.manager) if "полную оплату" in t["TITLE"]]
    assert task["UF_CRM_TASK"] == [f"D_{deal}"]


@pytest.mark.parametrize("clock_start", [MON])
def test_installation_control_then_closing_documents_3_business_days_each(furniture):
    f = furniture
    deal = f.add_deal("SHIPMENT", **PASSED)
    f.run_events()
    f.move(deal, "INSTALL")
    f.run_events()
    [control] = [t for t in f.tasks(f.manager) if "монтаж" in t["TITLE"]]
    assert control["DEADLINE"].startswith("2027-03-04T10:0")
    f.set_now(msk(2027, 3, 3, 15, 0))
    f.client.call("crm.deal.update", {"id": deal, "fields": {"UF_CRM_INSTALL_PHOTOS": "фото1.jpg"}})
    f.run_events()
    [closing] = [t for t in f.tasks(f.manager) if "закрывающие документы" in t["TITLE"]]
    assert closing["DEADLINE"].startswith("2027-03-09T15:0")  # Thu, Fri, (8 March off) Tue


def _admin(live, portal):
    tok = pagesession.for_live(live, page_sessions.PageSession(portal.member_id, 1, "ru", roles=(app_roles.ADMIN,)))
    return {page_sessions.HEADER: tok}


def test_the_preset_installs_its_pipelines_fields_and_rules_in_one_step(live_app, portal):
    assert live_app.install(portal)["progress"]["state"] == "done"
    url = live_app.url + "/api/rules/presets/seed004_furniture"
    r = requests.post(url, json={"install_structure": True}, headers=_admin(live_app, portal), timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["rules"] == 22
    client = live_app.services.client(portal.member_id)
    cats = {c["name"]: int(c["id"]) for c in client.call("crm.category.list", {"entityTypeId": 2})["categories"]}
    sales, nps = cats["Продажи и производство"], cats["NPS"]
    stages = client.call("crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{sales}"}, "order": {"SORT": "ASC"}})
    assert [s["NAME"] for s in stages] == [
        "Расчет проекта", "Согласование", "Ожидание оплаты", "Проектирование", "Постановка задачи на производство",
        "Производство", "Заказ готов", "Отгрузка товара", "Монтаж", "Сделка завершена", "Сделка провалена"]
    assert [s["STATUS_ID"] for s in stages][2] == f"C{sales}:PAYMENT"
    leads = {s["STATUS_ID"]: s["NAME"] for s in client.call("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})}
    assert leads["NEW"] == "Новый лид" and leads["UC_COMPETITOR"] == "Конкурент"
    fields = {u["FIELD_NAME"] for u in client.call("crm.deal.userfield.list", {})}
    assert {"UF_CRM_PAYMENT_AMOUNT", "UF_CRM_ORDER_NUMBER", "UF_CRM_SHIP_AT", "UF_CRM_CLOSING_DOCS",
            "UF_CRM_PAID_FULL"} <= fields
    doc = model.load(live_app.store.kv, portal.member_id)
    pay = next(r for r in doc.rules if r.id == "payment_wait")
    assert pay.category == sales and pay.trigger["stage"] == f"C{sales}:PAYMENT"
    nps_rule = next(r for r in doc.rules if r.id == "nps")
    assert nps_rule.actions[0]["category"] == nps and nps_rule.actions[1]["positive_stage"] == f"C{nps}:WON"
    # a second install finds what the first one made: nothing doubled
    r = requests.post(url, json={"install_structure": True}, headers=_admin(live_app, portal), timeout=60)
    assert r.status_code == 200
    again = [c["name"] for c in client.call("crm.category.list", {"entityTypeId": 2})["categories"]]
    assert again.count("NPS") == 1 and again.count("Продажи и производство") == 1
    assert len(client.call("crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{sales}"}})) == 11


@pytest.mark.parametrize("clock_start", [MON])
def test_a_pass_that_finds_many_overdue_deals_sends_each_person_a_digest(furniture):
    """The first pass after an install finds every overdue deal at once: a person with more than 10
    reminders in one pass gets them combined (20 to a message), each deal's occurrence still done once."""
    f = furniture
    deals = [f.add_deal("PAYMENT", TITLE=f"Заказ {i}") for i in range(12)]
    f.set_now(msk(2027, 3, 3, 11, 0))                        # 2 business days later: all 12 due
    st = f.sweep()
    assert sorted(d for _, d, _ in st.fired) == sorted(deals)
    [mine] = f.notes(f.manager)
    assert all(f"Заказ {i}" in mine["MESSAGE"] for i in range(12)) and mine["MESSAGE"].count("1 из 3") == 12
    assert len(f.notes(f.head)) == 1
    assert f.sweep().fired == [] and len(f.notes()) == 2


@pytest.mark.parametrize("clock_start", [MON])
def test_waiting_for_payment_needs_the_deal_amount(furniture):
    f = furniture
    deal = f.add_deal("APPROVAL", TITLE="Витрина без суммы")
    f.run_events()
    f.move(deal, "PAYMENT")
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("APPROVAL")
    [note] = f.notes(f.manager)
    assert "только с суммой сделки" in note["MESSAGE"]
    f.advance(hours=1)
    f.move(deal, "PAYMENT", OPPORTUNITY=150000)
    f.run_events()
    assert f.deal(deal)["STAGE_ID"] == f.stage("PAYMENT") and len(f.notes()) == 1


@pytest.mark.parametrize("clock_start", [msk(2027, 3, 4, 8, 0)])
def test_a_schedule_rule_three_times_a_working_day(furniture):
    """"3 times a day" as a schedule: 10:00, 13:00, 16:00 local time of working days, for the deals its stage
    condition selects; each time once, a time missed while the scheduler was down is not sent late."""
    f = furniture
    doc = model.load(f.live.store.kv, f.member_id).raw
    doc["rules"].append({"id": "production_digest", "category": f.category,
                         "trigger": {"type": "schedule", "at": ["10:00", "13:00", "16:00"]},
                         "conditions": [{"field": "STAGE_ID", "op": "eq", "value": f.stage("PRODUCTION")}],
                         "actions": [{"type": "notify", "to": [{"user": f.production_head}],
                                      "message": "В производстве: «{TITLE}» [{ID}]"}]})
    model.save(f.live.store.kv, f.member_id, model.validate(doc))
    f.add_deal("PRODUCTION", TITLE="Стеллаж")
    f.add_deal("READY", TITLE="Готовый прилавок")
    mine = lambda: [n for n in f.notes(f.production_head) if "В производстве" in n["MESSAGE"]]  # noqa: E731
    f.set_now(msk(2027, 3, 4, 9, 59))                    # Thursday
    f.sweep()
    assert mine() == []
    f.set_now(msk(2027, 3, 4, 10, 0))
    f.sweep()
    f.sweep()
    assert len(mine()) == 1 and "Стеллаж" in mine()[0]["MESSAGE"]
    f.set_now(msk(2027, 3, 4, 17, 0))                    # 13:00 and 16:00 both passed: the latest only
    f.sweep()
    assert len(mine()) == 2
    f.set_now(msk(2027, 3, 6, 13, 30))                   # Saturday: not a working day
    f.sweep()
    assert len(mine()) == 2
    f.set_now(msk(2027, 3, 9, 10, 5))                    # Mon 8 March is a holiday; Tuesday 10:00
    f.sweep()
    assert len(mine()) == 3
