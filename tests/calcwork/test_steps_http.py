"""The calculation → work flow's further steps over HTTP against the installed sandbox portal: the
proposal and the act through the portal's document generator, an approval the head declines, "work only
after payment" (the 1C paid gate's rule), the SLA figures and the reminders (once, through the rules
ledger), the robots for every step (each checking the role of the person it names; a forged call
refused), and two clicks at the same moment (one write)."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import requests

from b24app import session as page_sessions
from b24sandbox.methods import documentgenerator as docgen
from b24sandbox.robots import run_robot
from calcwork import sla
from tests.app.conftest import CLIENT_ID

from .conftest import ADMIN, ENGINEER, ENGINEER2, MANAGER, OUTSIDER
from .test_flow_http import V1, V2, _files, _ok, _robot_items, _tags, _variant


def _calc_done(f, title: str = "Окна, Садовая 3") -> tuple[int, int]:
    deal = f.new_deal(title)
    calc = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal,
                                                             "target": {"kind": "user", "id": ENGINEER}}), 201)["id"]
    _ok(f.call("POST", f"/api/calc/{calc}/take", ENGINEER))
    for v in (V1, V2):
        _ok(f.call("POST", f"/api/calc/{calc}/variants", ENGINEER, _variant(f, v)))
    _ok(f.call("POST", f"/api/calc/{calc}/done", ENGINEER))
    return deal, calc


def _pdf_text(data: bytes) -> str:
    """The text lines of the sandbox's one-page PDF (UTF-16BE hex strings)."""
    import re

    return "\n".join(bytes.fromhex(h).decode("utf-16-be").lstrip("\ufeff") for h in re.findall(rb"<([0-9a-f]+)> Tj",
                                                                                                 data)
                     for h in [h.decode()])


def test_document_generator_makes_the_proposal_and_the_act(flow):
    f = flow
    docgen.install(f.portal)
    proposal_tpl = docgen.add_template(f.portal, "Коммерческое предложение", ("2", "2_category_1"))
    act_tpl = docgen.add_template(f.portal, "Акт выполненных работ")
    _ok(f.call("PUT", "/api/calc/settings", ADMIN, {"proposal_template_id": proposal_tpl,
                                                     "act_template_id": act_tpl}))
    deal, calc = _calc_done(f)
    ch = _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {"variant": "v2"}))
    doc = ch["chosen"]["document"]
    assert doc["source"] == "generator" and doc["template_id"] == proposal_tpl
    assert doc["title"] == f"Коммерческое предложение {deal}-1"
    adds = f.log("crm.documentgenerator.document.add")
    assert len(adds) == 1 and {k: adds[0].params[k] for k in ("templateId", "entityTypeId", "entityId")} == {
        "templateId": proposal_tpl, "entityTypeId": 2, "entityId": deal}
    assert adds[0].params["values"]["Variant"] == "С подоконниками" and adds[0].params["values"]["Total"] == "21750.00"
    # the first answer has no pdfUrl (converted asynchronously): the app read the document again for it
    assert f.log("crm.documentgenerator.document.get") and doc["pdf"] and "getPdf" in doc["pdf"]
    assert any(c.startswith("Коммерческое предложение (генератор документов)") and doc["pdf"] in c
               for c in f.comments("deal", deal))
    assert _files(f, "deal", deal, "proposal-deal-") == []                           # no XLSX of the app's own
    pdf = requests.get(doc["pdf"], timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    lines = _pdf_text(pdf.content)
    assert "Окна, Садовая 3" in lines and "Variant: С подоконниками" in lines and "Подоконник ПВХ × 3.0 = 2300.0" \
        in lines
    docx = requests.get(doc["url"], timeout=10)
    assert docx.status_code == 200 and docx.content[:2] == b"PK"
    _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {"variant": "v2"}))       # the same choice: no 2nd doc
    assert len(f.log("crm.documentgenerator.document.add")) == 1
    # the act of the finished work, from the act's template
    work = _ok(f.call("POST", "/api/work/order", MANAGER, {"deal_id": deal, "contract": "Д-7"}), 201)["id"]
    _ok(f.call("POST", f"/api/work/{work}/accept", ENGINEER))
    fin = _ok(f.call("POST", f"/api/work/{work}/finish", ENGINEER, {"report": "Подоконники установлены"}))
    act = fin["act_document"]
    assert act["source"] == "generator" and act["template_id"] == act_tpl and fin["act"] == act["title"]
    assert f.log("crm.documentgenerator.document.add")[-1].params["values"]["Report"] == "Подоконники установлены"
    work_entity = f"dynamic_{f.ids.smart_process('work').entity_type_id}"
    for where in (("deal", deal), (work_entity, work)):
        assert any(c.startswith("Акт выполненных работ (генератор документов)") for c in f.comments(*where))
        assert _files(f, *where, "act-work-") == []
    assert "Подоконники установлены" in _pdf_text(requests.get(act["pdf"], timeout=10).content)


