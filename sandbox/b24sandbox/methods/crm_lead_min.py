"""A minimal crm.lead.add / get / list (docs api-reference/crm/leads/crm-lead-add.md, -get.md, -list.md) for
the service desk's missed calls, until the full crm.lead.* module (methods/crm_lead.py) is in this tree.

Registered only where no other module registered the method first: ``methods/__init__`` imports modules in
name order, so ``crm_lead`` comes before ``crm_lead_min`` and, once it exists, replaces these cleanly (this
file can then be deleted). What it keeps: TITLE, NAME, LAST_NAME, STATUS_ID (default NEW), SOURCE_ID,
ASSIGNED_BY_ID (default the caller), COMMENTS, PHONE/EMAIL multi-fields as the portal returns them
({ID, VALUE_TYPE, VALUE, TYPE_ID}); add answers the new id, get the lead or 400 "Not found", list
filters by equality (and ``%`` for text) with 50 per page; ONCRMLEADADD {FIELDS:{ID}}."""
from __future__ import annotations

from ..crmcore import now_iso
from ..db import Table
from ..registry import METHODS, B24Fault, Paged, method

FIELDS = ("TITLE", "NAME", "LAST_NAME", "STATUS_ID", "SOURCE_ID", "ASSIGNED_BY_ID", "COMMENTS")
MULTI = ("PHONE", "EMAIL")


def _table(db) -> Table:
    table = getattr(db, "leads", None)
    if table is None:
        table = db.__dict__.setdefault("_leads_min", Table("lead"))
    return table


def _multi(kind: str, values, start: int) -> list[dict]:
    vals = list(values.values()) if isinstance(values, dict) else values if isinstance(values, list) else []
    out = []
    for i, v in enumerate(vals):
        if isinstance(v, dict) and str(v.get("VALUE") or "").strip():
            out.append({"ID": str(start + i), "VALUE_TYPE": str(v.get("VALUE_TYPE") or "WORK"),
                        "VALUE": str(v["VALUE"]).strip(), "TYPE_ID": kind})
    return out


def _out(row: dict, select=None) -> dict:
    out = {k: (None if v is None else v if isinstance(v, list) else str(v)) for k, v in row.items()}
    if select and "*" not in select:
        keep = {"ID"} | {str(s).upper() for s in select}
        out = {k: v for k, v in out.items() if k in keep}
    return out


def lead_add(ctx, params):
    fields = params.get("fields") or params.get("FIELDS") or {}
    if not isinstance(fields, dict):
        raise B24Fault("", "Parameter 'fields' must be array.", 400)
    db = ctx.portal.db
    now = now_iso(ctx.portal)
    row = {k: fields.get(k) for k in FIELDS}
    row["STATUS_ID"] = row["STATUS_ID"] or "NEW"
    row["TITLE"] = row["TITLE"] or "Лид #"
    row["ASSIGNED_BY_ID"] = int(row["ASSIGNED_BY_ID"] or ctx.user_id or 1)
    row.update(DATE_CREATE=now, DATE_MODIFY=now, CREATED_BY_ID=ctx.user_id, HAS_PHONE="N", HAS_EMAIL="N")
    with db.lock:
        table = _table(db)
        for kind in MULTI:
            row[kind] = _multi(kind, fields.get(kind), db.multifields.next_id)
            db.multifields.next_id += len(row[kind])
            row[f"HAS_{kind}"] = "Y" if row[kind] else "N"
        lid = table.insert(row)
    ctx.portal.emit("ONCRMLEADADD", {"FIELDS": {"ID": lid}}, ctx.user_id)
    return lid


def lead_get(ctx, params):
    row = _table(ctx.portal.db).get(params.get("id") or params.get("ID"))
    if row is None:
        raise B24Fault("", "Not found", 400)
    return _out(row)


def _matches(row: dict, key: str, want) -> bool:
    like = key.startswith("%")
    name = key.lstrip("%=").upper()
    have = row.get(name)
    if like:
        return str(want).lower() in str(have or "").lower()
    wants = [str(w) for w in (want if isinstance(want, list) else [want])]
    return str(have if have is not None else "") in wants


def lead_list(ctx, params):
    flt = params.get("filter") or params.get("FILTER") or {}
    select = params.get("select") or params.get("SELECT")
    rows = [r for r in sorted(_table(ctx.portal.db).rows.values(), key=lambda r: r["ID"])
            if all(_matches(r, str(k), v) for k, v in (flt.items() if isinstance(flt, dict) else []))]
    try:
        start = max(0, int(params.get("start") or 0))
    except (TypeError, ValueError):
        start = 0
    page = rows[start:start + 50]
    return Paged([_out(r, select) for r in page], start + 50 if start + 50 < len(rows) else None, len(rows))


for _name, _fn in (("crm.lead.add", lead_add), ("crm.lead.get", lead_get), ("crm.lead.list", lead_list)):
    if _name not in METHODS:
        method(_name, scope="crm")(_fn)
