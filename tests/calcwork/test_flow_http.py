"""The calculation → work flow end to end over HTTP against the installed demo sandbox portal, as a
manager and engineers click it: deal → calculation (to the field department) → question and answer →
two variants → done → a variant chosen (amount within / beyond the allowed range) → product rows on the
deal → work ordered → accepted → on site → finished with the act. At every step: the stage of the deal,
the Calculation and the Work, who got which notification, what the timelines say, and that a repeated
click writes nothing new. Permission cases and forged calls at the end."""
from __future__ import annotations

import base64

import requests

from b24sandbox.robots import find_call, run_robot
from tests.app.conftest import CLIENT_ID

from .conftest import ADMIN, ENGINEER, ENGINEER2, MANAGER, OUTSIDER


def _ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def _robot_items(f) -> dict:
    import sqlalchemy as sa

    from b24app.store.tables import inbox

    q = (sa.select(inbox.c.status, sa.func.count()).where(inbox.c.member_id == f.vs.member_id,
                                                          inbox.c.kind == "robot").group_by(inbox.c.status))
    with f.vs.services.store.engine.connect() as c:
        return {status: n for status, n in c.execute(q)}


def _files(f, entity_type: str, entity_id: int, prefix: str) -> list[dict]:
    return [x for c in f.portal.db.comments.rows.values()
            if c["ENTITY_TYPE"] == entity_type and int(c["ENTITY_ID"]) == int(entity_id)
            for x in c.get("FILES") or [] if x["name"].startswith(prefix)]


def _xlsx_text(content: bytes) -> list[str]:
    """Every cell of the workbook's first sheet, in order, as text (numbers as written)."""
    import io
    import zipfile
    from xml.etree import ElementTree

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= set(z.namelist())
        root = ElementTree.fromstring(z.read("xl/worksheets/sheet1.xml"))
    return ["".join(c.itertext()) for c in root.iter(f"{ns}c")]


def _tags(f, since: int) -> list[tuple[int, str]]:
    return [(u, t) for u, t, _ in f.notes()[since:]]


V1 = {"name": "Стандарт", "lines": [
    {"product": "glass", "quantity": 3, "group": "Окна"},
    {"product": "slope", "quantity": 2, "coefficient": "1.5", "group": "Отделка"},
    {"name": "Выезд замерщика", "fixed": True, "price": "1500", "cost": "700", "quantity": 1}]}
V2 = {"name": "С подоконниками", "lines": [
    {"product": "glass", "quantity": 3, "coefficient": "1.1"},
    {"product": "sill", "quantity": 3}]}


def _variant(f, v):
    lines = []
    for x in v["lines"]:
        x = dict(x)
        if "product" in x:
            x["product_id"] = f.products[x.pop("product")]
        lines.append(x)
    return {"name": v["name"], "lines": lines}