def test_a_template_switched_off_falls_back_to_the_apps_xlsx(flow):
    f = flow
    docgen.install(f.portal)
    tpl = docgen.add_template(f.portal, "Старое КП", active="N")
    _ok(f.call("PUT", "/api/calc/settings", ADMIN, {"proposal_template_id": tpl}))
    deal, calc = _calc_done(f)
    ch = _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {"variant": "v1"}))
    assert ch["chosen"]["document"] == {"source": "app", "title": f"proposal-deal-{deal}.xlsx"}
    assert f.log("crm.documentgenerator.template.list") and not f.log("crm.documentgenerator.document.add")
    assert len(_files(f, "deal", deal, "proposal-deal-")) == 1


def test_the_head_declines_and_nothing_applies(flow):
    f = flow
    deal, calc = _calc_done(f)
    body = {"variant": "v1", "amounts": {"1": "12000"}, "request_approval": True}
    ap = _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, body), 202)["approval"]
    n = len(f.notes())
    d = _ok(f.call("POST", f"/api/calc/{calc}/approvals/{ap['n']}/decline", ADMIN, {"comment": "Слишком дёшево"}))
    assert d["approval"]["status"] == "declined" and d["chosen"] is None and d["pending_approval"] is None
    assert f.log("crm.item.productrow.set") == [] and f.deal_stage(deal) == "calc_provided"
    assert _tags(f, n) == [(MANAGER, f"b24app:calc:{calc}:ap1:d:{MANAGER}")] and "Слишком дёшево" in f.notes()[-1][2]
    assert f.call("POST", f"/api/calc/{calc}/approvals/1/approve", ADMIN).json()["error"] == "CALC_CONFLICT"
    # a new request may follow a declined one; a bad flag is a clear 400
    _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {**body, "amounts": {"1": "11000"}}), 202)
    r = f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {**body, "request_approval": "yes"})
    assert r.status_code == 400


def test_work_only_after_payment_asks_the_1c_gate(flow):
    from sync_1c.ledger_store import LedgerStore

    f = flow
    _ok(f.call("PUT", "/api/calc/settings", ADMIN, {"work_after_payment": True}))
    deal, calc = _calc_done(f)
    _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {"variant": "v2"}))      # 21750.00
    r = f.call("POST", "/api/work/order", MANAGER, {"deal_id": deal})
    assert r.status_code == 409 and r.json()["error"] == "NOT_PAID"
    assert "оплачено 0.00 из 21750.00" in r.json()["error_description"]
    en = f.call("POST", "/api/work/order", MANAGER, {"deal_id": deal}, lang="en", token=f.token(MANAGER, "en"))
    assert "1C shows 0.00 of 21750.00 paid" in en.json()["error_description"]
    # typing a paid amount into the deal does not count: 1C is the record of money
    f.client.call("crm.deal.update", {"id": deal, "fields": {f.ids.deal_field("amount_paid"): 21750}})
    assert f.call("POST", "/api/work/order", MANAGER, {"deal_id": deal}).json()["error"] == "NOT_PAID"
    assert f.log("crm.item.add")[-1].params["entityTypeId"] != f.ids.smart_process("work").entity_type_id
    # the deal bound to its 1C order, which 1C shows part-paid, then paid in full
    f.client.call("crm.deal.update", {"id": deal, "fields": {f.ids.deal_field("order_1c_key"): "ord-77"}})
    ledger = LedgerStore(f.vs.services.store.engine, f.vs.member_id)
    ledger.save_orders([("ord-77", {"paid_1c": Decimal("10000.00")})])
    assert "оплачено 10000.00 из 21750.00" in f.call("POST", "/api/work/order", MANAGER,
                                                      {"deal_id": deal}).json()["error_description"]
    ledger.save_orders([("ord-77", {"paid_1c": Decimal("21750.00")})])
    w = _ok(f.call("POST", "/api/work/order", MANAGER, {"deal_id": deal}), 201)
    assert f.stage("work", w["id"]) == "new" and f.deal_stage(deal) == "work_ordered"


