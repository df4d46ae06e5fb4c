"""crm.type.* (smart processes), crm.category.* (pipelines) and crm.status.* (stage and reference lists).

Reference §5.1–5.3; docs api-reference/crm/universal/user-defined-object-types/crm-type-*.md,
api-reference/crm/universal/category/*.md, api-reference/crm/status/*.md. Points that clients trip on:
a type's ``id`` (row id, used in UF entity ids ``CRM_<id>``) differs from its ``entityTypeId`` (even ids
from 1032 on a current portal, 128…191 first on an old one: crmdefaults.next_entity_type_id); a new type
gets a default pipeline with stages ``DT<etid>_<cat>:NEW…FAIL``;
deal pipelines other than 0 have ``C<N>:`` stage ids and the ``DEAL_STAGE_<N>`` status list; crm.status.*
is a legacy method set (strings, empty error codes).
"""
from __future__ import annotations

from .. import crmdefaults as cd
from ..crmcore import now_iso
from ..db import DEAL, Table
from ..filters import compile_filter, field_of, parse_order, select_rows, upper_field
from ..registry import B24Fault, method
from .crm_legacy import arg

FLAGS = ["isCategoriesEnabled", "isStagesEnabled", "isBeginCloseDatesEnabled", "isClientEnabled",
         "isUseInUserfieldEnabled", "isLinkWithProductsEnabled", "isMycompanyEnabled", "isDocumentsEnabled",
         "isSourceEnabled", "isObserversEnabled", "isRecyclebinEnabled", "isAutomationEnabled",
         "isBizProcEnabled", "isSetOpenPermissions", "isPaymentsEnabled", "isCountersEnabled"]
FLAG_DEFAULTS = {"isStagesEnabled": "Y", "isSetOpenPermissions": "Y", "isClientEnabled": "Y",
                 "isBeginCloseDatesEnabled": "Y"}


def _yn(v) -> str:
    return "Y" if str(v).upper() in ("Y", "1", "TRUE") else "N"


def _relations(raw) -> dict:
    out = {"parent": [], "child": []}
    for side in ("parent", "child"):
        items = (raw or {}).get(side) or []
        for r in (items.values() if isinstance(items, dict) else items):
            out[side].append({"entityTypeId": int(r.get("entityTypeId")),
                              "isChildrenListEnabled": _yn(r.get("isChildrenListEnabled", "N")),
                              "isPredefined": "N"})
    return out


def create_type(db, fields: dict, user_id: int, now: str) -> dict:
    """A smart process with its items table and default pipeline (crm.type.add and the demo seed)."""
    if not str(fields.get("title") or "").strip():
        raise B24Fault("INVALID_ARG_VALUE", "Field 'title' is required", 400)
    with db.lock:
        etid = fields.get("entityTypeId")
        if etid in (None, "", 0, "0"):
            etid = cd.next_entity_type_id(db)
        etid = int(etid)
        if not cd.valid_dynamic_id(etid):
            raise B24Fault("INVALID_ARG_VALUE", "entityTypeId is out of allowed range", 400)
        if db.type_by_entity_type_id(etid):
            raise B24Fault("INVALID_ARG_VALUE", "entityTypeId is already occupied", 400)
        row = {"title": str(fields["title"]), "code": str(fields.get("code") or ""), "createdBy": user_id,
               "entityTypeId": etid, "customSectionId": None, "customSections": [],
               "createdTime": now, "updatedTime": now, "updatedBy": user_id,
               "relations": _relations(fields.get("relations")),
               "linkedUserFields": {k: _yn(v) for k, v in (fields.get("linkedUserFields") or {}).items()}}
        for f in FLAGS:
            row[f] = _yn(fields.get(f, FLAG_DEFAULTS.get(f, "N")))
        tid = db.types.insert(row)
        row["id"] = tid
        db.items[etid] = Table(f"crm_dynamic_items_{etid}")
        cd.add_category(db, etid, "Воронка по умолчанию", sort=500, is_default=True)
    return row


def type_out(t: dict) -> dict:
    return {k: v for k, v in t.items() if k != "ID"}


def _type_by_id(db, raw) -> dict:
    t = db.types.get(raw)
    if t is None:
        raise B24Fault("NOT_FOUND", "Smart process not found", 400)
    return t