def test_deal_to_calculation_to_variants_to_work_and_act(flow):
    f = flow
    _ok(f.call("PUT", "/api/calc/settings", ADMIN, {"tolerance_pct": "10", "proposal_template_id": 39,
                                                     "coefficients": {str(f.sections["new"]): "1.2"}}))
    deal = f.new_deal()
    engineers = sorted(u["ID"] for u in f.portal.db.users.rows.values() if f.dept in u["UF_DEPARTMENT"])
    assert ENGINEER in engineers and ENGINEER2 in engineers and OUTSIDER not in engineers

    # 1. the manager sends the deal to the field department
    n0 = len(f.notes())
    res = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal, "comment": "3 окна, 5 этаж",
                                                            "target": {"kind": "department", "id": f.dept}}), 201)
    calc = res["id"]
    assert res["stage"] == "new" and res["created"] is True and res["manager_id"] == MANAGER
    assert f.deal_stage(deal) == "calculation" and f.stage("calculation", calc) == "new"
    assert f.item("calculation", calc)["parentId2"] == deal
    assert _tags(f, n0) == [(u, f"b24app:calc:{calc}:requested:{u}") for u in engineers]
    assert "Окна в новостройке" in f.notes()[n0][2] and f"/crm/deal/details/{deal}/" in f.notes()[n0][2]
    assert any(c.startswith("Отправлено на расчёт (отдел") and "3 окна, 5 этаж" in c
               for c in f.comments("deal", deal))
    adds, n1 = len(f.log("crm.item.add")), len(f.notes())
    again = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal}))
    assert again["id"] == calc and again["created"] is False
    assert len(f.log("crm.item.add")) == adds and len(f.notes()) == n1

    # 2. an engineer outside the department is refused; one of it takes the request
    r = f.call("POST", f"/api/calc/{calc}/take", OUTSIDER)
    assert r.status_code == 403 and r.json()["error"] == "NOT_IN_GROUP" and "другому инженеру" in r.json()[
        "error_description"]
    assert f.call("POST", f"/api/calc/{calc}/take", MANAGER).json()["error"] == "ROLE_REQUIRED"
    taken = _ok(f.call("POST", f"/api/calc/{calc}/take", ENGINEER))
    assert taken["stage"] == "in_work" and taken["engineer_id"] == ENGINEER
    item = f.item("calculation", calc)
    assert item["assignedById"] == ENGINEER and item[f.ids.smart_process("calculation").field("engineer")] == ENGINEER
    upd = [x for x in f.log("crm.item.update") if x.params.get("id") in (calc, str(calc))]
    assert upd[-1].user_id == ENGINEER                       # the engineer's own token, not the app's
    assert _tags(f, n1) == [(MANAGER, f"b24app:calc:{calc}:taken:{MANAGER}")]
    assert f.call("POST", f"/api/calc/{calc}/take", ENGINEER2).json()["error"] == "CALC_CONFLICT"
    n2, updates = len(f.notes()), len(f.log("crm.item.update"))
    _ok(f.call("POST", f"/api/calc/{calc}/take", ENGINEER))                    # a repeated click
    assert len(f.notes()) == n2 and len(f.log("crm.item.update")) == updates

    # 3. a question to the manager: the Calculation waits in "Information requested"
    q = _ok(f.call("POST", f"/api/calc/{calc}/question", ENGINEER, {"text": "Какой профиль: 70 или 58 мм?"}))
    assert q["stage"] == "info_requested" and q["pending_question"]["text"] == "Какой профиль: 70 или 58 мм?"
    assert f.deal_stage(deal) == "calculation"
    assert _tags(f, n2) == [(MANAGER, f"b24app:calc:{calc}:q1:{MANAGER}")]
    calc_entity = f"dynamic_{f.ids.smart_process('calculation').entity_type_id}"
    for where in (("deal", deal), (calc_entity, calc)):
        assert [c for c in f.comments(*where) if c.startswith("Вопрос инженера")] == \
            ["Вопрос инженера (Дмитрий Кузнецов): Какой профиль: 70 или 58 мм?"]
    _ok(f.call("POST", f"/api/calc/{calc}/question", ENGINEER, {"text": "Какой профиль: 70 или 58 мм?"}))
    assert len(f.comments("deal", deal)) == 3 and len(f.notes()) == n2 + 1     # nothing new
    r = f.call("POST", f"/api/calc/{calc}/question", ENGINEER, {"text": "И цвет?"})
    assert r.status_code == 409 and "без ответа" in r.json()["error_description"]
    assert f.call("POST", f"/api/calc/{calc}/done", ENGINEER).json()["error"] == "CALC_CONFLICT"
    assert f.call("POST", f"/api/calc/{calc}/answer", ENGINEER2, {"text": "x"},
                  token=f.token(ENGINEER2)).json()["error"] == "ROLE_REQUIRED"

    # ... and the manager's answer from the deal
    n3 = len(f.notes())
    a = _ok(f.call("POST", f"/api/calc/{calc}/answer", MANAGER, {"text": "70 мм, белый"}))
    assert a["stage"] == "in_work" and a["pending_question"] is None and a["questions"][0]["answer"] == "70 мм, белый"
    assert _tags(f, n3) == [(ENGINEER, f"b24app:calc:{calc}:a1:{ENGINEER}")]
    for where in (("deal", deal), (calc_entity, calc)):
        assert "Ответ менеджера (Мария Менеджерова): 70 мм, белый" in f.comments(*where)

    # 4. two variants from the catalog: default coefficient of the direction, own ones, a fixed line
    v1 = _ok(f.call("POST", f"/api/calc/{calc}/variants", ENGINEER, _variant(f, V1)))["variant"]
    assert [(x["name"], x["coefficient"], x["price"], x["amount"], x["cost"]) for x in v1["lines"]] == [
        ("Замена стеклопакета", "1.2", "5400.00", "16200.00", "13500.00"),
        ("Монтаж откоса", "1.5", "1800.75", "3601.50", "2401.00"),
        ("Выезд замерщика", None, "1500.00", "1500.00", "700.00")]
    assert (v1["total"], v1["cost"], v1["margin"], v1["margin_pct"]) == ("21301.50", "16601.00", "4700.50", "22.1")
    assert v1["groups"] == {"Окна": "16200.00", "Отделка": "3601.50", "": "1500.00"}
    v2 = _ok(f.call("POST", f"/api/calc/{calc}/variants", ENGINEER, _variant(f, V2)))["variant"]
    assert (v2["id"], v2["total"], v2["cost"], v2["margin"], v2["margin_pct"]) == \
        ("v2", "23130.00", "20400.00", "2730.00", "11.8")
    again = _ok(f.call("POST", f"/api/calc/{calc}/variants", ENGINEER, _variant(f, V2)))    # a retried click
    assert again["variant"]["id"] == "v2" and len(again["variants"]) == 2
    bad = f.call("POST", f"/api/calc/{calc}/variants", ENGINEER, {"name": "x", "lines": [{"product_id": 99999}]})
    assert bad.status_code == 400 and "99999" in bad.json()["error_description"]
    assert f.call("POST", f"/api/calc/{calc}/variants", ENGINEER2, _variant(f, V1)).json()["error"] == "NOT_IN_GROUP"

    # 5. calculation done: the deal to "Calculation provided", the manager told the range
    n4 = len(f.notes())
    d = _ok(f.call("POST", f"/api/calc/{calc}/done", ENGINEER))
    assert d["stage"] == "done" and f.stage("calculation", calc) == "done"
    assert f.item("calculation", calc)[f.ids.smart_process("calculation").field("amount")] == 21301.5
    assert f.deal_stage(deal) == "calc_provided"
    assert _tags(f, n4) == [(MANAGER, f"b24app:calc:{calc}:done:{MANAGER}")]
    assert "вариантов 2, от 21301.50 до 23130.00" in f.notes()[-1][2]
    _ok(f.call("POST", f"/api/calc/{calc}/done", ENGINEER))
    assert len(f.notes()) == n4 + 1

    # the deal tab shows both variants side by side
    tab = _ok(f.call("GET", f"/api/calc/deal/{deal}", MANAGER))
    assert [v["name"] for v in tab["calculations"][0]["variants"]] == ["Стандарт", "С подоконниками"]

    # 6. the manager picks variant 2; an amount beyond ±10 % needs the head
    r = f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {"variant": "v2", "amounts": {"2": "9500"}})
    assert r.status_code == 409 and r.json()["error"] == "APPROVAL_REQUIRED"
    assert "7452.00–9108.00 (±10 %)" in r.json()["error_description"]
    en = f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {"variant": "v2", "amounts": {"2": "9500"}}, lang="en",
                token=f.token(MANAGER, "en"))
    assert en.status_code == 409 and "outside the allowed range" in en.json()["error_description"]
    assert f.log("crm.item.productrow.set") == [] and f.deal_stage(deal) == "calc_provided"
    # ... so he asks the head: an approval request, nothing applied until the head decides
    n_ap = len(f.notes())
    body = {"variant": "v2", "amounts": {"2": "9600"}, "request_approval": True, "reason": "Клиент просит скидку"}
    ap = _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, body), 202)
    assert ap["approval"]["status"] == "pending" and ap["pending_approval"]["n"] == 1
    assert ap["approval"]["beyond"] == [{"n": 2, "name": "Подоконник ПВХ", "amount": "9600.00", "low": "7452.00",
                                         "high": "9108.00"}] and ap["approval"]["total"] == "24450.00"
    assert _tags(f, n_ap) == [(ADMIN, f"b24app:calc:{calc}:ap1:{ADMIN}")]          # the app's administrator
    assert "Мария Менеджерова просит согласовать" in f.notes()[-1][2] and f"/crm/deal/details/{deal}/" in \
        f.notes()[-1][2]
    assert any(c.startswith("Мария Менеджерова запросил согласование варианта «С подоконниками»") and
               "Клиент просит скидку" in c for c in f.comments("deal", deal))
    assert f.log("crm.item.productrow.set") == [] and f.deal_stage(deal) == "calc_provided" and \
        f.deal(deal)["OPPORTUNITY"] in ("0.00", "0", 0)
    _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, body), 202)              # a repeated click: the same
    assert len(f.notes()) == n_ap + 1
    r = f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {**body, "amounts": {"2": "9400"}})
    assert r.status_code == 409 and "Уже есть запрос на согласование" in r.json()["error_description"]
    # only a head decides: the manager cannot approve his own request, an engineer cannot at all
    r = f.call("POST", f"/api/calc/{calc}/approvals/1/approve", MANAGER)
    assert r.status_code == 403 and r.json()["error"] == "NOT_IN_GROUP" and "руководитель" in r.json()[
        "error_description"]
    r = f.call("POST", f"/api/calc/{calc}/approvals/1/approve", MANAGER, lang="en", token=f.token(MANAGER, "en"))
    assert r.status_code == 403 and "service head" in r.json()["error_description"]
    assert f.call("POST", f"/api/calc/{calc}/approvals/1/approve", ENGINEER).json()["error"] == "ROLE_REQUIRED"
    assert f.log("crm.item.productrow.set") == []
    n_dec = len(f.notes())
    dec = _ok(f.call("POST", f"/api/calc/{calc}/approvals/1/approve", ADMIN, {"comment": "Согласовано"}))
    assert dec["approval"]["status"] == "approved" and dec["chosen"]["approved_by"] == ADMIN
    assert dec["chosen"]["by"] == MANAGER and dec["chosen"]["total"] == "24450.00"
    assert f.deal(deal)["OPPORTUNITY"] == "24450.00" and f.deal_stage(deal) == "proposal_approval"
    assert f.log("crm.item.productrow.set")[-1].user_id == ADMIN                   # the head's own token
    assert (MANAGER, f"b24app:calc:{calc}:ap1:d:{MANAGER}") in _tags(f, n_dec)
    assert any("Согласовано" in m and "согласовал" in m for u, _, m in f.notes()[n_dec:] if u == MANAGER)
    _ok(f.call("POST", f"/api/calc/{calc}/approvals/1/approve", ADMIN))               # again: nothing new
    assert f.call("POST", f"/api/calc/{calc}/approvals/1/decline", ADMIN).json()["error"] == "CALC_CONFLICT"
    assert f.call("POST", f"/api/calc/{calc}/approvals/7/approve", ADMIN).status_code == 404
    # within the range the manager decides alone (the amounts change again: a new choice)
    ch = _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {"variant": "v2", "amounts": {"2": "9000"}}))
    assert ch["chosen"]["variant"] == "v2" and ch["chosen"]["total"] == "23850.00"
    rows = f.client.call("crm.item.productrow.list", {"filter": {"=ownerType": "D", "=ownerId": deal}})["productRows"]
    assert [(r["productId"], r["productName"], r["price"], r["quantity"]) for r in rows] == [
        (f.products["glass"], "Замена стеклопакета", 4950.0, 3.0), (f.products["sill"], "Подоконник ПВХ", 3000.0, 3.0)]
    assert f.deal(deal)["OPPORTUNITY"] == "23850.00" and f.deal_stage(deal) == "proposal_approval"
    assert f.log("crm.item.productrow.set")[-1].user_id == MANAGER
    # the commercial proposal, rendered as XLSX: a template is set, but this portal has no document generator
    gen = [x for x in f.portal.log if x.method.startswith("crm.documentgenerator.")]
    assert gen and {x.method for x in gen} == {"crm.documentgenerator.template.list"} and \
        all(x.status == 400 for x in gen)
    prop = _files(f, "deal", deal, "proposal-deal-")[-1]
    cells = _xlsx_text(prop["content"])
    assert "Коммерческое предложение" in cells and "С подоконниками" in cells
    assert ["Подоконник ПВХ", "3", "3000.00", "9000.00"] == cells[cells.index("Подоконник ПВХ"):][:4]
    assert cells[cells.index("Итого") + 1] == "23850.00"
    sets = len(f.log("crm.item.productrow.set"))
    _ok(f.call("POST", f"/api/calc/{calc}/choose", MANAGER, {"variant": "v2", "amounts": {"2": "9000.00"}}))
    assert len(f.log("crm.item.productrow.set")) == sets

    # 7. work ordered from the chosen variant's services
    n5 = len(f.notes())
    w = _ok(f.call("POST", "/api/work/order", MANAGER, {"deal_id": deal, "lines": [1, 2], "contract": "Д-15/2026"}),
            201)
    work = w["id"]
    wi = f.item("work", work)
    assert wi["parentId2"] == deal and wi["assignedById"] == ENGINEER and f.stage("work", work) == "new"
    assert [x["name"] for x in w["lines"]] == ["Замена стеклопакета", "Подоконник ПВХ"]
    assert f.deal_stage(deal) == "work_ordered"
    assert _tags(f, n5) == [(ENGINEER, f"b24app:work:{work}:ordered:{ENGINEER}")]
    assert any("Заказаны работы: Замена стеклопакета × 3, Подоконник ПВХ × 3. Договор: Д-15/2026." == c
               for c in f.comments("deal", deal))
    w2 = _ok(f.call("POST", "/api/work/order", MANAGER, {"deal_id": deal, "lines": [1, 2]}))
    assert w2["id"] == work and w2["created"] is False
    assert len(f.portal.db.table_for(f.ids.smart_process("work").entity_type_id).rows) == 1

    # 8. accept → on site → finish with the act; the manager told at each step
    assert f.call("POST", f"/api/work/{work}/accept", ENGINEER2).json()["error"] == "NOT_IN_GROUP"
    n6 = len(f.notes())
    assert _ok(f.call("POST", f"/api/work/{work}/accept", ENGINEER))["stage"] == "accepted"
    _ok(f.call("POST", f"/api/work/{work}/accept", ENGINEER))
    r = f.call("POST", f"/api/work/{work}/accept", ENGINEER2)
    assert r.status_code == 403 and f.stage("work", work) == "accepted"
    assert _ok(f.call("POST", f"/api/work/{work}/on-site", ENGINEER))["stage"] == "on_site"
    r = f.call("POST", f"/api/work/{work}/finish", ENGINEER, {"report": ""})
    assert r.status_code == 400 and f.stage("work", work) == "on_site"
    act = base64.b64encode("Акт выполненных работ № 15".encode()).decode()
    fin = _ok(f.call("POST", f"/api/work/{work}/finish", ENGINEER,
                     {"report": "Установлено 3 окна", "files": [{"name": "act-15.txt", "content": act}]}))
    assert fin["stage"] == "done" and f.stage("work", work) == "done" and f.deal_stage(deal) == "work_done"
    assert _tags(f, n6) == [(MANAGER, f"b24app:work:{work}:{s}:{MANAGER}") for s in ("accepted", "on_site", "done")]
    work_entity = f"dynamic_{f.ids.smart_process('work').entity_type_id}"
    done_line = [c for c in f.portal.db.comments.rows.values()
                 if c["ENTITY_TYPE"] == work_entity and "Установлено 3 окна" in c["COMMENT"]]
    assert [[x["name"] for x in c["FILES"]] for c in done_line] == [["act-15.txt"]]
    assert done_line[0]["FILES"][0]["content"] == "Акт выполненных работ № 15".encode()
    for where in (("deal", deal), (work_entity, work)):                     # the act, on both timelines
        (act_file,) = _files(f, *where, "act-work-")
        cells = _xlsx_text(act_file["content"])
        assert cells[:1] == ["Акт выполненных работ"] and "Д-15/2026" in cells and "Установлено 3 окна" in cells
        assert "Дмитрий Кузнецов" in cells and cells[cells.index("Итого") + 1] == "23850.00"
    assert fin["act"] == f"act-work-{work}.xlsx"
    n7 = len(f.notes())
    _ok(f.call("POST", f"/api/work/{work}/finish", ENGINEER, {"report": "Установлено 3 окна"}))
    assert len(f.notes()) == n7

    # SLA times are recorded for the rules engine (issue 15)
    tab = _ok(f.call("GET", f"/api/calc/{calc}", MANAGER))
    assert set(tab["times"]) >= {"requested", "taken", "done"}


