"""Seed 003's service desk against the installed sandbox portal over HTTP: the portal's call events pop the
caller's card (warranty left at the edges), an unknown caller becomes a client and a machine in one step,
a missed call a lead with a callback task, work orders in scenario pipelines whose stage follows their
status (a manual move is reverted with a notification naming the deciding field), mechanics free for the
window (calendar, other orders, hours) enforced on the server, only the service head reschedules, a
warranty case through the manufacturer's approval with the reclamation act attached, equipment history."""
from __future__ import annotations

import base64
import math
from datetime import UTC, date, timedelta

import pytest

from b24app import roles as app_roles
from b24app.registry import DISABLED_KEY
from b24app import session as page_sessions
from b24sandbox.methods import telephony
from tests import pagesession

DISPATCHER, HEAD, ENGINEER, MECH_A, MECH_B = 2, 3, 7, 5, 6


@pytest.fixture
def sd(desk):
    """The desk with its people: a dispatcher, a service head, an engineer and two mechanics (app roles)."""
    app_roles.save(desk.vs.live.store.kv, desk.vs.member_id, {"users": {
        str(DISPATCHER): ["dispatcher"], str(HEAD): ["service_head"], str(ENGINEER): ["engineer"],
        str(MECH_A): ["mechanic"], str(MECH_B): ["mechanic"]}})
    return desk


def tok(desk, user: int, *roles: str, lang: str = "ru") -> str:
    return pagesession.for_live(desk.vs.live, page_sessions.PageSession(desk.vs.member_id, user, lang, "LEFT_MENU",
                                                                        roles=tuple(roles)))


def _ids(desk):
    from install.registry import installed_ids

    return installed_ids(desk.vs.live.store, desk.vs.member_id)


def new_order(desk, equipment: str, request_type: str = "repair", reason: str = "Не заводится") -> dict:
    r = desk.post("/api/desk/request", {"phone": "+79165551234", "company_id": desk.company_id,
                                        "contact_id": desk.contact_id, "equipment_id": desk.equipment[equipment],
                                        "request_type": request_type, "comment": reason},
                  token=tok(desk, DISPATCHER, "dispatcher"))
    assert r.status_code == 201, r.text
    return r.json()


def next_workday(d: date) -> date:
    d += timedelta(days=1)
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return d


def test_a_call_pops_the_callers_two_machines_with_warranty_left_at_the_edges(sd):
    vs = sd.vs
    today = sd.today
    hours_first = sd.add_equipment("hours_first", "МТЗ 82", "SN-82-1", today + timedelta(days=300), 1500, 1500)
    date_first = sd.add_equipment("date_first", "К-744", "SN-744-2", today - timedelta(days=1), 4000, 3800)
    vs.advance(hours=0.1)
    call_id = telephony.incoming_call(vs.portal, "8 (916) 555-12-34", line="reg1")
    vs.portal.wait_events()
    vs.run_events(drain=False)
    r = sd.get("/api/desk/calls", token=tok(sd, DISPATCHER, "dispatcher"))
    assert r.status_code == 200, r.text
    (call,) = r.json()["calls"]
    assert (call["call_id"], call["phone"], call["state"]) == (call_id, "+79165551234", "ringing")
    (co,) = call["card"]["companies"]
    machines = {m["id"]: m for m in co["equipment"]}
    h, d = machines[hours_first], machines[date_first]
    # the hours ran out before the date: decided by the hours; the date ran out before the hours: by the date
    assert (h["on_warranty"], h["decided_by"], h["days_left"], h["hours_left"], h["warranty_text"]) == \
        (False, "hours", 300, 0.0, "моточасы выработаны")
    end = today - timedelta(days=1)
    months = ["янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"]
    assert (d["on_warranty"], d["decided_by"], d["days_left"], d["hours_left"], d["warranty_text"]) == \
        (False, "date", -1, 200.0, f"истекла {end.day} {months[end.month - 1]} {end.year}")
    # the page polls with the call it shows: no card again, no portal call
    mark = len(vs.portal.log)
    again = sd.get("/api/desk/calls", params={"seen": call_id}, token=tok(sd, DISPATCHER, "dispatcher")).json()
    assert [c["call_id"] for c in again["calls"]] == [call_id] and again["calls"][0]["card"] is None
    assert [r.method for r in vs.portal.log[mark:] if r.method.startswith("crm.")] == []
    over = machines[sd.equipment["tractor"]]
    assert over["on_warranty"] is True and over["warranty_text"].endswith("осталось 749.5 ч")
    en = sd.get("/api/desk/calls", token=tok(sd, DISPATCHER, "dispatcher", lang="en")).json()["calls"][0]
    en_rows = {m["id"]: m for m in en["card"]["companies"][0]["equipment"]}
    assert en_rows[hours_first]["warranty_text"] == "hours used up"
    assert en_rows[sd.equipment["harvester"]]["warranty_text"].startswith("expired ")
    assert en_rows[sd.equipment["seeder"]]["warranty_text"] == "hours used up"
    # answered: the call is the dispatcher's; ended: off the list, the recording waits for its request
    telephony.answer_call(vs.portal, call_id, DISPATCHER)
    vs.advance(hours=0.05)
    telephony.end_call(vs.portal, call_id)
    vs.portal.wait_events()
    vs.run_events(drain=False)
    assert sd.get("/api/desk/calls", token=tok(sd, DISPATCHER, "dispatcher")).json()["calls"] == []
    r = sd.post("/api/desk/request", {"phone": "+79165551234", "company_id": sd.company_id,
                                      "equipment_id": sd.equipment["tractor"], "request_type": "repair",
                                      "comment": "Течь масла", "call_id": call_id},
                token=tok(sd, DISPATCHER, "dispatcher"))
    assert r.status_code == 201, r.text
    ids = _ids(sd)
    deal = vs.client.call("crm.deal.get", {"id": r.json()["deal_id"]})
    assert deal[ids.deal_field("svc_call_record")].endswith(".mp3")
    assert r.json()["scenario"] == "svc_warranty_repair"
    assert deal["CATEGORY_ID"] == str(ids.pipeline("svc_warranty_repair").category_id)
    assert deal["STAGE_ID"] == ids.pipeline("svc_warranty_repair").stage("new")


