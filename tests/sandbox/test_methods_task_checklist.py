"""A task's co-executors and observers (tasks.task.add ACCOMPLICES/AUDITORS) and its checklist
(task.checklistitem.*, docs api-reference/tasks/checklist-item/) over HTTP."""
from __future__ import annotations

from .methods_helpers import ok, rest


def test_task_with_co_executors_observers_and_checklist(portal, tok):
    t = ok(portal, "tasks.task.add", tok, fields={"TITLE": "Производство: прилавок", "RESPONSIBLE_ID": 3,
                                                  "ACCOMPLICES": [2, 4], "AUDITORS": [1],
                                                  "DEADLINE": "2026-03-02T18:00:00+03:00"})["result"]["task"]
    assert t["accomplices"] == ["2", "4"] and t["auditors"] == ["1"] and t["responsibleId"] == "3"
    tid = int(t["id"])
    a = ok(portal, "task.checklistitem.add", tok, TASKID=tid, FIELDS={"TITLE": "Раскрой"})["result"]
    b = ok(portal, "task.checklistitem.add", tok, TASKID=tid, FIELDS={"TITLE": "Сборка", "IS_COMPLETE": "Y"})["result"]
    assert isinstance(a, int) and b > a
    items = ok(portal, "task.checklistitem.getlist", tok, TASKID=tid)["result"]
    assert [(i["TITLE"], i["IS_COMPLETE"], i["TASK_ID"]) for i in items] == [("Раскрой", "N", str(tid)),
                                                                             ("Сборка", "Y", str(tid))]
    assert ok(portal, "task.checklistitem.complete", tok, TASKID=tid, ITEMID=a)["result"] is True
    assert ok(portal, "task.checklistitem.get", tok, TASKID=tid, ITEMID=a)["result"]["IS_COMPLETE"] == "Y"
    ok(portal, "task.checklistitem.renew", tok, TASKID=tid, ITEMID=a)
    ok(portal, "task.checklistitem.update", tok, TASKID=tid, ITEMID=a, FIELDS={"TITLE": "Раскрой ЛДСП"})
    got = ok(portal, "task.checklistitem.get", tok, TASKID=tid, ITEMID=a)["result"]
    assert got["TITLE"] == "Раскрой ЛДСП" and got["IS_COMPLETE"] == "N"
    assert ok(portal, "task.checklistitem.delete", tok, TASKID=tid, ITEMID=b)["result"] is True
    assert [i["ID"] for i in ok(portal, "task.checklistitem.getlist", tok, TASKID=tid)["result"]] == [str(a)]


def test_checklist_refusals(portal, tok):
    tid = int(ok(portal, "tasks.task.add", tok, fields={"TITLE": "x", "RESPONSIBLE_ID": 1})["result"]["task"]["id"])
    other = int(ok(portal, "tasks.task.add", tok, fields={"TITLE": "y", "RESPONSIBLE_ID": 1})["result"]["task"]["id"])
    assert rest(portal, "task.checklistitem.add", tok, TASKID=tid, FIELDS={"TITLE": ""})[0] == 400
    assert rest(portal, "task.checklistitem.add", tok, TASKID=9999, FIELDS={"TITLE": "z"})[0] == 400
    item = ok(portal, "task.checklistitem.add", tok, TASKID=tid, FIELDS={"TITLE": "z"})["result"]
    assert rest(portal, "task.checklistitem.get", tok, TASKID=other, ITEMID=item)[0] == 400   # another task's item
