"""users, calendar, tasks, im, timeline over HTTP, and the demo seed."""
from __future__ import annotations


from .methods_helpers import ok, rest


def test_users(portal, tok):
    me = ok(portal, "user.current", tok)["result"]
    assert me["ID"] == "1" and me["UF_DEPARTMENT"] == [1] and me["ACTIVE"] is True and "IS_ADMIN" not in me
    assert [u["ID"] for u in ok(portal, "user.get", tok, FILTER={"ID": 2})["result"]] == ["2"]
    b = ok(portal, "user.get", tok)
    assert b["total"] == 3 and len(b["result"]) == 3
    assert [u["ID"] for u in ok(portal, "user.get", tok, FILTER={"FIND": "менеджер"})["result"]] == ["2"]


def test_calendar(portal, tok, receiver):
    ok(portal, "event.bind", tok, event="ONCALENDARENTRYADD", handler=receiver.url + "/ev")
    sec = ok(portal, "calendar.section.get", tok, type="user", ownerId=4)["result"]
    assert sec[0]["CAL_TYPE"] == "user" and sec[0]["OWNER_ID"] == "4"
    eid = ok(portal, "calendar.event.add", tok, type="user", ownerId=4, section=sec[0]["ID"], name="Замер",
             **{"from": "2026-01-05T10:00:00", "to": "2026-01-05 11:30"})["result"]
    assert isinstance(eid, int)
    got = ok(portal, "calendar.event.get", tok, type="user", ownerId=4, **{"from": "2026-01-05", "to": "2026-01-05"})
    assert got["result"][0]["DATE_FROM"] == "05.01.2026 10:00:00" and got["result"][0]["NAME"] == "Замер"
    acc = ok(portal, "calendar.accessibility.get", tok, users=[4, 5], **{"from": "2026-01-05", "to": "2026-01-06"})
    assert [e["ID"] for e in acc["result"]["4"]] == [str(eid)] and acc["result"]["5"] == []
    assert rest(portal, "calendar.event.add", tok, type="user", ownerId=4, name="x",
                **{"from": "2026-01-05", "to": "2026-01-05"})[0] == 400         # no section / auto-detect
    ok(portal, "calendar.event.update", tok, id=eid, type="user", ownerId=4, name="Замер 2")
    assert ok(portal, "calendar.event.delete", tok, id=eid, type="user", ownerId=4)["result"] is True
    assert portal.wait_events(5)
    assert [r.form["data[id]"] for r in receiver.got if r.path == "/ev"] == [str(eid)]


def test_tasks_im_timeline(portal, tok):
    t = ok(portal, "tasks.task.add", tok, fields={"TITLE": "Выезд", "RESPONSIBLE_ID": 4,
                                                  "UF_CRM_TASK": ["D_1"]})["result"]["task"]
    assert t["title"] == "Выезд" and t["responsibleId"] == "4" and t["ufCrmTask"] == ["D_1"]
    assert ok(portal, "tasks.task.get", tok, taskId=t["id"])["result"]["task"]["id"] == t["id"]
    lst = ok(portal, "tasks.task.list", tok, filter={"RESPONSIBLE_ID": 4})
    assert [x["id"] for x in lst["result"]["tasks"]] == [t["id"]] and lst["total"] == 1
    assert rest(portal, "tasks.task.add", tok, fields={"TITLE": ""})[0] == 400
    nid = ok(portal, "im.notify.system.add", tok, USER_ID=2, MESSAGE="Новый выезд")["result"]
    assert portal.db.notifications.get(nid)["MESSAGE"] == "Новый выезд"
    assert rest(portal, "im.notify.personal.add", tok, USER_ID=4, MESSAGE="")[0] == 400
    did = ok(portal, "crm.deal.add", tok, fields={"TITLE": "d"})["result"]
    cid = ok(portal, "crm.timeline.comment.add", tok, fields={"ENTITY_ID": did, "ENTITY_TYPE": "deal",
                                                              "COMMENT": "Назначен Смирнов"})["result"]
    lst = ok(portal, "crm.timeline.comment.list", tok, filter={"ENTITY_ID": did, "ENTITY_TYPE": "deal"})["result"]
    assert [c["ID"] for c in lst] == [str(cid)]
    assert rest(portal, "crm.timeline.comment.add", tok, fields={"ENTITY_ID": 999, "ENTITY_TYPE": "deal",
                                                                 "COMMENT": "x"}) \
        == (400, {"error": "", "error_description": "Not found"})
    todo = ok(portal, "crm.activity.todo.add", tok, ownerTypeId=2, ownerId=did, deadline="2026-01-10T12:00:00",
              title="Позвонить")["result"]
    assert isinstance(todo["id"], int)


def test_demo_seed_shape(cloud):
    """The demo mirrors app.json (pipelines, stage codes, UF_CRM_B24APP_* fields), so the installer adopts it."""
    p = cloud.add_portal(seed="demo")
    db = p.db
    assert len(db.users) == 11 and len(db.companies) == 300 and len(db.deals) == 200
    names = {c["name"]: c["id"] for c in db.categories.rows.values() if c["entityTypeId"] == 2}
    assert names == {"Общая": 0, "Замеры": 1, "Производство": 2, "Монтаж": 3}
    assert db.stage("C1:JOB_STARTED", "DEAL_STAGE_1")["NAME"] == "Начат замер"
    deals = list(db.deals.rows.values())
    assert {d["CATEGORY_ID"] for d in deals} == {1, 2, 3}
    for d in deals:
        lat, lon = map(float, d["UF_CRM_B24APP_COORDINATES"].split(","))
        assert 55.57 <= lat <= 55.91 and 37.37 <= lon <= 37.85
    assigned = [d for d in deals if d["UF_CRM_B24APP_WORKER"]]
    assert 40 < len(assigned) < 150 and all(4 <= d["UF_CRM_B24APP_WORKER"] <= 11 for d in assigned)
    assert not any(d["UF_CRM_B24APP_WORKER"] for d in deals if d["STAGE_ID"].endswith(":NEW"))
    assert all(c["UF_CRM_B24APP_COORDINATES"] and c["ADDRESS"] for c in db.companies.rows.values())
