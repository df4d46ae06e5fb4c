"""Write path shared by crm.deal.* / crm.company.* / crm.contact.* (legacy) and crm.item.* (controller):
defaults, pipeline/stage consistency (stage belongs to the category, semantics, CLOSED,
previousStageId, moved time), contact-id sync, multi-fields, and the events of reference §2.3.

Both APIs write the same rows, as on the portal (crm.item.add with entityTypeId 2 creates a deal
visible to crm.deal.get and fires ONCRMDEALADD, not ONCRMDYNAMICITEMADD).
"""
from __future__ import annotations

from datetime import datetime

from . import crmdefaults as cd
from .crmschema import Schema
from .db import COMPANY, CONTACT, DEAL, LEAD, TYPE_NAMES
from .filters import MSK
from .registry import B24Fault

EVENT_NAMES = {DEAL: "DEAL", COMPANY: "COMPANY", CONTACT: "CONTACT", LEAD: "LEAD"}


def now_iso(portal) -> str:
    return datetime.fromtimestamp(portal.clock.now(), MSK).isoformat(timespec="seconds")


def emit(ctx, etid: int, op: str, item_id: int) -> None:
    """ONCRMDEALADD {FIELDS:{ID}} for the classic types; ONCRMDYNAMICITEM* (+ the per-type
    ONCRMDYNAMICITEM*_<etid>) with ENTITY_TYPE_ID for SPAs (reference §2.3)."""
    if etid in EVENT_NAMES:
        ctx.portal.emit(f"ONCRM{EVENT_NAMES[etid]}{op}", {"FIELDS": {"ID": str(item_id)}}, ctx.user_id)
        return
    data = {"FIELDS": {"ID": str(item_id), "ENTITY_TYPE_ID": str(etid)}}
    ctx.portal.emit(f"ONCRMDYNAMICITEM{op}", data, ctx.user_id)
    ctx.portal.emit(f"ONCRMDYNAMICITEM{op}_{etid}", data, ctx.user_id)


def _has_stages(etid: int) -> bool:
    return etid not in (COMPANY, CONTACT, LEAD)


def _apply_lead_status(db, row: dict, fields: dict, user_id: int, now: str, creating: bool) -> None:
    """A lead's stage: STATUS_ID of the "STATUS" list (crm.status ENTITY_ID=STATUS, no pipelines); an unknown
    id falls back to the first status like the legacy deal API; STATUS_SEMANTIC_ID P/S/F; moving sets
    MOVED_TIME/MOVED_BY_ID; reaching a final status sets DATE_CLOSED."""
    statuses = db.stages("STATUS")
    status = fields.get("STATUS_ID") or row.get("STATUS_ID")
    if status and not any(s["STATUS_ID"] == status for s in statuses):
        status = None
    if not status:
        status = statuses[0]["STATUS_ID"] if statuses else "NEW"
    if not creating and status != row.get("STATUS_ID"):
        row["MOVED_BY_ID"], row["MOVED_TIME"] = user_id, now
    row["STATUS_ID"] = status
    st = next((s for s in statuses if s["STATUS_ID"] == status), None)
    sem = (st or {}).get("SEMANTICS") or "P"
    row["STATUS_SEMANTIC_ID"] = sem
    row["DATE_CLOSED"] = (row.get("DATE_CLOSED") or now) if sem in ("S", "F") else None


