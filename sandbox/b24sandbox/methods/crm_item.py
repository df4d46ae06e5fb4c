"""crm.item.* — the universal controller API over deals (2), contacts (3), companies (4) and SPAs.

Fidelity points (reference §5.4; docs api-reference/crm/universal/crm-item-*.md): camelCase names with
ints (``id``, ``assignedById``) and floats (``opportunity``); ``ufCrm…`` names by the Converter rules, or
``UF_CRM_…`` with ``useOriginalUfNames=Y``; answers wrapped as ``{"item":…}`` / ``{"items":[…]}`` /
``{"fields":…}``; ``crm.item.delete`` → ``[]``; controller paging (page = floor(start/50)+1, ``next`` while
more, ``start=-1`` = no COUNT); errors with codes ``NOT_FOUND``, ``INVALID_ARG_VALUE``, 400. The rows are
the same ones crm.deal.* reads, and events are the type's own (ONCRMDEALADD for entityTypeId 2).
"""
from __future__ import annotations

from .. import crmcore, perms
from ..crmschema import Schema
from ..db import COMPANY, CONTACT, DEAL
from ..filters import compile_filter, page_of, parse_order, query_key, restrict, select_table
from ..registry import B24Fault, Paged, method


def _flag(v) -> bool:
    return str(v).upper() in ("Y", "1", "TRUE")


def _etid(ctx, params) -> int:
    raw = params.get("entityTypeId", params.get("ENTITY_TYPE_ID"))
    if raw in (None, ""):
        raise B24Fault("INVALID_ARG_VALUE", "Could not find value for parameter {entityTypeId}", 400)
    try:
        etid = int(raw)
    except (TypeError, ValueError):
        raise B24Fault("INVALID_ARG_VALUE", "Invalid value for parameter {entityTypeId}", 400) from None
    if etid not in (DEAL, COMPANY, CONTACT) and ctx.portal.db.type_by_entity_type_id(etid) is None:
        raise B24Fault("NOT_FOUND", "Smart process not found", 400)
    return etid


def _item_id(params) -> int:
    try:
        return int(params.get("id", params.get("ID")))
    except (TypeError, ValueError):
        raise B24Fault("INVALID_ARG_VALUE", "Could not find value for parameter {id}", 400) from None


def _row(ctx, etid: int, rid: int, action: str = "READ") -> dict:
    """The item, then the caller's permission on it (src Controller\\Item: NOT_FOUND before ACCESS_DENIED)."""
    row = ctx.portal.db.table_for(etid).get(rid)
    if row is None:
        raise B24Fault("NOT_FOUND", "Element not found", 400)
    if not perms.allows(ctx, etid, action, row):
        raise perms.item_denied()
    return row


def _fields_param(params) -> dict:
    f = params.get("fields")
    if f in (None, ""):
        return {}
    if not isinstance(f, dict):
        raise B24Fault("INVALID_ARG_VALUE", "Invalid value for parameter {fields}", 400)
    return f


@method("crm.item.add", scope="crm")
def item_add(ctx, params):
    etid = _etid(ctx, params)
    orig = _flag(params.get("useOriginalUfNames"))
    schema = Schema(ctx.portal.db, etid)
    fields = schema.coerce_fields(_fields_param(params), item_api=True, original_uf=orig)
    if not perms.can_add(ctx, etid, fields.get("CATEGORY_ID")):
        raise perms.item_denied()
    row = crmcore.create(ctx, etid, fields, item_api=True, schema=schema)
    crmcore.emit(ctx, etid, "ADD", row["ID"])
    return {"item": schema.item_row(row, None, orig)}


@method("crm.item.get", scope="crm")
def item_get(ctx, params):
    etid = _etid(ctx, params)
    orig = _flag(params.get("useOriginalUfNames"))
    db = ctx.portal.db
    with db.lock:
        row = _row(ctx, etid, _item_id(params))
        return {"item": Schema(db, etid).item_row(row, None, orig)}


@method("crm.item.update", scope="crm")
def item_update(ctx, params):
    etid = _etid(ctx, params)
    orig = _flag(params.get("useOriginalUfNames"))
    db = ctx.portal.db
    schema = Schema(db, etid)
    row = _row(ctx, etid, _item_id(params), "WRITE")
    fields = schema.coerce_fields(_fields_param(params), item_api=True, original_uf=orig)
    old_cat = row.get("CATEGORY_ID")
    changes = crmcore.update(ctx, etid, row, fields, item_api=True)
    crmcore.emit(ctx, etid, "UPDATE", row["ID"])
    if etid == DEAL and "CATEGORY_ID" in changes and row.get("CATEGORY_ID") != old_cat:
        ctx.portal.emit("ONCRMDEALMOVETOCATEGORY", {"FIELDS": {"ID": str(row["ID"]),
                        "CATEGORY_ID": str(row["CATEGORY_ID"]), "STAGE_ID": row["STAGE_ID"]}}, ctx.user_id)
    return {"item": schema.item_row(row, None, orig)}


@method("crm.item.delete", scope="crm")
def item_delete(ctx, params):
    etid = _etid(ctx, params)
    rid = _item_id(params)
    db = ctx.portal.db
    with db.lock:
        _row(ctx, etid, rid, "DELETE")
        db.table_for(etid).delete(rid)
    crmcore.emit(ctx, etid, "DELETE", rid)
    return []


@method("crm.item.fields", scope="crm")
def item_fields(ctx, params):
    etid = _etid(ctx, params)
    return {"fields": Schema(ctx.portal.db, etid).item_fields(_flag(params.get("useOriginalUfNames")))}


def _resolver(schema: Schema, orig: bool, what: str):
    def resolve(name: str):
        upper = schema.upper(name, orig)
        if upper is None and name in schema.fields and schema.fields[name].item:
            upper = name
        if upper is None:
            raise B24Fault("INVALID_ARG_VALUE", f"Invalid {what}: field '{name}' is not allowed in {what}", 400)
        return schema.getter(upper)

    return resolve


@method("crm.item.list", scope="crm")
def item_list(ctx, params):
    etid = _etid(ctx, params)
    orig = _flag(params.get("useOriginalUfNames"))
    db = ctx.portal.db
    schema = Schema(db, etid)
    select = params.get("select")
    if isinstance(select, dict):
        select = list(select.values())
    if isinstance(select, str):
        select = [select]
    filt = params.get("filter")
    if filt not in (None, "") and not isinstance(filt, (dict, list)):
        raise B24Fault("INVALID_ARG_VALUE", "Invalid value for parameter {filter}", 400)
    allowed, perm_key = perms.read_filter(ctx, etid) or (None, None)    # getItemsFilteredByPermissions
    pred = restrict(compile_filter(filt, _resolver(schema, orig, "filter")), allowed)
    order = parse_order(params.get("order") or {}, _resolver(schema, orig, "order"))
    offset, count = page_of(params.get("start"))
    with db.lock:
        key = query_key("crm.item.list", etid, orig, filt, params.get("order"), db.userfields.version, perm_key)
        rows, total = select_table(db.table_for(etid), pred, order, offset, 50, count, key)
        items = schema.item_rows(rows, select, orig)
    if not count:
        return Paged({"items": items}, total=0)
    nxt = offset + len(items) if offset + len(items) < total else None
    return Paged({"items": items}, next=nxt, total=total)