def test_forged_calls_are_refused(flow):
    f = flow
    deal = f.new_deal()
    for token, code in (("", "NO_SESSION"), ("x" * 40, "BAD_SESSION")):
        r = f.call("POST", "/api/calc/request", body={"deal_id": deal}, token=token)
        assert r.status_code == 401 and r.json()["error"] == code
    assert f.log("crm.item.add") == []
    # a robot call with a forged application token: refused, nothing queued or created
    run_robot(f.portal, CLIENT_ID, "b24app_send_to_calculation", f"DEAL_{deal}", {"engineer": f"user_{ENGINEER}"},
              post=False)
    call = f.portal.db.robot_calls[-1]
    form = [(k, "forged" if k == "auth[application_token]" else v) for k, v in call.form]
    r = requests.post(call.handler, data=form, timeout=10)
    assert r.status_code in (401, 403)
    assert _robot_items(f) == {}
    f.vs.run_events(drain=False)
    assert f.log("crm.item.add") == [] and f.log("im.notify.system.add") == []
    # the genuine robot call: a Calculation for the engineer, the deal moved, the engineer notified
    token = run_robot(f.portal, CLIENT_ID, "b24app_send_to_calculation", f"DEAL_{deal}",
                      {"engineer": f"user_{ENGINEER}", "comment": "по роботу"})
    f.vs.run_events(drain=False)
    assert _robot_items(f) == {"done": 1} and find_call(f.portal, token) is not None
    (calc,) = f.portal.db.table_for(f.ids.smart_process("calculation").entity_type_id).rows.values()
    assert f.item("calculation", calc["ID"])["parentId2"] == deal and f.deal_stage(deal) == "calculation"
    sent = [e for e in f.portal.db.bizproc_events if e.get("event_token") == token]
    assert sent and sent[-1]["return_values"]["calculation_id"] == calc["ID"]
    assert [(u, t) for u, t, _ in f.notes()] == [(ENGINEER, f"b24app:calc:{calc['ID']}:requested:{ENGINEER}")]