@method("crm.type.add", scope="crm")
def type_add(ctx, params):
    fields = params.get("fields") or {}
    t = create_type(ctx.portal.db, fields, ctx.user_id, now_iso(ctx.portal))
    ctx.portal.emit("ONCRMTYPEADD", {"FIELDS": {"ID": str(t["id"])}}, ctx.user_id)
    return {"type": type_out(t)}


@method("crm.type.get", scope="crm")
def type_get(ctx, params):
    return {"type": type_out(_type_by_id(ctx.portal.db, params.get("id")))}


@method("crm.type.getByEntityTypeId", scope="crm")
def type_get_by_etid(ctx, params):
    t = ctx.portal.db.type_by_entity_type_id(params.get("entityTypeId"))
    if t is None:
        raise B24Fault("NOT_FOUND", "Smart process not found", 400)
    return {"type": type_out(t)}


@method("crm.type.list", scope="crm")
def type_list(ctx, params):
    from ..filters import page_of
    from ..registry import Paged

    db = ctx.portal.db
    getter = field_of
    pred = compile_filter(params.get("filter"), getter)
    order = parse_order(params.get("order") or {}, getter)
    offset, count = page_of(params.get("start"))
    rows, total = select_rows(db.types.rows.values(), pred, order, offset, 50, True)
    out = [type_out(t) for t in rows]
    return Paged({"types": out}, next=offset + len(out) if offset + len(out) < total else None, total=total)


@method("crm.type.update", scope="crm")
def type_update(ctx, params):
    db = ctx.portal.db
    t = _type_by_id(db, params.get("id"))
    fields = params.get("fields") or {}
    with db.lock:
        if "title" in fields:
            t["title"] = str(fields["title"])
        for f in FLAGS:
            if f in fields:
                t[f] = _yn(fields[f])
        if "relations" in fields:
            t["relations"] = _relations(fields["relations"])
        t["updatedTime"], t["updatedBy"] = now_iso(ctx.portal), ctx.user_id
    ctx.portal.emit("ONCRMTYPEUPDATE", {"FIELDS": {"ID": str(t["id"])}}, ctx.user_id)
    return {"type": type_out(t)}


@method("crm.type.delete", scope="crm")
def type_delete(ctx, params):
    db = ctx.portal.db
    t = _type_by_id(db, params.get("id"))
    with db.lock:
        if len(db.items.get(t["entityTypeId"]) or []):
            raise B24Fault("ERROR_CORE", "Нельзя удалить смарт-процесс, в котором есть элементы", 400)
        db.types.delete(t["id"])
        db.items.pop(t["entityTypeId"], None)
        for c in cd.categories_of(db, t["entityTypeId"]):
            _drop_category(db, t["entityTypeId"], c)
    ctx.portal.emit("ONCRMTYPEDELETE", {"FIELDS": {"ID": str(t["id"])}}, ctx.user_id)
    return []


@method("crm.type.fields", scope="crm")
def type_fields(ctx, params):
    base = {"id": "integer", "title": "string", "code": "string", "createdBy": "user", "entityTypeId": "integer",
            "customSectionId": "integer", "createdTime": "datetime", "updatedTime": "datetime",
            "updatedBy": "user", "relations": "object", "linkedUserFields": "object"}
    base.update({f: "boolean" for f in FLAGS})
    return {"fields": {k: {"type": v, "isRequired": k == "title", "isReadOnly": k in ("id", "createdBy",
            "createdTime", "updatedTime", "updatedBy"), "isImmutable": k == "entityTypeId", "isMultiple": False,
            "isDynamic": False, "title": k} for k, v in base.items()}}


# --- crm.category.* -----------------------------------------------------------------------------------
def _cat_etid(ctx, params) -> int:
    try:
        etid = int(params.get("entityTypeId"))
    except (TypeError, ValueError):
        raise B24Fault("INVALID_ARG_VALUE", "Could not find value for parameter {entityTypeId}", 400) from None
    if etid != DEAL and ctx.portal.db.type_by_entity_type_id(etid) is None:
        raise B24Fault("NOT_FOUND", "Smart process not found", 400)
    return etid


def cat_out(c: dict) -> dict:
    return {"id": c["id"], "name": c["name"], "sort": c["sort"], "entityTypeId": c["entityTypeId"],
            "isDefault": c["isDefault"], "originId": c["originId"], "originatorId": c["originatorId"]}