def test_an_unknown_number_creates_the_client_and_the_machine_in_one_step(sd):
    vs = sd.vs
    t = tok(sd, DISPATCHER, "dispatcher")
    assert sd.get("/api/desk/lookup", params={"phone": "+7 903 777-66-55"}, token=t).json()["found"] is False
    before = (len(vs.portal.db.companies.rows), len(vs.portal.db.contacts.rows))
    body = {"phone": "+7 903 777-66-55", "kind": "company", "company": {"title": "КФХ «Нива»", "inn": "4826012345"},
            "contact": {"name": "Иван", "last_name": "Нивин"},
            "machine": {"model": "Беларус 3522", "serial": "SN-3522-9", "purchase_date": "2025-03-01", "price": 9800000,
                        "manufacturer": "МТЗ", "warranty_end": "2027-03-01", "warranty_hours": 2000,
                        "hours_used": 120.5}}
    # strict types first: nothing is written for a bad form
    for bad, needle in ((dict(body, kind="firm"), "kind"), (dict(body, machine={**body["machine"], "price": True}),
                                                            "machine.price"),
                        (dict(body, machine={**body["machine"], "warranty_end": "01.03.2027"}), "machine.warranty_end"),
                        (dict(body, company={"title": "X", "inn": "12"}), "company.inn")):
        r = sd.post("/api/desk/client", bad, token=t)
        assert r.status_code == 400 and needle in r.json()["error_description"], (bad, r.text)
    assert (len(vs.portal.db.companies.rows), len(vs.portal.db.contacts.rows)) == before
    pdf = base64.b64encode(b"%PDF-1.4 card").decode()
    r = sd.post("/api/desk/client", {**body, "documents": [{"name": "карточка.pdf", "content_base64": pdf}]}, token=t)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["documents"] == 1 and out["counterparty_checked"] is False
    assert out["card"]["companies"][0]["counterparty_checked"] is False
    (doc,) = [c for c in vs.portal.db.comments.rows.values()
              if c["ENTITY_TYPE"] == "company" and c["ENTITY_ID"] == out["company_id"]]
    assert [f["name"] for f in doc["FILES"]] == ["карточка.pdf"]
    (co,) = out["card"]["companies"]
    assert co["id"] == out["company_id"] and co["title"] == "КФХ «Нива»"
    (m,) = co["equipment"]
    assert (m["id"], m["model"], m["serial"], m["price"], m["manufacturer"], m["hours_left"], m["on_warranty"]) == \
        (out["equipment_id"], "Беларус 3522", "SN-3522-9", 9800000.0, "МТЗ", 1879.5, True)
    assert [c["id"] for c in out["card"]["contacts"]] == [out["contact_id"]]
    # found by name and by INN the next time
    found = sd.get("/api/desk/search", params={"q": "4826012345"}, token=t).json()
    assert [c["id"] for c in found["companies"]] == [out["company_id"]]
    assert out["contact_id"] in [c["id"] for c in sd.get("/api/desk/search", params={"q": "Нивин"}, token=t)
                                 .json()["contacts"]]
    hits = sd.get("/api/desk/search", params={"q": "СтарТек"}, token=t).json()["companies"]
    assert [(c["id"], c["phones"]) for c in hits] == [(sd.company_id, ["+7 (916) 555-12-34"])]
    # a private person: the contact owns the machine
    r = sd.post("/api/desk/client", {"phone": "+7 903 111-00-99", "kind": "person", "contact": {"name": "Пётр"},
                                     "machine": {"model": "Т-25", "warranty_hours": 100, "hours_used": 300}}, token=t)
    assert r.status_code == 201, r.text
    person = r.json()["card"]["contacts"][0]
    assert r.json()["company_id"] is None and person["equipment"][0]["warranty_text"] == "перерасход 200 ч"


def test_the_call_cards_crm_binding_puts_that_client_on_the_card(sd):
    """getStatus() gives the number and the CRM binding: a client bound to the call is shown even when the
    number the client rang from is not in its card yet; a bad binding is a 400."""
    t = tok(sd, DISPATCHER, "dispatcher")
    doc = sd.get("/api/desk/lookup", params={"phone": "+7 900 123-45-67", "entity_type": "COMPANY",
                                             "entity_id": sd.company_id}, token=t).json()
    assert doc["found"] is True and [c["id"] for c in doc["companies"]] == [sd.company_id]
    assert {m["id"] for m in doc["companies"][0]["equipment"]} == set(sd.equipment.values())
    for params in ({"entity_type": "COMPANY", "entity_id": "1.5"}, {"entity_type": "DEAL", "entity_id": 1},
                   {"entity_type": "COMPANY"}):
        r = sd.get("/api/desk/lookup", params={"phone": "+7 900 123-45-67", **params}, token=t)
        assert r.status_code == 400, (params, r.text)