def test_manager_of_another_deal_and_a_foreign_portal(flow, cloud):
    f = flow
    deal = f.new_deal()
    calc = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal, "target": {"kind": "queue"}}), 201)["id"]
    _ok(f.call("POST", f"/api/calc/{calc}/take", OUTSIDER))           # the shared queue: any engineer
    _ok(f.call("POST", f"/api/calc/{calc}/question", OUTSIDER, {"text": "Этаж?"}))
    other_manager = f.token(4, roles=("sales_manager",))
    r = f.call("POST", f"/api/calc/{calc}/answer", body={"text": "5"}, token=other_manager)
    assert r.status_code == 403 and r.json()["error"] == "NOT_IN_GROUP"
    # a user named as the engineer must hold the role
    r = f.call("POST", "/api/calc/request", MANAGER, {"deal_id": f.new_deal("x"), "target": {"kind": "user", "id": 2}})
    assert r.status_code == 400 and "не инженер" in r.json()["error_description"]
    # a calculation id of this portal asked from another portal's session: not found there
    from b24app import session as page_sessions
    from tests import pagesession

    other = cloud.add_portal(seed="empty")
    f.vs.live.install(other)
    tok = pagesession.for_live(f.vs.live, page_sessions.PageSession(other.member_id, 1, "en", "DEFAULT",
                                                                    roles=("admin",)))
    r = f.call("POST", f"/api/calc/{calc}/take", token=tok)
    assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"