def test_sla_figures_and_reminders_fire_once(flow):
    f = flow
    svc, member = f.vs.services, f.vs.member_id
    _ok(f.call("PUT", "/api/calc/settings", ADMIN, {"remind_after_hours": "4"}))
    waiting = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": f.new_deal("Ждёт"),
                                                                "target": {"kind": "department", "id": f.dept}}),
                  201)["id"]
    deal = f.new_deal("С вопросом")
    asked = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal,
                                                              "target": {"kind": "user", "id": ENGINEER}}), 201)["id"]
    _ok(f.call("POST", f"/api/calc/{asked}/take", ENGINEER))
    _ok(f.call("POST", f"/api/calc/{asked}/question", ENGINEER, {"text": "Какой этаж?"}))
    now = datetime.now(UTC)
    assert sla.remind(svc, member, now) == []                                    # nothing waits 4 h yet
    later = now + timedelta(hours=5)
    n = len(f.notes())
    sent = sla.remind(svc, member, later)
    assert sorted(sent) == sorted([(sla.RULE_NEW, waiting), (sla.RULE_QUESTION, asked)])
    dept = sorted(u["ID"] for u in f.portal.db.users.rows.values() if f.dept in u["UF_DEPARTMENT"])
    assert sorted(_tags(f, n)) == sorted([(u, f"b24app:calc:{waiting}:remind:{u}") for u in dept] +
                                         [(MANAGER, f"b24app:calc:{asked}:remind-q1:{MANAGER}")])
    assert "ждёт уже 5.0 ч" in next(m for u, t, m in f.notes()[n:] if u == dept[0])
    # a second pass, a second scheduler: the ledger has them, nothing is sent again
    assert sla.remind(svc, member, later + timedelta(minutes=5)) == []
    assert len(f.notes()) == n + len(dept) + 1
    from rules.ledger import RulesLedger

    rows = RulesLedger(svc.store.engine, member).rows()
    assert {(r["rule_id"], r["entity_id"], r["status"]) for r in rows} == {
        (sla.RULE_NEW, waiting, "done"), (sla.RULE_QUESTION, asked, "done")}
    # the figures: the question paused the engineer's clock
    _ok(f.call("POST", f"/api/calc/{asked}/answer", MANAGER, {"text": "Пятый"}))
    doc = _ok(f.call("GET", "/api/calc/sla?days=7", MANAGER))
    by_id = {c["id"]: c for c in doc["calculations"]}
    assert by_id[waiting]["state"] == "waiting" and by_id[waiting]["taken"] is None
    assert by_id[asked]["state"] == "in_work" and by_id[asked]["questions"] == 1
    assert by_id[asked]["hours_paused"] <= by_id[asked]["hours_to_take"] + by_id[asked]["hours_paused"]
    assert doc["summary"]["calculations"]["count"] == 2 and doc["summary"]["calculations"]["waiting"] == 1
    assert f.call("GET", "/api/calc/sla?days=0", MANAGER).status_code == 400
    # the figures are computed: a question of 2 h inside 10 h of work leaves 8 h of work
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    rec = {"id": 1, "deal_id": 1, "times": {"requested": t0.isoformat(), "taken": (t0 + timedelta(hours=1)).isoformat(),
                                            "done": (t0 + timedelta(hours=11)).isoformat()},
           "questions": [{"n": 1, "at": (t0 + timedelta(hours=3)).isoformat(),
                          "answered_at": (t0 + timedelta(hours=5)).isoformat()}]}
    fig = sla.calc_figures(rec, t0 + timedelta(days=1))
    assert (fig["hours_to_take"], fig["hours_in_work"], fig["hours_paused"]) == (1.0, 8.0, 2.0)
    # the periodic job is declared through the domain contract
    assert "calcwork.sla" in svc.registry.periodic


def _answer(f, token: str) -> dict:
    return next(e for e in f.portal.db.bizproc_events if e["event_token"] == token)