def test_strict_ids_true_and_fractions_are_refused(sd):
    t = tok(sd, DISPATCHER, "dispatcher", lang="en")
    before = len(sd.vs.portal.db.deals.rows)
    for body, needle in (({"phone": "+79165551234", "company_id": True}, "company_id"),
                         ({"phone": "+79165551234", "company_id": sd.company_id, "equipment_id": 1.5}, "equipment_id"),
                         ({"phone": "+79165551234", "company_id": "1.5"}, "company_id"),
                         ({"phone": "+79165551234", "company_id": sd.company_id,
                           "equipment_id": sd.equipment["tractor"], "request_type": "tuning"}, "request_type")):
        r = sd.post("/api/desk/request", body, token=t)
        assert r.status_code == 400 and needle in r.json()["error_description"], (body, r.text)
    r = sd.post("/api/desk/request", {"phone": "+79165551234", "company_id": True}, token=tok(sd, 2, "dispatcher"))
    assert "нужен id" in r.json()["error_description"]
    assert len(sd.vs.portal.db.deals.rows) == before


def test_the_scenario_is_proposed_from_the_warranty_and_the_request_type(sd):
    t = tok(sd, DISPATCHER, "dispatcher")
    cases = {("tractor", "repair"): "svc_warranty_repair", ("tractor", "maintenance"): "svc_warranty_maint",
             ("harvester", "repair"): "svc_post_repair", ("seeder", "maintenance"): "svc_post_maint",
             ("seeder", "presale"): "svc_presale"}
    for (machine, kind), scenario in cases.items():
        r = sd.get("/api/desk/propose", params={"equipment_id": sd.equipment[machine], "request_type": kind}, token=t)
        assert r.status_code == 200 and r.json()["scenario"] == scenario, (machine, kind, r.text)


def test_a_missed_call_becomes_a_lead_with_a_callback_task(sd):
    vs = sd.vs
    sd.vs.live.store.kv.set(vs.member_id, "desk.lines", {"reg1": DISPATCHER})
    call_id = telephony.incoming_call(vs.portal, "+7 905 444-33-22", line="reg1")
    vs.advance(hours=0.01)
    telephony.end_call(vs.portal, call_id)
    vs.portal.wait_events()
    vs.run_events(drain=False)
    leads = vs.client.call("crm.lead.list", {"filter": {"SOURCE_ID": "CALL"}, "select": ["ID", "TITLE", "PHONE",
                                                                                        "ASSIGNED_BY_ID"]})
    (lead,) = [x for x in leads if "+79054443322" in x["TITLE"]]
    assert str(lead["ASSIGNED_BY_ID"]) == str(DISPATCHER)
    tasks = [t for t in vs.portal.db.tasks.rows.values() if f"L_{lead['ID']}" in (t.get("UF_CRM_TASK") or [])]
    assert len(tasks) == 1 and tasks[0]["RESPONSIBLE_ID"] == DISPATCHER and "+79054443322" in tasks[0]["TITLE"]
    # the portal repeats the event: nothing twice
    vs.portal.send_event_raw(vs.live.client_id, "ONVOXIMPLANTCALLEND", {"CALL_ID": call_id, "CALL_FAILED_CODE": "304",
                                                                        "PORTAL_USER_ID": "0"}, user_id=None)
    vs.portal.wait_events()
    vs.run_events(drain=False)
    assert len([x for x in vs.client.call("crm.lead.list", {"filter": {"SOURCE_ID": "CALL"}})
                if "+79054443322" in x["TITLE"]]) == 1
    assert len([t for t in vs.portal.db.tasks.rows.values() if f"L_{lead['ID']}" in (t.get("UF_CRM_TASK") or [])]) == 1


def test_a_manual_stage_move_is_reverted_with_the_deciding_field_named(sd):
    vs = sd.vs
    order = new_order(sd, "harvester")
    ids = _ids(sd)
    pipe = ids.pipeline("svc_post_repair")
    r = sd.put(f"/api/desk/orders/{order['deal_id']}/engineer", {"engineer_id": ENGINEER},
               token=tok(sd, HEAD, "service_head"))
    told = [n for n in vs.portal.db.notifications.rows.values() if str(n.get("USER_ID")) == str(ENGINEER)]
    assert told and "заполните свой блок" in told[-1]["MESSAGE"]
    assert r.status_code == 200 and r.json()["stage"] == "engineer" and r.json()["status"] == "at_engineer", r.text
    vs.portal.wait_events()
    vs.run_events(drain=False)
    # someone drags the card to "at the mechanic" by hand
    vs.client.call("crm.deal.update", {"id": order["deal_id"], "fields": {"STAGE_ID": pipe.stage("mechanic")}})
    vs.run_events(drain=False)
    deal = vs.client.call("crm.deal.get", {"id": order["deal_id"]})
    assert deal["STAGE_ID"] == pipe.stage("engineer")
    notes = [n for n in vs.portal.db.notifications.rows.values() if "вручную не меняется" in str(n.get("MESSAGE"))]
    assert notes and "«Блок инженера заполнен»" in notes[-1]["MESSAGE"] and "«У инженера»" in notes[-1]["MESSAGE"]
    # the engineer's block done (tool cell, parts with their date) moves it on by itself
    r = sd.put(f"/api/desk/orders/{order['deal_id']}/engineer", {"done": True}, token=tok(sd, ENGINEER, "engineer"))
    assert r.status_code == 400 and "tool_cell" in r.json()["error_description"]
    r = sd.put(f"/api/desk/orders/{order['deal_id']}/engineer",
               {"tool_cell": "A-12", "parts_ordered": True, "parts_date": "2026-12-20", "done": True},
               token=tok(sd, ENGINEER, "engineer"))
    assert r.status_code == 200, r.text
    assert (r.json()["stage"], r.json()["status"], r.json()["decided_by"]) == \
        ("parts", "waiting_parts", "svc_parts_arrived")
    reg = sd.get("/api/desk/orders", token=tok(sd, HEAD, "service_head")).json()["orders"]
    row = next(o for o in reg if o["id"] == order["deal_id"])
    assert (row["stage"], row["status"], row["tool_cell"], row["parts_date"]) == \
        ("parts", "waiting_parts", "A-12", "2026-12-20")
    assert sd.put(f"/api/desk/orders/{order['deal_id']}/engineer", {"done": True},
                  token=tok(sd, MECH_A, "mechanic")).status_code == 403