def test_engineers_board_mine_group_unassigned(flow):
    f = flow
    made = {}
    for key, target in (("dept", {"kind": "department", "id": f.dept}), ("queue", {"kind": "queue"}),
                        ("other", {"kind": "user", "id": OUTSIDER})):
        made[key] = _ok(f.call("POST", "/api/calc/request", MANAGER,
                               {"deal_id": f.new_deal(f"Сделка {key}"), "target": target}), 201)["id"]
    _ok(f.call("POST", f"/api/calc/{made['dept']}/take", ENGINEER))

    def board(user, scope):
        cols = _ok(f.call("GET", f"/api/calc/board?scope={scope}", user))["columns"]
        assert [c["stage"] for c in cols] == ["new", "in_work", "info_requested"]
        return {c["stage"]: [x["id"] for x in c["cards"]] for c in cols if c["cards"]}

    assert board(ENGINEER, "mine") == {"in_work": [made["dept"]]}
    assert board(ENGINEER, "group") == {"new": [made["queue"]]}
    assert board(OUTSIDER, "group") == {"new": [made["queue"], made["other"]]}
    assert board(ENGINEER, "unassigned") == {"new": [made["queue"]]}
    assert board(ADMIN, "all") == {"new": [made["queue"], made["other"]], "in_work": [made["dept"]]}
    card = _ok(f.call("GET", "/api/calc/board?scope=group", OUTSIDER))["columns"][0]["cards"][0]
    assert card["title"].startswith("Сделка queue") and card["waiting_hours"] >= 0 and card["target"] == {
        "kind": "queue"}
    assert f.call("GET", "/api/calc/board?scope=everything", ENGINEER).status_code == 400