def _apply_stage(db, etid: int, row: dict, fields: dict, user_id: int, now: str, creating: bool,
                 item_api: bool) -> None:
    cat = row.get("CATEGORY_ID")
    if "CATEGORY_ID" in fields and fields["CATEGORY_ID"] is not None:
        cat = fields["CATEGORY_ID"]
    if cat is None:
        dflt = cd.default_category(db, etid)
        cat = dflt["id"] if dflt else 0
    if not any(c["id"] == cat for c in cd.categories_of(db, etid)):
        if item_api:
            raise B24Fault("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Значение поля \"Воронка\" некорректно", 400)
        raise B24Fault("", "Category ID is not valid", 400)
    entity = cd.stage_entity_id(etid, cat)
    stage = fields.get("STAGE_ID") or (row.get("STAGE_ID") if row.get("CATEGORY_ID") == cat else None)
    stages = db.stages(entity)
    if stage and not any(s["STATUS_ID"] == stage for s in stages):
        if item_api:
            raise B24Fault("CRM_FIELD_ERROR_VALUE_NOT_VALID", f"Значение поля \"Стадия\" некорректно: {stage}", 400)
        stage = None                       # legacy API silently falls back to the first stage
    if not stage:
        stage = stages[0]["STATUS_ID"] if stages else None
    if not creating and stage != row.get("STAGE_ID"):
        row["PREVIOUS_STAGE_ID"] = row.get("STAGE_ID")
        row["MOVED_BY_ID"], row["MOVED_TIME"] = user_id, now
    row["CATEGORY_ID"], row["STAGE_ID"] = cat, stage
    sem = cd.semantic_id(db, etid, cat, stage)
    row["STAGE_SEMANTIC_ID"] = sem
    if etid == DEAL:
        row["CLOSED"] = "Y" if sem in ("S", "F") else "N"


def _sync_contacts(row: dict, fields: dict) -> None:
    if "CONTACT_IDS" in fields:
        row["CONTACT_IDS"] = list(dict.fromkeys(fields["CONTACT_IDS"] or []))
        row["CONTACT_ID"] = row["CONTACT_IDS"][0] if row["CONTACT_IDS"] else None
    elif "CONTACT_ID" in fields:
        cid = fields["CONTACT_ID"]
        ids = [c for c in row.get("CONTACT_IDS") or [] if c != cid]
        row["CONTACT_IDS"] = ([cid] if cid else []) + ids
        row["CONTACT_ID"] = cid


def create(ctx, etid: int, fields: dict, *, item_api: bool, schema: Schema | None = None) -> dict:
    """Insert a row from already-coerced UPPER_CASE fields; returns the stored row (not emitted yet)."""
    db = ctx.portal.db
    now = now_iso(ctx.portal)
    table = db.table_for(etid)
    if table is None:
        raise B24Fault("NOT_FOUND", "Smart process not found", 400)
    uid = ctx.user_id
    row = {"CREATED_BY_ID": uid, "MODIFY_BY_ID": uid, "DATE_CREATE": now, "DATE_MODIFY": now,
           "ASSIGNED_BY_ID": uid, "OPENED": "Y", "LAST_ACTIVITY_TIME": now, "LAST_ACTIVITY_BY": uid}
    if etid not in (COMPANY, CONTACT):
        row.update(OPPORTUNITY=0.0, CURRENCY_ID="RUB", IS_MANUAL_OPPORTUNITY="N", TAX_VALUE=0.0,
                   CONTACT_IDS=[], CONTACT_ID=None, MOVED_BY_ID=uid, MOVED_TIME=now, PREVIOUS_STAGE_ID=None,
                   BEGINDATE=now[:10], CLOSEDATE=None, OBSERVERS=[])
    if etid == DEAL:
        row.update(TYPE_ID="SALE", PROBABILITY=None, IS_NEW="Y", IS_RECURRING="N", IS_RETURN_CUSTOMER="N",
                   IS_REPEATED_APPROACH="N", SOURCE_ID=None)
    if etid == LEAD:
        row.update(OPPORTUNITY=0.0, CURRENCY_ID="RUB", IS_MANUAL_OPPORTUNITY="N", CONTACT_IDS=[], CONTACT_ID=None,
                   MOVED_BY_ID=uid, MOVED_TIME=now, IS_RETURN_CUSTOMER="N", SOURCE_ID=None, DATE_CLOSED=None,
                   HAS_IMOL="N")
    if etid == COMPANY:
        row.update(COMPANY_TYPE="CUSTOMER", CURRENCY_ID="RUB", IS_MY_COMPANY="N", REVENUE=None)
    if etid == CONTACT:
        row.update(TYPE_ID="CLIENT", EXPORT="Y", COMPANY_IDS=[])
    with db.lock:
        multi = {k: fields.pop(k) for k in ("PHONE", "EMAIL", "WEB", "IM") if k in fields}
        row.update({k: v for k, v in fields.items() if k not in ("CONTACT_ID", "CONTACT_IDS")})
        if etid not in (COMPANY, CONTACT):
            _sync_contacts(row, fields)
        if etid == CONTACT and "COMPANY_ID" in fields and not fields.get("COMPANY_IDS"):
            row["COMPANY_IDS"] = [fields["COMPANY_ID"]] if fields["COMPANY_ID"] else []
        if _has_stages(etid):
            _apply_stage(db, etid, row, fields, uid, now, True, item_api)
        if etid == LEAD:
            _apply_lead_status(db, row, fields, uid, now, True)
        if schema is not None:
            check_required(schema, row, item_api)
        db.set_multifields(row, multi)
        if etid == LEAD:
            row["HAS_PHONE"] = "Y" if row.get("PHONE") else "N"
            row["HAS_EMAIL"] = "Y" if row.get("EMAIL") else "N"
        rid = table.insert(row)
        if not row.get("TITLE") and etid != CONTACT:
            row["TITLE"] = _default_title(db, etid, rid)
    return row