def _busy_10_12(sd, day: date):
    app = sd.vs.client
    app.call("calendar.event.add", {"type": "user", "ownerId": MECH_A, "name": "Выезд на ферму",
                                    "from": f"{day.isoformat()} 10:00:00", "to": f"{day.isoformat()} 12:00:00",
                                    "auto_detect_section": "Y"})


def test_a_mechanic_busy_10_to_12_is_not_offered_for_11_and_cannot_be_assigned(sd):
    order = new_order(sd, "harvester")
    day = next_workday(sd.today)
    _busy_10_12(sd, day)
    head = tok(sd, HEAD, "service_head")
    window = {"start": f"{day.isoformat()}T11:00", "end": f"{day.isoformat()}T13:00"}
    r = sd.get(f"/api/desk/orders/{order['deal_id']}/mechanics", params=window, token=head)
    assert r.status_code == 200, r.text
    assert [m["id"] for m in r.json()["free"]] == [MECH_B]
    (busy,) = r.json()["busy"]
    assert busy["id"] == MECH_A and busy["busy"][0]["why"] == "calendar"
    r = sd.post(f"/api/desk/orders/{order['deal_id']}/assign", {"mechanic_id": MECH_A, **window}, token=head)
    assert r.status_code == 409 and r.json()["error"] == "MECHANIC_BUSY" and "10:00–12:00" in \
        r.json()["error_description"], r.text
    r = sd.post(f"/api/desk/orders/{order['deal_id']}/assign", {"mechanic_id": MECH_B, **window}, token=head)
    assert r.status_code == 200 and r.json()["mechanic"] == MECH_B, r.text
    told = [n for n in sd.vs.portal.db.notifications.rows.values() if str(n.get("USER_ID")) == str(MECH_B)]
    assert told and "Вам назначен заказ-наряд" in told[-1]["MESSAGE"] and "11:00–13:00" in told[-1]["MESSAGE"]
    # 13:00 is free for A; B is now on this order, so a second order at 12:00 cannot take B
    other = new_order(sd, "seeder", "maintenance")
    later = {"start": f"{day.isoformat()}T12:00", "end": f"{day.isoformat()}T14:00"}
    offered = sd.get(f"/api/desk/orders/{other['deal_id']}/mechanics", params=later, token=head).json()
    assert [m["id"] for m in offered["free"]] == [MECH_A]
    assert offered["busy"][0]["busy"][0]["why"] == "order"
    r = sd.post(f"/api/desk/orders/{other['deal_id']}/assign", {"mechanic_id": MECH_B, **later}, token=head)
    assert r.status_code == 409 and r.json()["error"] == "MECHANIC_BUSY"
    evening = {"start": f"{day.isoformat()}T17:00", "end": f"{day.isoformat()}T19:00"}
    r = sd.post(f"/api/desk/orders/{other['deal_id']}/assign", {"mechanic_id": MECH_A, **evening}, token=head)
    assert r.status_code == 409 and "working hours" not in r.json()["error_description"] and \
        "вне рабочего времени" in r.json()["error_description"]
    for bad in ({"mechanic_id": True, **later}, {"mechanic_id": MECH_A, "start": "tomorrow", "end": later["end"]},
                {"mechanic_id": 1.5, **later}):
        assert sd.post(f"/api/desk/orders/{other['deal_id']}/assign", bad, token=head).status_code == 400


def test_only_the_service_head_reschedules(sd):
    order = new_order(sd, "harvester")
    day = next_workday(sd.today)
    window = {"start": f"{day.isoformat()}T14:00", "end": f"{day.isoformat()}T16:00"}
    head = tok(sd, HEAD, "service_head")
    assert sd.post(f"/api/desk/orders/{order['deal_id']}/assign", {"mechanic_id": MECH_A, **window},
                   token=head).status_code == 200
    moved = {"start": f"{day.isoformat()}T15:00", "end": f"{day.isoformat()}T17:00"}
    for who, roles in ((DISPATCHER, ("dispatcher",)), (ENGINEER, ("engineer",)), (MECH_A, ("mechanic",)),
                       (1, ("admin",))):
        r = sd.post(f"/api/desk/orders/{order['deal_id']}/reschedule", moved, token=tok(sd, who, *roles))
        assert r.status_code == 403 and r.json()["error"] == "ROLE_REQUIRED", (who, r.text)
        assert "руководитель сервиса" in r.json()["error_description"]
    ids = _ids(sd)
    deal = sd.vs.client.call("crm.deal.get", {"id": order["deal_id"]})
    assert deal[ids.deal_field("svc_job_from")].startswith(f"{day.isoformat()}T14:00")
    r = sd.post(f"/api/desk/orders/{order['deal_id']}/reschedule", moved, token=head)
    assert r.status_code == 200 and r.json()["job_from"].startswith(f"{day.isoformat()}T15:00"), r.text