def test_handover_to_another_engineer_with_a_reason(flow):
    f = flow
    deal = f.new_deal("Фасад")
    target = {"kind": "department", "id": f.dept}
    calc = _ok(f.call("POST", "/api/calc/request", MANAGER, {"deal_id": deal, "target": target}), 201)["id"]
    _ok(f.call("POST", f"/api/calc/{calc}/take", ENGINEER))
    body = {"target": {"kind": "user", "id": OUTSIDER}, "reason": "Фасады считает Олег"}
    assert f.call("POST", f"/api/calc/{calc}/handover", ENGINEER2, body).json()["error"] == "NOT_IN_GROUP"
    n = len(f.notes())
    h = _ok(f.call("POST", f"/api/calc/{calc}/handover", ENGINEER, body))
    assert h["stage"] == "new" and h["engineer_id"] is None and h["target"] == {"kind": "user", "id": OUTSIDER}
    assert f.item("calculation", calc)["assignedById"] == OUTSIDER
    assert _tags(f, n) == [(OUTSIDER, f"b24app:calc:{calc}:h1:{OUTSIDER}")]
    assert "Дмитрий Кузнецов передал расчёт: инженер Олег Сотрудников. Причина: Фасады считает Олег" in \
        f.comments("deal", deal)
    _ok(f.call("POST", f"/api/calc/{calc}/handover", ENGINEER, body))                # the same again: nothing
    assert len(f.notes()) == n + 1
    assert f.call("POST", f"/api/calc/{calc}/take", ENGINEER).json()["error"] == "NOT_IN_GROUP"
    assert _ok(f.call("POST", f"/api/calc/{calc}/take", OUTSIDER))["engineer_id"] == OUTSIDER
    r = f.call("POST", f"/api/calc/{calc}/handover", OUTSIDER, {"target": {"kind": "user", "id": MANAGER},
                                                                 "reason": "x"})
    assert r.status_code == 400 and "не инженер" in r.json()["error_description"]
