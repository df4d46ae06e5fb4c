"""The methods the field worker's phone uses: tasks.task.start / complete, task.elapseditem.add / getlist
(time tracking), imopenlines.crm.chat.getLastId / imopenlines.crm.message.add (the client's channel), and
the task card's TASK_VIEW_TAB frame (PLACEMENT_OPTIONS taskId + URI) — over HTTP, as documented."""
from __future__ import annotations

import json

import requests

from .methods_helpers import CID, SCOPES, install, ok, rest


def _worker_token(portal) -> str:
    return portal.issue_tokens(CID, 4).access.token


def test_start_complete_and_elapsed_time(portal, receiver):
    tok = install(portal.cloud, portal, receiver.url)
    t = ok(portal, "tasks.task.add", tok, fields={"TITLE": "Замер", "RESPONSIBLE_ID": 4, "CREATED_BY": 1})
    tid = int(t["result"]["task"]["id"])
    worker, other = _worker_token(portal), portal.issue_tokens(CID, 5).access.token
    assert rest(portal, "tasks.task.start", other, taskId=tid) == \
        (400, {"error": "ERROR_CORE", "error_description": "ACTION_NOT_ALLOWED"})      # not his task
    started = ok(portal, "tasks.task.start", worker, taskId=tid)["result"]["task"]
    assert started["status"] == "3" and started["dateStart"]
    assert rest(portal, "tasks.task.start", worker, taskId=999)[0] == 400
    # ARFIELDS by name, and by position as a PHP list arrives
    rid = ok(portal, "task.elapseditem.add", worker, TASKID=tid,
             ARFIELDS={"SECONDS": 2700, "COMMENT_TEXT": "на объекте"})["result"]
    rid2 = ok(portal, "task.elapseditem.add", worker, **{"0": tid, "1": {"MINUTES": 5, "COMMENT_TEXT": "x"}})["result"]
    assert isinstance(rid, int) and rid2 == rid + 1
    assert rest(portal, "task.elapseditem.add", worker, TASKID="abc", ARFIELDS={"SECONDS": 1})[0] == 400
    assert rest(portal, "task.elapseditem.add", worker, TASKID=tid, ARFIELDS={"COMMENT_TEXT": "x"})[0] == 400
    assert rest(portal, "task.elapseditem.add", worker, TASKID=tid,
                ARFIELDS={"SECONDS": 1, "MINUTES": 1, "COMMENT_TEXT": "x"})[0] == 400
    assert rest(portal, "task.elapseditem.add", other, TASKID=tid, ARFIELDS={"SECONDS": 1})[1]["error_description"] \
        == "ACTION_NOT_ALLOWED"
    got = ok(portal, "task.elapseditem.getlist", worker, TASKID=tid)
    assert [(r["ID"], r["USER_ID"], r["SECONDS"], r["MINUTES"]) for r in got["result"]] == \
        [(str(rid), "4", "2700", "45"), (str(rid2), "4", "300", "5")] and got["total"] == 2
    assert ok(portal, "tasks.task.get", worker, taskId=tid)["result"]["task"]["timeSpentInLogs"] == "3000"
    done = ok(portal, "tasks.task.complete", worker, taskId=tid)["result"]["task"]
    assert done["status"] == "5" and done["closedDate"]
    assert rest(portal, "tasks.task.complete", worker, taskId=tid)[0] == 400               # already completed
    assert rest(portal, "tasks.task.start", worker, taskId=tid)[0] == 400


def test_openline_chat_of_a_deal(portal, receiver):
    tok = install(portal.cloud, portal, receiver.url, scope=SCOPES + ["imopenlines"])
    with_chat = ok(portal, "crm.deal.add", tok, fields={"TITLE": "с чатом"})["result"]
    without = ok(portal, "crm.deal.add", tok, fields={"TITLE": "без чата"})["result"]
    chat_id = portal.db.openline_chats.insert({"CRM_ENTITY_TYPE": "deal", "CRM_ENTITY": with_chat, "MESSAGES": []})
    assert ok(portal, "imopenlines.crm.chat.getLastId", tok, CRM_ENTITY_TYPE="deal", CRM_ENTITY=with_chat)["result"] \
        == chat_id
    assert rest(portal, "imopenlines.crm.chat.getLastId", tok, CRM_ENTITY_TYPE="deal", CRM_ENTITY=without) == \
        (400, {"error": "CRM_CHAT_EMPTY_CRM_DATA", "error_description": "Could not find CRM object"})
    assert rest(portal, "imopenlines.crm.chat.getLastId", tok, CRM_ENTITY_TYPE="deal")[1]["error_description"] \
        == "Empty CRM data"
    mid = ok(portal, "imopenlines.crm.message.add", tok, CRM_ENTITY_TYPE="deal", CRM_ENTITY=with_chat, USER_ID=4,
             CHAT_ID=chat_id, MESSAGE="Мастер выехал")["result"]
    assert portal.db.openline_chats.get(chat_id)["MESSAGES"][0]["MESSAGE"] == "Мастер выехал" and mid == 1
    assert rest(portal, "imopenlines.crm.message.add", tok, CRM_ENTITY_TYPE="deal", CRM_ENTITY=without, USER_ID=4,
                CHAT_ID=chat_id, MESSAGE="x")[1]["error"] == "CHAT_NOT_IN_CRM"
    assert rest(portal, "imopenlines.crm.message.add", tok, CRM_ENTITY_TYPE="deal", CRM_ENTITY=with_chat, USER_ID=4,
                CHAT_ID=chat_id, MESSAGE=" ")[1]["error"] == "ERROR_ARGUMENT"


def test_task_card_frame_posts_task_id(portal, receiver):
    tok = install(portal.cloud, portal, receiver.url)
    t = ok(portal, "tasks.task.add", tok, fields={"TITLE": "Монтаж", "RESPONSIBLE_ID": 4})
    tid = int(t["result"]["task"]["id"])
    assert ok(portal, "placement.bind", tok, PLACEMENT="TASK_VIEW_TAB", HANDLER=receiver.url + "/tab",
              TITLE="Мой день")["result"] is True
    page = requests.get(f"{portal.url}/company/personal/user/4/tasks/task/view/{tid}/", params={"user": 4},
                        timeout=10)
    assert page.status_code == 200 and "Мой день" in page.text
    tab = next(p for p in portal.db.placements.values() if p["placement"] == "TASK_VIEW_TAB")
    page = requests.get(f"{portal.url}/company/personal/user/4/tasks/task/view/{tid}/",
                        params={"user": 4, "tab": tab["id"]}, timeout=10)
    assert page.status_code == 200
    frame = json.loads(page.text.split("var FRAME = ", 1)[1].split(";\n", 1)[0])
    assert frame["data"]["PLACEMENT"] == "TASK_VIEW_TAB" and frame["user"] == 4
    assert json.loads(frame["form"]["PLACEMENT_OPTIONS"]) == \
        {"taskId": str(tid), "URI": f"/company/personal/user/4/tasks/task/view/{tid}/"}