def test_a_warranty_case_goes_through_approval_with_the_act_attached(sd):
    vs = sd.vs
    ids = _ids(sd)
    admin = tok(sd, 1, "admin")
    mtz = {"Беларус 1221": {"manufacturer": "ОАО «МТЗ»", "email": "warranty@mtz.by", "contact": "Отдел рекламаций"}}
    assert sd.put("/api/desk/manufacturers", mtz, token=admin).status_code == 200
    order = new_order(sd, "tractor", reason="Течь гидравлики")
    assert order["scenario"] == "svc_warranty_repair"
    deal_id = order["deal_id"]
    eng = tok(sd, ENGINEER, "engineer")
    r = sd.put(f"/api/desk/orders/{deal_id}/engineer", {"engineer_id": ENGINEER, "tool_cell": "B-3", "diag_trip": True,
                                                         "done": True}, token=eng)
    assert (r.json()["stage"], r.json()["decided_by"]) == ("diag_trip", "svc_diag_done"), r.text
    r = sd.put(f"/api/desk/orders/{deal_id}/engineer", {"diag_done": True}, token=eng)
    assert (r.json()["stage"], r.json()["decided_by"], r.json()["status"]) == \
        ("mfr_approval", "svc_mfr_approved", "at_engineer")
    draft = sd.get(f"/api/desk/orders/{deal_id}/claim", token=eng).json()
    assert (draft["to"], draft["manufacturer"], draft["model"], draft["serial"]) == \
        ("warranty@mtz.by", "ОАО «МТЗ»", "Беларус 1221", "SN-1221-001")
    assert "Течь гидравлики" in draft["body"] and "SN-1221-001" in draft["subject"]
    r = sd.post(f"/api/desk/orders/{deal_id}/claim", {}, token=eng)
    assert r.status_code == 200 and r.json()["sent_to"] == "warranty@mtz.by" and r.json()["mfr_sent"], r.text
    # the manufacturer's reclamation act comes back: attached as a file, the order moves on
    pdf = base64.b64encode(b"%PDF-1.4 act 17/2026").decode()
    bad = sd.post(f"/api/desk/orders/{deal_id}/act", {"number": "17/2026", "approved": "yes",
                                                      "file": {"name": "act.pdf", "content_base64": pdf}}, token=eng)
    assert bad.status_code == 400
    r = sd.post(f"/api/desk/orders/{deal_id}/act", {"number": "17/2026", "approved": True,
                                                    "file": {"name": "act.pdf", "content_base64": pdf}}, token=eng)
    assert r.status_code == 200, r.text
    assert (r.json()["reclamation"], r.json()["mfr_approved"], r.json()["stage"]) == ("17/2026", True, "mechanic")
    comments = [c for c in vs.portal.db.comments.rows.values() if c["ENTITY_ID"] == deal_id]
    act = next(c for c in comments if "Акт рекламации № 17/2026" in c["COMMENT"])
    assert [f["name"] for f in act["FILES"]] == ["act.pdf"]
    assert any("warranty@mtz.by" in c["COMMENT"] for c in comments)
    # the mechanic does the work; the hours move the machine's hours on; the act signed → waiting for payment
    day = next_workday(sd.today)
    head = tok(sd, HEAD, "service_head")
    assert sd.post(f"/api/desk/orders/{deal_id}/assign", {"mechanic_id": MECH_A, "start": f"{day}T09:00",
                                                          "end": f"{day}T12:00"}, token=head).status_code == 200
    mine = sd.get("/api/desk/mine", token=tok(sd, MECH_A, "mechanic")).json()["orders"]
    assert [o["id"] for o in mine] == [deal_id] and mine[0]["tool_cell"] == "B-3"
    assert sd.put(f"/api/desk/orders/{deal_id}/mechanic", {"done": True},
                  token=tok(sd, MECH_B, "mechanic")).status_code == 403
    r = sd.put(f"/api/desk/orders/{deal_id}/mechanic", {"done": True, "act_signed": True, "hours": 1300,
                                                        "comment": "Заменён шланг"}, token=tok(sd, MECH_A, "mechanic"))
    assert r.status_code == 200, r.text
    vs.client.call("crm.deal.update", {"id": deal_id, "fields": {"OPPORTUNITY": 15000}})
    r = sd.get(f"/api/desk/orders/{deal_id}", token=head).json()
    assert (r["stage"], r["decided_by"], r["status"]) == ("payment", "paid", "waiting_payment")
    eq = ids.smart_process("equipment")
    item = vs.client.call("crm.item.get", {"entityTypeId": eq.entity_type_id, "id": sd.equipment["tractor"]})["item"]
    assert float(item[eq.field("hours_used")]) == 1300.0
    # the machine's card: its orders and reasons; the statistics per model
    card = sd.get(f"/api/desk/equipment/{sd.equipment['tractor']}", token=head).json()
    assert [o["id"] for o in card["orders"]] == [deal_id] and card["reasons"] == [{"reason": "Течь гидравлики",
                                                                                  "count": 1}]
    stats = sd.get("/api/desk/stats/reasons", token=head).json()["models"]
    assert {"model": "Беларус 1221", "orders": 1, "reasons": [{"reason": "Течь гидравлики", "count": 1}]} in stats


