"""userfieldconfig.* — custom fields of CRM types in camelCase, the API for SPA fields.

Reference §5.5; docs api-reference/crm/universal/userfieldconfig/*.md. ``entityId`` is ``CRM_<type.id>``
(the crm.type row id, NOT entityTypeId) or a fixed id (``CRM_DEAL``, ``CRM_COMPANY``…); ``fieldName`` is
``UF_CRM_<type.id>_…`` for SPAs and ``UF_CRM_…`` otherwise, ``[A-Z0-9_]``, at most 50 characters. The rows
are the same b_user_field rows crm.deal.userfield.* manages.
"""
from __future__ import annotations

import re

from ..filters import compile_filter, field_of, page_of, parse_order, select_rows
from ..registry import B24Fault, Paged, method
from .crm_legacy import apply_uf_fields

FIXED = {"CRM_LEAD", "CRM_CONTACT", "CRM_COMPANY", "CRM_DEAL", "CRM_QUOTE", "CRM_INVOICE", "CRM_SMART_INVOICE",
         "CRM_REQUISITE", "CRM_SMART_DOCUMENT", "CRM_SMART_B2E_DOC"}
CAMEL = {"id": "ID", "entityId": "ENTITY_ID", "fieldName": "FIELD_NAME", "userTypeId": "USER_TYPE_ID",
         "xmlId": "XML_ID", "sort": "SORT", "multiple": "MULTIPLE", "mandatory": "MANDATORY",
         "showFilter": "SHOW_FILTER", "showInList": "SHOW_IN_LIST", "editInList": "EDIT_IN_LIST",
         "isSearchable": "IS_SEARCHABLE", "settings": "SETTINGS", "editFormLabel": "EDIT_FORM_LABEL",
         "listColumnLabel": "LIST_COLUMN_LABEL", "listFilterLabel": "LIST_FILTER_LABEL",
         "errorMessage": "ERROR_MESSAGE", "helpMessage": "HELP_MESSAGE"}
UPPER = {v: k for k, v in CAMEL.items()}
TYPES = {"string", "integer", "double", "boolean", "date", "datetime", "money", "url", "enumeration", "file",
         "employee", "crm", "crm_status", "address", "iblock_element", "iblock_section", "resourcebooking"}


def _field(name: str):
    """A filter/order key (camelCase, or the stored name in any case) → the getter of the stored field."""
    return field_of(CAMEL.get(name, name.upper()))


def field_out(uf: dict) -> dict:
    out = {UPPER[k]: v for k, v in uf.items() if k in UPPER}
    if uf["USER_TYPE_ID"] == "enumeration":
        out["enum"] = [{"id": e["ID"], "value": e["VALUE"], "def": e["DEF"], "sort": e["SORT"],
                        "xmlId": e["XML_ID"]} for e in uf["LIST"]]
    return out


def _module(params) -> None:
    if str(params.get("moduleId") or "") != "crm":
        raise B24Fault("ACCESS_DENIED", "Access denied", 400)


def _check_entity(db, entity_id: str) -> None:
    m = re.fullmatch(r"CRM_(\d+)", entity_id)
    if entity_id in FIXED or (m and db.types.get(int(m.group(1)))):
        return
    raise B24Fault("ACCESS_DENIED", "Access denied", 400)


def _find(ctx, params) -> dict:
    uf = ctx.portal.db.userfields.get(params.get("id"))
    if uf is None:
        raise B24Fault("NOT_FOUND", "Field not found", 400)
    return uf


def _to_upper(field: dict) -> dict:
    out = {}
    for k, v in field.items():
        if k in CAMEL:
            out[CAMEL[k]] = v
        elif k == "enum":
            items = list(v.values()) if isinstance(v, dict) else v
            out["LIST"] = [{"ID": i.get("id"), "VALUE": i.get("value"), "DEF": i.get("def", "N"),
                            "SORT": i.get("sort"), "XML_ID": i.get("xmlId"), "DEL": i.get("del")} for i in items]
    return out


@method("userfieldconfig.add", scope="userfieldconfig")
def ufc_add(ctx, params):
    _module(params)
    f = _to_upper(params.get("field") or {})
    db = ctx.portal.db
    entity_id, name, utype = str(f.get("ENTITY_ID") or ""), str(f.get("FIELD_NAME") or ""), f.get("USER_TYPE_ID")
    _check_entity(db, entity_id)
    m = re.fullmatch(r"CRM_(\d+)", entity_id)
    prefix = f"UF_CRM_{m.group(1)}_" if m else "UF_CRM_"
    if not re.fullmatch(r"[A-Z0-9_]{1,50}", name) or not name.startswith(prefix) or len(name) <= len(prefix):
        raise B24Fault("ERROR_FIELD_NAME", f"Field name must start with {prefix} and contain only A-Z, 0-9, _", 400)
    if utype not in TYPES:
        raise B24Fault("ERROR_USER_TYPE_ID", f"Unknown user type: {utype}", 400)
    with db.lock:
        if any(u["FIELD_NAME"] == name for u in db.userfields.rows.values()):
            raise B24Fault("ERROR_FIELD_NAME", f"Field {name} already exists", 400)
        uf = db.add_userfield(entity_id, name, utype)
        for k in ("ENTITY_ID", "FIELD_NAME", "USER_TYPE_ID", "ID"):
            f.pop(k, None)
        apply_uf_fields(uf, f)
    return {"field": field_out(uf)}


@method("userfieldconfig.get", scope="userfieldconfig")
def ufc_get(ctx, params):
    _module(params)
    return {"field": field_out(_find(ctx, params))}


@method("userfieldconfig.list", scope="userfieldconfig")
def ufc_list(ctx, params):
    _module(params)
    pred = compile_filter(params.get("filter"), _field)
    order = parse_order(params.get("order") or {}, _field)
    offset, count = page_of(params.get("start"))
    rows, total = select_rows(ctx.portal.db.userfields.rows.values(), pred, order, offset, 50, True)
    out = [field_out(u) for u in rows]
    return Paged({"fields": out}, next=offset + len(out) if offset + len(out) < total else None, total=total)


@method("userfieldconfig.update", scope="userfieldconfig")
def ufc_update(ctx, params):
    _module(params)
    uf = _find(ctx, params)
    f = _to_upper(params.get("field") or {})
    for k in ("ENTITY_ID", "FIELD_NAME", "USER_TYPE_ID", "ID", "MULTIPLE"):
        f.pop(k, None)
    with ctx.portal.db.lock:
        apply_uf_fields(uf, f)
    return {"field": field_out(uf)}


@method("userfieldconfig.delete", scope="userfieldconfig")
def ufc_delete(ctx, params):
    _module(params)
    uf = _find(ctx, params)
    with ctx.portal.db.lock:
        ctx.portal.db.userfields.delete(uf["ID"])
    return []


@method("userfieldconfig.getTypes", scope="userfieldconfig")
def ufc_types(ctx, params):
    return {"types": [{"userTypeId": t, "description": t} for t in sorted(TYPES)]}