def _robot(f, code: str, deal: int, props: dict) -> dict:
    f.vs.advance(hours=0.02)
    token = run_robot(f.portal, CLIENT_ID, code, f"DEAL_{deal}", props)
    f.vs.run_events(drain=False)
    return _answer(f, token)


def test_robots_take_every_step_as_far_as_the_named_person_may(flow):
    f = flow
    deal = f.new_deal("Роботы")
    a = _robot(f, "b24app_send_to_calculation", deal, {"engineer": f"user_{ENGINEER}"})
    calc = int(a["return_values"]["calculation_id"])
    assert f.stage("calculation", calc) == "new" and f.deal_stage(deal) == "calculation"
    # the take robot names a person: a manager is no engineer; an engineer outside the addressee is refused
    a = _robot(f, "b24app_calc_take", deal, {"engineer": f"user_{MANAGER}"})
    assert a["return_values"] == {} and "роль" in a["log_message"]
    a = _robot(f, "b24app_calc_take", deal, {"engineer": f"user_{OUTSIDER}"})
    assert a["return_values"] == {} and "другому инженеру" in a["log_message"]
    assert f.stage("calculation", calc) == "new"
    a = _robot(f, "b24app_calc_take", deal, {"engineer": f"user_{ENGINEER}"})
    assert a["return_values"] == {"calculation_id": calc, "stage": "in_work"}
    assert f.item("calculation", calc)["assignedById"] == ENGINEER
    updates = len(f.log("crm.item.update"))
    a = _robot(f, "b24app_calc_take", deal, {"engineer": f"user_{ENGINEER}"})          # again: the same answer
    assert a["return_values"]["stage"] == "in_work" and len(f.log("crm.item.update")) == updates
    _ok(f.call("POST", f"/api/calc/{calc}/question", ENGINEER, {"text": "Цвет?"}))
    a = _robot(f, "b24app_calc_answer", deal, {"manager": f"user_{ENGINEER2}", "text": "Белый"})
    assert a["return_values"] == {} and "роль" in a["log_message"]
    a = _robot(f, "b24app_calc_answer", deal, {"manager": f"user_{MANAGER}", "text": "Белый"})
    assert a["return_values"]["stage"] == "in_work"
    assert "Ответ менеджера (Мария Менеджерова): Белый" in f.comments("deal", deal)
    for v in (V1, V2):
        _ok(f.call("POST", f"/api/calc/{calc}/variants", ENGINEER, _variant(f, v)))
    a = _robot(f, "b24app_calc_done", deal, {"engineer": f"user_{ENGINEER2}"})
    assert a["return_values"] == {} and f.stage("calculation", calc) == "in_work"          # not his calculation
    a = _robot(f, "b24app_calc_done", deal, {"engineer": f"user_{ENGINEER}"})
    assert a["return_values"]["stage"] == "done" and f.deal_stage(deal) == "calc_provided"
    a = _robot(f, "b24app_calc_choose", deal, {"manager": f"user_{MANAGER}", "variant": "С подоконниками"})
    assert a["return_values"] == {"calculation_id": calc, "total": 21750.0}
    assert f.deal(deal)["OPPORTUNITY"] == "21750.00" and f.deal_stage(deal) == "proposal_approval"
    a = _robot(f, "b24app_order_work", deal, {"engineer": f"user_{MANAGER}"})
    assert a["return_values"] == {} and "роль" in a["log_message"]
    a = _robot(f, "b24app_order_work", deal, {"engineer": f"user_{ENGINEER}", "contract": "Д-9"})
    work = int(a["return_values"]["work_id"])
    assert f.stage("work", work) == "new" and f.deal_stage(deal) == "work_ordered"
    a = _robot(f, "b24app_work_accept", deal, {"engineer": f"user_{ENGINEER2}"})
    assert a["return_values"] == {} and f.stage("work", work) == "new"
    a = _robot(f, "b24app_work_accept", deal, {"engineer": f"user_{ENGINEER}"})
    assert a["return_values"] == {"work_id": work, "stage": "accepted"}
    a = _robot(f, "b24app_work_finish", deal, {"engineer": f"user_{ENGINEER}", "report": "Готово"})
    assert a["return_values"] == {"work_id": work, "stage": "done"} and f.deal_stage(deal) == "work_done"
    assert len(_files(f, "deal", deal, "act-work-")) == 1
    a = _robot(f, "b24app_work_finish", deal, {"engineer": f"user_{ENGINEER}", "report": "Готово"})
    assert a["return_values"]["stage"] == "done" and len(_files(f, "deal", deal, "act-work-")) == 1