def test_presale_preparation_has_no_diagnostic_trip_nor_payment_check(sd):
    ids = _ids(sd)
    order = new_order(sd, "seeder", "presale", reason="Установка навесного")
    assert order["scenario"] == "svc_presale"
    stages = set(ids.pipeline("svc_presale").stages)
    assert "diag_trip" not in stages and "payment" not in stages and "mfr_approval" not in stages
    deal_id = order["deal_id"]
    sd.put(f"/api/desk/orders/{deal_id}/engineer", {"engineer_id": ENGINEER, "tool_cell": "C-1", "diag_trip": True,
                                                     "done": True}, token=tok(sd, ENGINEER, "engineer"))
    day = next_workday(sd.today)
    sd.post(f"/api/desk/orders/{deal_id}/assign", {"mechanic_id": MECH_B, "start": f"{day}T09:00",
                                                   "end": f"{day}T10:00"}, token=tok(sd, HEAD, "service_head"))
    r = sd.put(f"/api/desk/orders/{deal_id}/mechanic", {"done": True, "act_signed": True},
               token=tok(sd, MECH_B, "mechanic"))
    assert r.status_code == 200 and r.json()["stage"] == "won", r.text


def test_the_warranty_text_unit(sd):
    from desk.warranty import describe, warranty_left

    today = date(2026, 12, 3)
    left = warranty_left("2025-01-23", 3000, 100, today)
    assert describe(left, "2025-01-23", "en")["warranty_text"] == "expired 23 Jan 2025"
    assert describe(left, "2025-01-23", "ru")["warranty_text"] == "истекла 23 янв 2025"
    left = warranty_left("2027-01-23", 1000, 1200, today)
    assert describe(left, "2027-01-23", "en") == {"warranty_text": "200 h over", "decided_by": "hours"}
    left = warranty_left("2026-12-03", 1000, 999, today)           # the last day: still covered
    assert left.on_warranty is True and describe(left, "2026-12-03", "en")["warranty_text"] == \
        "until 3 Dec 2026 · 1 h left"


