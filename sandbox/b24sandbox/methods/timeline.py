"""crm.timeline.comment.add/get/list/delete and crm.activity.todo.add (reference §5.8; docs
api-reference/crm/timeline/comments/*.md, .../activities/todo/crm-activity-todo-add.md).

Comments are a legacy method set (UPPER_CASE, id as bare int on add, empty error codes); ``ENTITY_TYPE`` is
the lower-case type name (``deal``, ``company``, ``dynamic_1046``). The to-do is a controller method:
camelCase params, ``{"id": N}``. Each write fires its ONCRMTIMELINECOMMENT*/ONCRMACTIVITYADD event.
"""
from __future__ import annotations

import base64

from .. import crmdefaults as cd
from .. import perms
from ..crmcore import now_iso
from ..filters import compile_filter, page_of, parse_order, select_rows, upper_field
from ..registry import B24Fault, Paged, method
from .crm_legacy import arg, gate

NAMES = {"lead": 1, "deal": 2, "contact": 3, "company": 4, "quote": 7, "order": 14, "smart_invoice": 31}


def _etid(db, name: str) -> int | None:
    name = str(name or "").lower()
    if name in NAMES:
        return NAMES[name]
    if name.startswith("dynamic_") and name[8:].isdigit() and db.type_by_entity_type_id(int(name[8:])):
        return int(name[8:])
    return None


def _owner_exists(db, etid: int, oid) -> bool:
    t = db.table_for(etid)
    return t is None or t.get(oid) is not None       # types we do not store (leads…) are accepted


def _owner_allows(ctx, etid: int, oid, action: str, check=None) -> bool:
    """The caller's permission on the comment's owner (types the sandbox does not store: allowed)."""
    if perms.unrestricted(ctx):
        return True
    t = ctx.portal.db.table_for(etid)
    if t is None:
        return True
    return (check or perms.Checker(ctx, action))(etid, t.get(oid))


def _files_in(db, raw, created: str, author: int) -> list[dict]:
    """``FILES: [["name.jpg", "<base64>"], ...]`` (docs crm-timeline-comment-add.md) → stored disk files;
    the content is kept (``content``, bytes) so a test can check what landed."""
    if raw in (None, "", [], {}):
        return []

    def as_list(x):       # a form-encoded / batch query string gives FILES[0][0]=…: dicts with "0", "1" keys
        return [x[k] for k in sorted(x, key=lambda k: int(k) if str(k).isdigit() else 0)] if isinstance(x, dict) else x
    raw = [as_list(f) for f in as_list(raw)] if isinstance(raw, (list, dict)) else raw
    if not isinstance(raw, list):
        raise B24Fault("", "Invalid FILES: an array of [name, base64 content] is expected", 400)
    out = []
    for f in raw:
        if not isinstance(f, (list, tuple)) or len(f) != 2 or not str(f[0] or "").strip():
            raise B24Fault("", "Invalid FILES: an array of [name, base64 content] is expected", 400)
        try:
            content = base64.b64decode(str(f[1]), validate=True)
        except ValueError:
            raise B24Fault("", f"Invalid file content: {f[0]}", 400) from None
        db.disk_file_seq = getattr(db, "disk_file_seq", 0) + 1
        out.append({"id": db.disk_file_seq, "name": str(f[0]), "size": len(content), "content": content,
                    "type": "image" if content[:3] == b"\xff\xd8\xff" or content[:4] == b"\x89PNG" else "file",
                    "date": created, "authorId": author})
    return out


def comment_out(c: dict) -> dict:
    """FILES as crm.timeline.comment.get answers them: {"<id>": {id, date, type, name, size, ...}}."""
    files = {str(f["id"]): {"id": f["id"], "date": f["date"], "type": f["type"], "name": f["name"],
                            "size": f["size"], "authorId": f["authorId"],
                            "urlDownload": f"/disk/downloadFile/{f['id']}/?&ncc=1&filename={f['name']}"}
             for f in c["FILES"] or []}
    return {"ID": str(c["ID"]), "CREATED": c["CREATED"], "ENTITY_ID": str(c["ENTITY_ID"]),
            "ENTITY_TYPE": c["ENTITY_TYPE"], "AUTHOR_ID": str(c["AUTHOR_ID"]), "COMMENT": c["COMMENT"],
            "FILES": files or []}


@method("crm.timeline.comment.add", scope="crm")
def comment_add(ctx, params):
    f = {str(k).upper(): v for k, v in (arg(params, "fields") or {}).items()}
    db = ctx.portal.db
    etid = _etid(db, f.get("ENTITY_TYPE"))
    if not f.get("ENTITY_ID") or etid is None:
        raise B24Fault("", "Wrong entity", 400)
    if not str(f.get("COMMENT") or "").strip():
        raise B24Fault("", "Empty comment message.", 400)
    if not _owner_allows(ctx, etid, f["ENTITY_ID"], "WRITE"):     # src: canUpdate(owner) → ACCESS_DENIED
        raise perms.item_denied()
    if not _owner_exists(db, etid, f["ENTITY_ID"]):
        raise B24Fault("", "Not found", 400)
    created, author = now_iso(ctx.portal), int(f.get("AUTHOR_ID") or ctx.user_id)
    row = {"CREATED": created, "ENTITY_ID": int(f["ENTITY_ID"]),
           "ENTITY_TYPE": str(f["ENTITY_TYPE"]).lower(), "AUTHOR_ID": author,
           "COMMENT": str(f["COMMENT"]), "FILES": []}
    with db.lock:
        row["FILES"] = _files_in(db, f.get("FILES"), created, author)
        cid = db.comments.insert(row)
    ctx.portal.emit("ONCRMTIMELINECOMMENTADD", {"FIELDS": {"ID": str(cid)}}, ctx.user_id)
    return cid