def _category(ctx, etid: int, raw) -> dict:
    try:
        cid = int(raw)
    except (TypeError, ValueError):
        raise B24Fault("NOT_FOUND", "Category not found", 400) from None
    c = ctx.portal.db.categories.rows.get(cid)
    if c is None or c["entityTypeId"] != etid:
        raise B24Fault("NOT_FOUND", "Category not found", 400)
    return c


def _drop_category(db, etid: int, c: dict) -> None:
    entity = cd.stage_entity_id(etid, c["id"])
    for s in list(db.statuses.rows.values()):
        if s["ENTITY_ID"] == entity:
            db.statuses.delete(s["ID"])
    db.categories.rows.pop(c["id"], None)


@method("crm.category.list", scope="crm")
def category_list(ctx, params):
    return {"categories": [cat_out(c) for c in cd.categories_of(ctx.portal.db, _cat_etid(ctx, params))]}


@method("crm.category.get", scope="crm")
def category_get(ctx, params):
    return {"category": cat_out(_category(ctx, _cat_etid(ctx, params), params.get("id")))}


@method("crm.category.add", scope="crm")
def category_add(ctx, params):
    etid = _cat_etid(ctx, params)
    f = params.get("fields") or {}
    if not str(f.get("name") or "").strip():
        raise B24Fault("INVALID_ARG_VALUE", "Field 'name' is required", 400)
    db = ctx.portal.db
    with db.lock:
        c = cd.add_category(db, etid, str(f["name"]), int(f.get("sort") or 500), _yn(f.get("isDefault")) == "Y")
        if c["isDefault"] == "Y":
            for other in cd.categories_of(db, etid):
                if other is not c:
                    other["isDefault"] = "N"
    return {"category": cat_out(c)}


@method("crm.category.update", scope="crm")
def category_update(ctx, params):
    etid = _cat_etid(ctx, params)
    c = _category(ctx, etid, params.get("id"))
    f = params.get("fields") or {}
    with ctx.portal.db.lock:
        if "name" in f:
            c["name"] = str(f["name"])
        if "sort" in f:
            c["sort"] = int(f["sort"])
        if _yn(f.get("isDefault")) == "Y" and etid != DEAL:
            for other in cd.categories_of(ctx.portal.db, etid):
                other["isDefault"] = "Y" if other is c else "N"
    return {"category": cat_out(c)}


@method("crm.category.delete", scope="crm")
def category_delete(ctx, params):
    etid = _cat_etid(ctx, params)
    c = _category(ctx, etid, params.get("id"))
    db = ctx.portal.db
    with db.lock:
        if c["isDefault"] == "Y":
            raise B24Fault("ERROR_CORE", "Нельзя удалить воронку по умолчанию", 400)
        if any(r.get("CATEGORY_ID") == c["id"] for r in db.table_for(etid).rows.values()):
            raise B24Fault("ERROR_CORE", "Нельзя удалить воронку, в которой есть элементы", 400)
        _drop_category(db, etid, c)
    return []


@method("crm.category.fields", scope="crm")
def category_fields(ctx, params):
    _cat_etid(ctx, params)
    types = {"id": "integer", "name": "string", "sort": "integer", "entityTypeId": "integer",
             "isDefault": "boolean", "originId": "string", "originatorId": "string"}
    return {"fields": {k: {"type": v, "isRequired": k == "name", "isReadOnly": k in ("id", "entityTypeId"),
                           "isImmutable": False, "isMultiple": False, "isDynamic": False, "title": k}
                       for k, v in types.items()}}


# --- crm.status.* (legacy) ------------------------------------------------------------------------------
SEM_NAMES = {None: "process", "S": "success", "F": "failure"}


def status_out(s: dict) -> dict:
    out = {"ID": str(s["ID"]), "ENTITY_ID": s["ENTITY_ID"], "STATUS_ID": s["STATUS_ID"], "NAME": s["NAME"],
           "NAME_INIT": s["NAME_INIT"], "SORT": str(s["SORT"]), "SYSTEM": s["SYSTEM"],
           "CATEGORY_ID": None if s["CATEGORY_ID"] is None else str(s["CATEGORY_ID"]), "COLOR": s["COLOR"],
           "SEMANTICS": s["SEMANTICS"]}
    if cd.parse_stage_entity(s["ENTITY_ID"]) or s["ENTITY_ID"] == "STATUS":
        out["EXTRA"] = {"SEMANTICS": SEM_NAMES.get(s["SEMANTICS"], "process"), "COLOR": s["COLOR"]}
    return out