def test_closing_waits_for_full_payment_in_1c(sd):
    """The last step is 1C's: a hand-typed amount or a drag to "done" does not close the order; 1C's payment
    of the bound order does (the paid gate's rule), and that move is not reported as a manual one."""
    from decimal import Decimal

    from sync_1c.ledger_store import LedgerStore

    vs = sd.vs
    ids = _ids(sd)
    pipe = ids.pipeline("svc_post_repair")
    order = new_order(sd, "harvester", reason="Стук в двигателе")
    deal_id = order["deal_id"]
    assert sd.put(f"/api/desk/orders/{deal_id}/engineer", {"engineer_id": ENGINEER, "tool_cell": "D-4", "done": True},
                  token=tok(sd, ENGINEER, "engineer")).status_code == 200
    day = next_workday(sd.today)
    assert sd.post(f"/api/desk/orders/{deal_id}/assign", {"mechanic_id": MECH_A, "start": f"{day}T09:00",
                                                          "end": f"{day}T11:00"},
                   token=tok(sd, HEAD, "service_head")).status_code == 200
    vs.client.call("crm.deal.update", {"id": deal_id, "fields": {"OPPORTUNITY": 20000,
                                                                 ids.deal_field("order_1c_key"): "ord-55",
                                                                 ids.deal_field("amount_paid"): 20000}})
    r = sd.put(f"/api/desk/orders/{deal_id}/mechanic", {"done": True, "act_signed": True},
               token=tok(sd, MECH_A, "mechanic"))
    assert (r.json()["stage"], r.json()["decided_by"]) == ("payment", "paid"), r.text    # the typed amount: no
    vs.portal.wait_events()
    vs.run_events(drain=False)
    vs.client.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": pipe.stage("won")}})
    vs.run_events(drain=False)
    assert vs.client.call("crm.deal.get", {"id": deal_id})["STAGE_ID"] == pipe.stage("payment")
    ledger = LedgerStore(vs.services.store.engine, vs.member_id)
    ledger.save_orders([("ord-55", {"paid_1c": Decimal("12000.00")})])
    assert sd.get(f"/api/desk/orders/{deal_id}", token=tok(sd, HEAD, "service_head")).json()["stage"] == "payment"
    notes = len([n for n in vs.portal.db.notifications.rows.values() if "вручную не меняется" in str(n["MESSAGE"])])
    ledger.save_orders([("ord-55", {"paid_1c": Decimal("20000.00")})])
    vs.client.call("crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "оплата пришла"}})   # 1C's sync writes
    vs.run_events(drain=False)
    assert vs.client.call("crm.deal.get", {"id": deal_id})["STAGE_ID"] == pipe.stage("won")
    assert len([n for n in vs.portal.db.notifications.rows.values()
                if "вручную не меняется" in str(n["MESSAGE"])]) == notes


def test_desk_settings_lines_and_manufacturers_admin_only_nothing_half_written(sd):
    admin = tok(sd, 1, "admin")
    r = sd.put("/api/desk/settings", {"lines": {"reg1": DISPATCHER}, "manufacturers": {
        "К-744": {"manufacturer": "Кировец", "email": "not-an-address"}}}, token=admin)
    assert r.status_code == 400 and "email" in r.json()["error_description"]
    assert sd.get("/api/desk/settings", token=admin).json() == {"lines": {}, "manufacturers": {}}
    for bad in ({"lines": {"reg1": True}}, {"lines": {"reg1": 2.5}}, {"lines": []}, {"other": 1}):
        assert sd.put("/api/desk/settings", bad, token=admin).status_code == 400, bad
    r = sd.put("/api/desk/settings", {"lines": {"reg1": DISPATCHER, "+74951112233": "3"}}, token=admin)
    assert r.status_code == 200 and r.json()["lines"] == {"reg1": DISPATCHER, "+74951112233": 3}
    assert sd.put("/api/desk/settings", {"lines": {}}, token=tok(sd, HEAD, "service_head")).status_code == 403
    # a call on a line that is not a dispatcher line is not popped
    vs = sd.vs
    telephony.incoming_call(vs.portal, "+7 916 555-12-34", line="reg9", line_number="+74990000009")
    vs.portal.wait_events()
    vs.run_events(drain=False)
    assert sd.get("/api/desk/calls", token=tok(sd, DISPATCHER, "dispatcher")).json()["calls"] == []


def test_old_call_records_are_forgotten(sd):
    from desk import calls

    vs = sd.vs
    call_id = telephony.incoming_call(vs.portal, "+7 916 555-12-34")
    vs.portal.wait_events()
    vs.run_events(drain=False)
    assert calls.get(vs.services, vs.member_id, call_id)
    assert calls.forget_old(vs.services, vs.member_id) == 0
    vs.advance(days=8)
    assert calls.forget_old(vs.services, vs.member_id) == 1
    assert calls.get(vs.services, vs.member_id, call_id) is None
    assert vs.live.store.kv.get(vs.member_id, calls.KV_RECENT) == []


def _order_for_mechanic_a(sd) -> tuple[dict, date]:
    """A work order with the engineer's block done, given to mechanic A for 13:00–15:00 of the next workday."""
    order = new_order(sd, "harvester")
    sd.put(f"/api/desk/orders/{order['deal_id']}/engineer", {"engineer_id": ENGINEER, "tool_cell": "E-1",
                                                              "done": True}, token=tok(sd, ENGINEER, "engineer"))
    day = next_workday(sd.today)
    assert sd.post(f"/api/desk/orders/{order['deal_id']}/assign", {"mechanic_id": MECH_A, "start": f"{day}T13:00",
                                                                   "end": f"{day}T15:00"},
                   token=tok(sd, HEAD, "service_head")).status_code == 200
    return order, day


def phone(sd, user: int) -> str:
    """A phone link's session: field-worker rights only."""
    return pagesession.for_live(sd.vs.live, page_sessions.PageSession(
        sd.vs.member_id, user, "ru", "PHONE", roles=(app_roles.FIELD_WORKER,), kind="phone"))


def test_the_mechanics_phone_session_sees_and_closes_only_his_own_orders(sd):
    """What the field worker's phone page calls for a mechanic: a phone link's session holds field-worker
    rights only; his own orders are listed and his block accepted, another mechanic's order is 403."""
    order, day = _order_for_mechanic_a(sd)
    deal_id = order["deal_id"]

    mine = sd.get("/api/desk/mine", token=phone(sd, MECH_A)).json()["orders"]
    assert [(o["id"], o["tool_cell"], o["job_from"][:16]) for o in mine] == [(deal_id, "E-1", f"{day}T13:00")]
    assert sd.get("/api/desk/mine", token=phone(sd, MECH_B)).json()["orders"] == []
    r = sd.put(f"/api/desk/orders/{deal_id}/mechanic", {"done": True}, token=phone(sd, MECH_B))
    assert r.status_code == 403 and r.json()["error"] == "NOT_YOURS"
    photo = base64.b64encode(b"\xff\xd8\xff photo").decode()
    r = sd.put(f"/api/desk/orders/{deal_id}/mechanic", {"done": True, "act_signed": True, "hours": 3100,
                                                        "comment": "Готово", "files": [{"name": "after.jpg",
                                                                                        "content_base64": photo}]},
               token=phone(sd, MECH_A))
    assert r.status_code == 200 and r.json()["stage"] == "payment", r.text
    files = [f["name"] for c in sd.vs.portal.db.comments.rows.values() if c["ENTITY_ID"] == deal_id
             for f in c.get("FILES") or []]
    assert files == ["after.jpg"]
    # the phone session reaches nothing else of the desk
    for path in ("/api/desk/orders", f"/api/desk/orders/{deal_id}/mechanics?start={day}T09:00&end={day}T10:00"):
        assert sd.get(path, token=phone(sd, MECH_A)).status_code == 403


def test_a_call_through_an_external_pbx_app_pops_the_client_too(sd):
    """A PBX connected through a telephony app (telephony.externalCall.register / finish): the INIT event has
    no line, only the caller — popped even with dispatcher lines configured; its record URL reaches the request."""
    vs = sd.vs
    vs.live.store.kv.set(vs.member_id, "desk.lines", {"reg1": DISPATCHER})
    reg = vs.client.call("telephony.externalCall.register", {"USER_ID": DISPATCHER, "PHONE_NUMBER": "79165551234",
                                                             "TYPE": 2, "LINE_NUMBER": "3"})
    vs.portal.wait_events()
    vs.run_events(drain=False)
    (call,) = sd.get("/api/desk/calls", token=tok(sd, DISPATCHER, "dispatcher")).json()["calls"]
    assert call["call_id"] == reg["CALL_ID"] and call["card"]["companies"][0]["id"] == sd.company_id
    vs.client.call("telephony.externalCall.finish", {"CALL_ID": reg["CALL_ID"], "USER_ID": DISPATCHER, "DURATION": 40,
                                                     "RECORD_URL": "https://pbx.example/rec/7.mp3"})
    vs.portal.wait_events()
    vs.run_events(drain=False)
    r = sd.post("/api/desk/request", {"phone": "+79165551234", "company_id": sd.company_id, "call_id": reg["CALL_ID"],
                                      "equipment_id": sd.equipment["harvester"], "request_type": "repair"},
                token=tok(sd, DISPATCHER, "dispatcher"))
    assert r.status_code == 201, r.text
    deal = vs.client.call("crm.deal.get", {"id": r.json()["deal_id"]})
    assert deal[_ids(sd).deal_field("svc_call_record")] == "https://pbx.example/rec/7.mp3"


def test_the_mechanics_work_orders_are_on_his_phone_day_and_finished_from_it(sd):
    """Seed 003 "the mechanic's phone": his work orders of the day are items of the field worker's page (a
    kind of job beside deals and visits), at the client's address with navigation links; his taps go through
    field/'s exactly-once ledger; "finished" ticks his done field and the order settles at its computed stage
    (never a hand on the stage); another mechanic's order is refused."""
    order, day = _order_for_mechanic_a(sd)
    deal_id = order["deal_id"]

    doc = sd.get("/api/field/day", params={"date": str(day)}, token=phone(sd, MECH_A)).json()
    orders = [i for i in doc["items"] if i["kind"] == "work_order"]
    assert [(i["id"], i["time"], i["minutes"]) for i in orders] == [(deal_id, "13:00", 120)], doc
    company = sd.vs.portal.db.companies.get(sd.company_id)
    assert orders[0]["client"] == company["TITLE"] and orders[0]["links"], orders[0]
    assert "finished" in orders[0]["actions"] and orders[0]["status"] == "planned"
    other = sd.get("/api/field/day", params={"date": str(day)}, token=phone(sd, MECH_B)).json()
    assert [i for i in other["items"] if i["kind"] == "work_order"] == []

    taken = {}

    def tap(user, action, n):            # the phone stamps each tap once; a retry sends the same body
        at = taken.setdefault((action, n), sd.vs.services.now(UTC).isoformat(timespec="seconds"))
        return sd.post("/api/field/actions", {"id": f"wo-{deal_id}-{action}-{n}", "action": action, "at": at,
                                              "kind": "work_order", "item": deal_id}, token=phone(sd, user))
    r = tap(MECH_B, "started", 1)
    assert r.status_code == 403 and r.json()["error"] == "NOT_YOUR_JOB", r.text
    assert tap(MECH_A, "started", 1).status_code == 200
    r = tap(MECH_A, "finished", 1)
    assert r.status_code == 200 and r.json()["job"]["status"] == "finished", r.text
    assert tap(MECH_A, "finished", 1).status_code == 200            # the phone's retry: applied once
    deal = sd.vs.portal.db.deals.get(deal_id)
    ids = _ids(sd)
    assert deal[ids.deal_field("svc_mechanic_done")] in ("Y", "1", 1, True)
    view = sd.get(f"/api/desk/orders/{deal_id}", token=tok(sd, HEAD, "service_head")).json()
    assert view["stage"] == view["computed"] and view["computed"] != order.get("stage"), view


def test_a_burst_of_deal_edits_costs_the_stage_check_one_read_per_50_deals(sd):
    """Every deal edit on the portal is a possible hand on a work order's stage, so the desk looks at each —
    but a burst is read in batches (``crm.deal.get`` × 50 per call), not one call per event, and a work order
    dragged by hand within the burst still goes back."""
    vs = sd.vs
    order = new_order(sd, "harvester")
    pipe = _ids(sd).pipeline("svc_post_repair")
    sd.put(f"/api/desk/orders/{order['deal_id']}/engineer", {"engineer_id": ENGINEER},
           token=tok(sd, HEAD, "service_head"))
    vs.portal.wait_events()
    vs.run_events(drain=False)
    others = [int(d["ID"]) for d in vs.client.call("crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}})][:40]
    # the other readers of every updated deal (the 1C gate, the map, the deal rules) off: count the desk alone
    vs.live.store.kv.set(vs.member_id, DISABLED_KEY, ["sync_1c", "maps", "rules"])
    vs.advance(hours=1)                                    # the portal's request budget full again
    vs.client.batch_many([("crm.deal.update", {"id": i, "fields": {"COMMENTS": "правка"}}) for i in others])
    vs.client.call("crm.deal.update", {"id": order["deal_id"], "fields": {"STAGE_ID": pipe.stage("mechanic")}})
    vs.portal.wait_events()
    since = len(vs.portal.log)
    vs.run_events(drain=False)
    gets = [r for r in vs.portal.log[since:] if r.via == "http" and r.method == "crm.deal.get"]
    reads = [r for r in vs.portal.log[since:] if r.via == "http" and r.method == "batch"
             and any(str(c).startswith("crm.deal.get") for c in (r.params.get("cmd") or {}).values())]
    assert gets == [] and 1 <= len(reads) <= math.ceil((len(others) + 1) / 50) + 1, [r.method for r in reads]
    assert vs.client.call("crm.deal.get", {"id": order["deal_id"]})["STAGE_ID"] == pipe.stage("engineer")
    assert vs.live.store.kv.items(vs.member_id, "desk.dirty.") == {}