def _comment_etid(db, c: dict) -> int | None:
    return _etid(db, c["ENTITY_TYPE"])


@method("crm.timeline.comment.get", scope="crm")
def comment_get(ctx, params):
    gate(ctx)
    db = ctx.portal.db
    c = db.comments.get(arg(params, "id"))
    if c is None:
        raise B24Fault("", "Not found", 400)
    etid = _comment_etid(db, c)
    if etid is not None and not _owner_allows(ctx, etid, c["ENTITY_ID"], "READ"):
        raise perms.legacy_denied()
    return comment_out(c)


@method("crm.timeline.comment.list", scope="crm")
def comment_list(ctx, params):
    gate(ctx)
    getter = upper_field
    pred = compile_filter(arg(params, "filter"), getter)
    db = ctx.portal.db
    if not perms.unrestricted(ctx):                 # only comments of owners the caller may read (UNVERIFIED)
        base, check = pred, perms.Checker(ctx, "READ")

        def pred(c, _db=db):
            etid = _comment_etid(_db, c)
            return base(c) and (etid is None or _owner_allows(ctx, etid, c["ENTITY_ID"], "READ", check))
    order = parse_order(arg(params, "order") or {"ID": "DESC"}, getter)
    offset, count = page_of(arg(params, "start"))
    with db.lock:
        rows, total = select_rows(db.comments.rows.values(), pred, order, offset, 50, count)
        out = [comment_out(c) for c in rows]
    select = arg(params, "select")
    if isinstance(select, list) and select and "*" not in select:
        keep = {str(s).upper() for s in select} | {"ID"}
        out = [{k: v for k, v in c.items() if k in keep} for c in out]
    if not count:
        return Paged(out)
    return Paged(out, next=offset + len(out) if offset + len(out) < total else None, total=total)


@method("crm.timeline.comment.delete", scope="crm")
def comment_delete(ctx, params):
    c = ctx.portal.db.comments.get(arg(params, "id"))
    if c is None:
        raise B24Fault("", "Not found", 400)
    etid = _comment_etid(ctx.portal.db, c)
    if etid is not None and not _owner_allows(ctx, etid, c["ENTITY_ID"], "WRITE"):
        raise perms.item_denied()
    with ctx.portal.db.lock:
        ctx.portal.db.comments.delete(c["ID"])
    ctx.portal.emit("ONCRMTIMELINECOMMENTDELETE", {"FIELDS": {"ID": str(c["ID"])}}, ctx.user_id)
    return True


@method("crm.activity.todo.add", scope="crm")
def todo_add(ctx, params):
    db = ctx.portal.db
    for req in ("ownerTypeId", "ownerId", "deadline"):
        if params.get(req) in (None, ""):
            raise B24Fault("INVALID_ARG_VALUE", f"Could not find value for parameter {{{req}}}", 400)
    etid, oid = int(params["ownerTypeId"]), int(params["ownerId"])
    if cd.type_name(db, etid) is None or not _owner_exists(db, etid, oid):
        raise B24Fault("NOT_FOUND", "Element not found", 400)
    if not _owner_allows(ctx, etid, oid, "WRITE"):                 # like comment add (UNVERIFIED)
        raise perms.item_denied()
    from ..crmschema import coerce

    deadline = coerce("datetime", params["deadline"])
    if deadline is None:
        raise B24Fault("INVALID_ARG_VALUE", "Invalid value for parameter {deadline}", 400)
    row = {"OWNER_TYPE_ID": etid, "OWNER_ID": oid, "TYPE_ID": 6, "PROVIDER_ID": "CRM_TODO",
           "SUBJECT": str(params.get("title") or ""), "DESCRIPTION": str(params.get("description") or ""),
           "DEADLINE": deadline, "RESPONSIBLE_ID": int(params.get("responsibleId") or ctx.user_id),
           "AUTHOR_ID": ctx.user_id, "CREATED": now_iso(ctx.portal), "COMPLETED": "N",
           "PARENT_ID": int(params.get("parentActivityId") or 0), "COLOR_ID": params.get("colorId"),
           "PING_OFFSETS": params.get("pingOffsets") or []}
    with db.lock:
        aid = db.activities.insert(row)
    ctx.portal.emit("ONCRMACTIVITYADD", {"FIELDS": {"ID": str(aid)}}, ctx.user_id)
    return {"id": aid}
