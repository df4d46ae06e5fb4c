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
          "TASK_CONTROL": "char", "ALLOW_TIME_TRACKING": "char", "TIME_ESTIMATE": "integer", "UF_CRM_TASK": "list",
          "ACCOMPLICES": "ilist",
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


# --- status moves and time tracking (docs api-reference/tasks/tasks-task-start.md, tasks-task-complete.md,
# elapsed-item/task-elapsed-item-add.md, task-elapsed-item-get-list.md) -------------------------------------
# Status numbers as the tasks module keeps them: 2 pending, 3 in progress, 4 supposedly completed, 5 completed,
# 6 deferred. start/complete are allowed to the task's creator, responsible person and accomplices (and portal
# administrators); anyone else gets the controller's refusal. Elapsed time: ARFIELDS {SECONDS | MINUTES,
# COMMENT_TEXT, USER_ID?, CREATED_DATE?}; the record's USER_ID defaults to the caller; the task's
# TIME_SPENT_IN_LOGS (timeSpentInLogs) is the sum of its records' seconds.
ACTION_NOT_ALLOWED = B24Fault("ERROR_CORE", "ACTION_NOT_ALLOWED", 400)


def _member(ctx, t: dict) -> bool:
    uid = int(ctx.user_id or 0)
    return ctx.is_admin or uid in (int(t.get("CREATED_BY") or 0), int(t.get("RESPONSIBLE_ID") or 0)) \
        or uid in [int(x) for x in t.get("ACCOMPLICES") or []]


def _set_status(ctx, t: dict, status: int) -> None:
    now = now_iso(ctx.portal)
    with ctx.portal.db.lock:
        t["STATUS"], t["CHANGED_DATE"], t["CHANGED_BY"] = status, now, ctx.user_id
        t["STATUS_CHANGED_DATE"], t["STATUS_CHANGED_BY"] = now, ctx.user_id
        if status == 3 and not t.get("DATE_START"):
            t["DATE_START"] = now
        if status == 5:
            t["CLOSED_DATE"], t["CLOSED_BY"] = now, ctx.user_id
    ctx.portal.emit("ONTASKUPDATE", {"FIELDS_BEFORE": {"ID": str(t["ID"])}, "FIELDS_AFTER": {"ID": str(t["ID"])},
                                     "IS_ACCESSIBLE_BEFORE": "undefined", "IS_ACCESSIBLE_AFTER": "undefined"},
                    ctx.user_id)


@method("tasks.task.start", scope="task")
def task_start(ctx, params):
    t = _task(ctx, params.get("taskId") or params.get("id"))
    if not _member(ctx, t) or int(t.get("STATUS") or 2) in (5, 6):
        raise ACTION_NOT_ALLOWED
    _set_status(ctx, t, 3)
    return {"task": task_out(t)}


@method("tasks.task.complete", scope="task")
def task_complete(ctx, params):
    t = _task(ctx, params.get("taskId") or params.get("id"))
    if not _member(ctx, t) or int(t.get("STATUS") or 2) == 5:
        raise ACTION_NOT_ALLOWED
    _set_status(ctx, t, 5)
    return {"task": task_out(t)}


def _positional(params: dict, *names: str) -> list:
    """task.elapseditem.* take their arguments in order (TASKID, ARFIELDS / ORDER, FILTER, …): by name in
    any case, or by position ("0", "1", … as a PHP list arrives)."""
    up = {str(k).upper(): v for k, v in params.items()}
    return [up.get(n, up.get(str(i))) for i, n in enumerate(names)]


def _elapsed_out(r: dict) -> dict:
    return {k: (None if r[k] is None else str(r[k])) for k in
            ("ID", "TASK_ID", "USER_ID", "COMMENT_TEXT", "SECONDS", "MINUTES", "SOURCE", "CREATED_DATE",
             "DATE_START", "DATE_STOP")}


@method("task.elapseditem.add", scope="task")
def elapsed_add(ctx, params):
    task_id, fields = _positional(params, "TASKID", "ARFIELDS")
    try:
        t = ctx.portal.db.tasks.get(int(task_id))
    except (TypeError, ValueError):
        raise B24Fault("ERROR_CORE", "Param #0 (taskId) for method ctaskelapseditem::add() expected to be of "
                                     "type \"integer\", but given something else.", 400) from None
    if t is None:
        raise NOT_FOUND
    if not _member(ctx, t):
        raise ACTION_NOT_ALLOWED
    f = {str(k).upper(): v for k, v in (fields or {}).items()} if isinstance(fields, dict) else {}
    if "SECONDS" in f and "MINUTES" in f:
        raise B24Fault("ERROR_CORE", "SECONDS and MINUTES cannot be given together", 400)
    try:
        seconds = int(f["SECONDS"]) if "SECONDS" in f else int(f["MINUTES"]) * 60
    except (KeyError, TypeError, ValueError):
        raise B24Fault("ERROR_CORE", "Param #1 (arFields) must hold SECONDS (integer)", 400) from None
    if seconds < 0:
        raise B24Fault("ERROR_CORE", "SECONDS must not be negative", 400)
    now = now_iso(ctx.portal)
    row = {"TASK_ID": int(t["ID"]), "USER_ID": int(f.get("USER_ID") or ctx.user_id), "SECONDS": seconds,
           "MINUTES": seconds // 60, "COMMENT_TEXT": str(f.get("COMMENT_TEXT") or ""), "SOURCE": 2,
           "CREATED_DATE": str(f.get("CREATED_DATE") or now), "DATE_START": now, "DATE_STOP": now}
    db = ctx.portal.db
    with db.lock:
        rid = db.task_elapsed.insert(row)
        t["TIME_SPENT_IN_LOGS"] = sum(int(r["SECONDS"]) for r in db.task_elapsed.rows.values()
                                      if r["TASK_ID"] == int(t["ID"]))
    return rid


@method("task.elapseditem.getlist", scope="task")
def elapsed_list(ctx, params):
    first = _positional(params, "TASKID")[0]
    task_id = None
    if first is not None and not isinstance(first, dict):
        try:
            task_id = int(first)
        except (TypeError, ValueError):
            raise B24Fault("ERROR_CORE", "Invalid method parameters provided", 400) from None
        t = ctx.portal.db.tasks.get(task_id)
        if t is None:
            raise NOT_FOUND
    db = ctx.portal.db
    with db.lock:
        rows = [r for r in db.task_elapsed.rows.values() if task_id is None or r["TASK_ID"] == task_id]
        rows = [r for r in rows if _member(ctx, db.tasks.get(r["TASK_ID"]) or {})]
        out = [_elapsed_out(r) for r in sorted(rows, key=lambda r: r["ID"])]
    return Paged(out[:50], total=len(out), next=50 if len(out) > 50 else None)