def _status(ctx, params) -> dict:
    s = ctx.portal.db.statuses.get(arg(params, "id"))
    if s is None:
        raise B24Fault("", "Not found", 400)
    return s


@method("crm.status.list", scope="crm")
def status_list(ctx, params):
    getter = upper_field
    pred = compile_filter(arg(params, "filter"), getter)
    order = parse_order(arg(params, "order") or {"SORT": "ASC"}, getter)
    rows, _ = select_rows(ctx.portal.db.statuses.rows.values(), pred, order, 0, 10**9, True)
    return [status_out(s) for s in rows]


@method("crm.status.get", scope="crm")
def status_get(ctx, params):
    return status_out(_status(ctx, params))


@method("crm.status.add", scope="crm")
def status_add(ctx, params):
    f = {str(k).upper(): v for k, v in (arg(params, "fields") or {}).items()}
    for req in ("ENTITY_ID", "STATUS_ID", "NAME"):
        if not f.get(req):
            raise B24Fault("", f"The field {req} is required.", 400)
    db = ctx.portal.db
    entity, sid = str(f["ENTITY_ID"]), str(f["STATUS_ID"])
    stage = cd.parse_stage_entity(entity)
    cat = None
    if stage:
        etid, cat = stage
        prefix = cd.stage_prefix(etid, cat)
        if prefix and not sid.startswith(prefix):
            sid = prefix + sid
    with db.lock:
        if db.stage(sid, entity):
            raise B24Fault("", f"Status with STATUS_ID '{sid}' already exists.", 400)
        sem = f.get("SEMANTICS") if f.get("SEMANTICS") in ("S", "F") else None
        row = db.add_status(entity, sid, str(f["NAME"]), int(f.get("SORT") or 10), sem,
                            color=str(f.get("COLOR") or "#ACE9FB"), category_id=cat)
    return row["ID"]


@method("crm.status.update", scope="crm")
def status_update(ctx, params):
    s = _status(ctx, params)
    f = {str(k).upper(): v for k, v in (arg(params, "fields") or {}).items()}
    with ctx.portal.db.lock:
        for k in ("NAME", "COLOR"):
            if k in f:
                s[k] = str(f[k])
        if "SORT" in f:
            s["SORT"] = int(f["SORT"])
    return True


@method("crm.status.delete", scope="crm")
def status_delete(ctx, params):
    s = _status(ctx, params)
    forced = str((arg(params, "params") or {}).get("FORCED", "")).upper() == "Y"
    if s["SYSTEM"] == "Y" and not forced:
        raise B24Fault("", "Can't delete system status", 400)
    with ctx.portal.db.lock:
        ctx.portal.db.statuses.delete(s["ID"])
    return True


@method("crm.status.fields", scope="crm")
def status_fields(ctx, params):
    spec = {"ID": ("integer", True), "ENTITY_ID": ("string", False), "STATUS_ID": ("string", False),
            "NAME": ("string", False), "NAME_INIT": ("string", True), "SORT": ("integer", False),
            "SYSTEM": ("char", True), "CATEGORY_ID": ("integer", True), "COLOR": ("string", False),
            "SEMANTICS": ("string", True), "EXTRA": ("object", True)}
    return {k: {"type": t, "isRequired": k in ("ENTITY_ID", "STATUS_ID", "NAME"), "isReadOnly": ro,
                "isImmutable": k in ("ENTITY_ID", "STATUS_ID"), "isMultiple": False, "isDynamic": False,
                "title": k} for k, (t, ro) in spec.items()}


@method("crm.status.entity.types", scope="crm")
def status_entity_types(ctx, params):
    db = ctx.portal.db
    ids = sorted({s["ENTITY_ID"] for s in db.statuses.rows.values()})
    return [{"ID": e, "NAME": e, "SEMANTIC_INFO": [] if not cd.parse_stage_entity(e) else {}} for e in ids]
