"""tasks.task.add / get / list / update / delete (reference §6; docs api-reference/tasks/tasks-task-*.md).

Answers are wrapped (``{"task": {...}}``, ``{"tasks": [...]}``) with camelCase keys and string values
(``"id": "3711"``), as the v1 tasks controller renders them; input fields are UPPER_CASE
(``TITLE``, ``RESPONSIBLE_ID``, ``UF_CRM_TASK: ["D_10", "CO_5"]``). Events ONTASKADD/UPDATE/DELETE carry
``FIELDS_AFTER``/``FIELDS_BEFORE`` with the id.
"""
from __future__ import annotations

from ..crmcore import now_iso
from ..crmschema import coerce, snake_to_camel
from ..filters import compile_filter, page_of, parse_order, select_rows, upper_field
from ..registry import B24Fault, Paged, method

FIELDS = {"TITLE": "string", "DESCRIPTION": "string", "RESPONSIBLE_ID": "integer", "CREATED_BY": "integer",
          "DEADLINE": "datetime", "START_DATE_PLAN": "datetime", "END_DATE_PLAN": "datetime", "PRIORITY": "integer",
          "STATUS": "integer", "GROUP_ID": "integer", "PARENT_ID": "integer", "ALLOW_CHANGE_DEADLINE": "char",
          "TASK_CONTROL": "char", "TIME_ESTIMATE": "integer", "UF_CRM_TASK": "list", "ACCOMPLICES": "ilist",
          "AUDITORS": "ilist", "TAGS": "list"}
NOT_FOUND = B24Fault("ERROR_CORE", "Задача не найдена или доступ к ней запрещён", 400)


def _coerce(fields: dict) -> dict:
    out = {}
    for k, v in (fields or {}).items():
        k = str(k).upper()
        t = FIELDS.get(k)
        if t is None:
            continue
        if t in ("list", "ilist"):
            vals = list(v.values()) if isinstance(v, dict) else v if isinstance(v, list) else [v] if v else []
            out[k] = [int(x) for x in vals] if t == "ilist" else [str(x) for x in vals]
        else:
            out[k] = coerce(t, v)
    return out


def task_out(t: dict, select=None) -> dict:
    out = {}
    for k, v in t.items():
        name = "ufCrmTask" if k == "UF_CRM_TASK" else snake_to_camel(k)
        if isinstance(v, list):
            out[name] = [str(x) for x in v]
        elif v is None:
            out[name] = None
        else:
            out[name] = str(v)
    if select and "*" not in select:
        keep = {"id"} | {"ufCrmTask" if str(s).upper() == "UF_CRM_TASK" else snake_to_camel(str(s).upper())
                         for s in select}
        out = {k: v for k, v in out.items() if k in keep}
    return out


def _task(ctx, raw) -> dict:
    t = ctx.portal.db.tasks.get(raw)
    if t is None:
        raise NOT_FOUND
    return t


@method("tasks.task.add", scope="task")
def task_add(ctx, params):
    f = _coerce(params.get("fields") or {})
    if not str(f.get("TITLE") or "").strip():
        raise B24Fault("ERROR_CORE", "Не указано название задачи", 400)
    if not f.get("RESPONSIBLE_ID"):
        raise B24Fault("ERROR_CORE", "Не указан ответственный", 400)
    now = now_iso(ctx.portal)
    row = {"TITLE": "", "DESCRIPTION": "", "RESPONSIBLE_ID": None, "CREATED_BY": ctx.user_id, "CREATED_DATE": now,
           "CHANGED_DATE": now, "CHANGED_BY": ctx.user_id, "STATUS": 2, "PRIORITY": 1, "GROUP_ID": 0,
           "DEADLINE": None, "START_DATE_PLAN": None, "END_DATE_PLAN": None, "CLOSED_DATE": None,
           "UF_CRM_TASK": [], "ACCOMPLICES": [], "AUDITORS": [], "TAGS": []}
    row.update(f)
    db = ctx.portal.db
    with db.lock:
        tid = db.tasks.insert(row)
    ctx.portal.emit("ONTASKADD", {"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": {"ID": str(tid)},
                                  "IS_ACCESSIBLE_BEFORE": "N", "IS_ACCESSIBLE_AFTER": "undefined"}, ctx.user_id)
    return {"task": task_out(row)}


@method("tasks.task.get", scope="task")
def task_get(ctx, params):
    return {"task": task_out(_task(ctx, params.get("taskId") or params.get("id")), params.get("select"))}


@method("tasks.task.update", scope="task")
def task_update(ctx, params):
    t = _task(ctx, params.get("taskId") or params.get("id"))
    f = _coerce(params.get("fields") or {})
    with ctx.portal.db.lock:
        t.update(f)
        t["CHANGED_DATE"], t["CHANGED_BY"] = now_iso(ctx.portal), ctx.user_id
        if f.get("STATUS") == 5:
            t["CLOSED_DATE"] = t["CHANGED_DATE"]
    ctx.portal.emit("ONTASKUPDATE", {"FIELDS_BEFORE": {"ID": str(t["ID"])}, "FIELDS_AFTER": {"ID": str(t["ID"])},
                                     "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "undefined"},
                    ctx.user_id)
    return {"task": task_out(t)}


@method("tasks.task.delete", scope="task")
def task_delete(ctx, params):
    t = _task(ctx, params.get("taskId") or params.get("id"))
    with ctx.portal.db.lock:
        ctx.portal.db.tasks.delete(t["ID"])
    ctx.portal.emit("ONTASKDELETE", {"FIELDS_BEFORE": {"ID": str(t["ID"])}, "FIELDS_AFTER": "undefined",
                                     "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "undefined"},
                    ctx.user_id)
    return {"task": True}


@method("tasks.task.list", scope="task")
def task_list(ctx, params):
    getter = upper_field
    pred = compile_filter(params.get("filter"), getter)
    order = parse_order(params.get("order") or {}, getter)
    offset, count = page_of(params.get("start"))
    db = ctx.portal.db
    with db.lock:
        rows, total = select_rows(db.tasks.rows.values(), pred, order, offset, 50, count)
        out = [task_out(t, params.get("select")) for t in rows]
    if not count:
        return Paged({"tasks": out})
    return Paged({"tasks": out}, next=offset + len(out) if offset + len(out) < total else None, total=total)