def _default_title(db, etid: int, rid: int) -> str:
    if etid == DEAL:
        return f"Сделка #{rid}"
    if etid == COMPANY:
        return f"Компания #{rid}"
    if etid == LEAD:
        return f"Лид #{rid}"
    t = db.type_by_entity_type_id(etid)
    return f"{t['title'] if t else TYPE_NAMES.get(etid, 'Элемент')} #{rid}"


def update(ctx, etid: int, row: dict, fields: dict, *, item_api: bool) -> dict:
    """Apply changes in place; returns {field: (old, new)} of what changed."""
    db = ctx.portal.db
    now = now_iso(ctx.portal)
    with db.lock:
        db.table_for(etid).touch()             # first: even a write that fails half-way invalidates
        before = {k: (list(v) if isinstance(v, list) else v) for k, v in row.items()}
        multi = {k: fields.pop(k) for k in ("PHONE", "EMAIL", "WEB", "IM") if k in fields}
        if not item_api:
            fields.pop("CATEGORY_ID", None)    # legacy update ignores CATEGORY_ID (crm.deal.update docs)
        staged = ("CONTACT_ID", "CONTACT_IDS") + (("STAGE_ID", "CATEGORY_ID") if _has_stages(etid) else ())
        row.update({k: v for k, v in fields.items() if k not in staged})
        if etid not in (COMPANY, CONTACT):
            _sync_contacts(row, fields)
        if _has_stages(etid) and ("STAGE_ID" in fields or "CATEGORY_ID" in fields):
            _apply_stage(db, etid, row, fields, ctx.user_id, now, False, item_api)
        if etid == LEAD:
            if "STATUS_ID" in fields:
                row["STATUS_ID"] = before.get("STATUS_ID")
                _apply_lead_status(db, row, fields, ctx.user_id, now, False)
        db.set_multifields(row, multi)
        if etid == LEAD:
            row["HAS_PHONE"] = "Y" if row.get("PHONE") else "N"
            row["HAS_EMAIL"] = "Y" if row.get("EMAIL") else "N"
        row["MODIFY_BY_ID"], row["DATE_MODIFY"] = ctx.user_id, now
        if etid == DEAL and before.get("IS_NEW") == "Y" and row.get("STAGE_ID") != before.get("STAGE_ID"):
            row["IS_NEW"] = "N"
    return {k: (before.get(k), v) for k, v in row.items() if before.get(k) != v}


def check_required(schema: Schema, row: dict, item_api: bool) -> None:
    for name, f in schema.fields.items():
        if f.required and row.get(name) in (None, "", []):
            label = schema.item_name(name) if item_api else name
            if item_api:
                raise B24Fault("CRM_FIELD_ERROR_REQUIRED", f"Поле \"{f.title}\" обязательно для заполнения", 400)
            raise B24Fault("", f"Field \"{label}\" is required.", 400)