def test_a_forged_step_robot_call_is_refused(flow):
    f = flow
    deal = f.new_deal()
    calc = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal,
                                                             "target": {"kind": "user", "id": ENGINEER}}), 201)["id"]
    before = _robot_items(f)
    run_robot(f.portal, CLIENT_ID, "b24app_calc_take", f"DEAL_{deal}", {"engineer": f"user_{ENGINEER}"}, post=False)
    call = f.portal.db.robot_calls[-1]
    form = [(k, "forged" if k == "auth[application_token]" else v) for k, v in call.form]
    r = requests.post(call.handler, data=form, timeout=10)
    assert r.status_code in (401, 403)
    f.vs.run_events(drain=False)
    assert _robot_items(f) == before and f.stage("calculation", calc) == "new"


def _at_once(*calls) -> list:
    """The requests started together (a barrier), as two clicks of the same moment."""
    barrier, out = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i, fn):
        barrier.wait()
        out[i] = fn()
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_two_clicks_at_once_write_once(flow):
    f = flow
    deal = f.new_deal("Гонка")
    target = {"kind": "department", "id": f.dept}
    calc = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal, "target": target}), 201)["id"]
    f.vs.advance(hours=0.1)
    url = f"{f.vs.live.url}/api/calc/{calc}/take"
    hdr = {u: {page_sessions.HEADER: f.token(u)} for u in (ENGINEER, ENGINEER2)}
    updates, notes = len(f.log("crm.item.update")), len(f.notes())
    # two engineers of the group take the same request at the same moment: one wins, the other is told
    r1, r2 = _at_once(lambda: requests.post(url, headers=hdr[ENGINEER], timeout=60),
                      lambda: requests.post(url, headers=hdr[ENGINEER2], timeout=60))
    assert sorted([r1.status_code, r2.status_code]) == [200, 409]
    winner = ENGINEER if r1.status_code == 200 else ENGINEER2
    assert f.item("calculation", calc)["assignedById"] == winner
    assert len(f.log("crm.item.update")) == updates + 1 and len(f.notes()) == notes + 1
    # the winner's engineer adds two variants from two tabs at once: both kept (no write lost)
    f.vs.advance(hours=0.1)
    vurl = f"{f.vs.live.url}/api/calc/{calc}/variants"
    a, b = _at_once(lambda: requests.post(vurl, headers=hdr[winner], json=_variant(f, V1), timeout=60),
                    lambda: requests.post(vurl, headers=hdr[winner], json=_variant(f, V2), timeout=60))
    assert a.status_code == b.status_code == 200
    kept = _ok(f.call("GET", f"/api/calc/{calc}", MANAGER))["variants"]
    assert sorted(v["name"] for v in kept) == sorted(["Стандарт", "С подоконниками"]) and \
        sorted(v["id"] for v in kept) == ["v1", "v2"]
    _ok(f.call("POST", f"/api/calc/{calc}/done", winner))
    # the manager's double click on "choose": one set of product rows, one proposal
    f.vs.advance(hours=0.1)
    curl = f"{f.vs.live.url}/api/calc/{calc}/choose"
    mh = {page_sessions.HEADER: f.token(MANAGER)}
    c1, c2 = _at_once(lambda: requests.post(curl, headers=mh, json={"variant": "v2"}, timeout=60),
                      lambda: requests.post(curl, headers=mh, json={"variant": "v2"}, timeout=60))
    assert c1.status_code == c2.status_code == 200
    assert len(f.log("crm.item.productrow.set")) == 1
    assert len(_files(f, "deal", deal, "proposal-deal-")) == 1
    # ... and on "order work": one Work item
    f.vs.advance(hours=0.1)
    ourl = f"{f.vs.live.url}/api/work/order"
    o1, o2 = _at_once(lambda: requests.post(ourl, headers=mh, json={"deal_id": deal}, timeout=60),
                      lambda: requests.post(ourl, headers=mh, json={"deal_id": deal}, timeout=60))
    assert sorted([o1.status_code, o2.status_code]) == [200, 201] and o1.json()["id"] == o2.json()["id"]
    assert len(f.portal.db.table_for(f.ids.smart_process("work").entity_type_id).rows) == 1
