"""Legacy CRM methods: crm.deal.*, crm.lead.*, crm.company.*, crm.contact.* and their *.userfield.* siblings.

Fidelity points (reference §5.6, docs api-reference/crm/deals/crm-deal-*.md):
UPPER_CASE fields; every number a string on output (OPPORTUNITY "1000.00"); ``add`` → bare int id;
``update``/``delete`` → true; errors with an EMPTY code (``{"error":"","error_description":"Not found"}``,
400; src crm/classes/general/restservice.php throws RestException without a code); list pages of 50 with
page = floor(start/50)+1, ``next``/``total`` hoisted, ``start=-1`` skips the COUNT; ``select`` masks
``*`` (no UF, no multiple fields) and ``UF_*``; default select = ``*`` + ``UF_*``.
"""
from __future__ import annotations

from .. import crmcore, perms
from ..crmschema import Schema
from ..db import COMPANY, CONTACT, DEAL, LEAD
from ..filters import (compile_filter, page_of, parse_order, query_key, restrict, select_rows, select_table,
                       upper_field)
from ..registry import B24Fault, Paged, method

ENTITIES = {"deal": DEAL, "company": COMPANY, "contact": CONTACT, "lead": LEAD}
UF_ENTITY = {"deal": "CRM_DEAL", "company": "CRM_COMPANY", "contact": "CRM_CONTACT", "lead": "CRM_LEAD"}


def arg(params: dict, name: str, default=None):
    """Legacy methods read params case-insensitively (``id``/``ID``, ``fields``/``FIELDS``)."""
    if name in params:
        return params[name]
    low = name.lower()
    for k, v in params.items():
        if str(k).lower() == low:
            return v
    return default


def _id(params: dict) -> int:
    raw = arg(params, "id")
    try:
        rid = int(raw)
    except (TypeError, ValueError):
        raise B24Fault("", "ID is not defined or invalid.", 400) from None
    if rid <= 0:
        raise B24Fault("", "ID is not defined or invalid.", 400)
    return rid


def _fields(params: dict) -> dict:
    f = arg(params, "fields")
    if f is None or f == "":
        return {}
    if not isinstance(f, dict):
        raise B24Fault("", "Invalid parameter: fields", 400)
    return f


def _digits(v: str) -> str:
    return "".join(ch for ch in str(v) if ch.isdigit())


def legacy_resolver(schema: Schema):
    """Filter field name → getter (None: unknown, the condition is ignored like the portal does)."""
    def resolve(name: str):
        name = name.upper()
        f = schema.fields.get(name)
        if f is not None and f.type == "crm_multifield":
            # phones match by value; the portal also normalises them to digits (+7 900 … == 7900…)
            return lambda r, k=name: [v for m in r.get(k) or [] for v in (m["VALUE"], _digits(m["VALUE"]))]
        return schema.getter(name) if f is not None and f.legacy else None

    return resolve


def legacy_order_resolver(schema: Schema):
    return lambda n: schema.getter(n.upper()) if n.upper() in schema.fields else None


def legacy_filter(schema: Schema, filt) -> callable:
    return compile_filter(filt, legacy_resolver(schema))


def gate(ctx) -> None:
    """CCrmRestService refuses every legacy crm.* call of a user who can read nothing in CRM (perms.py)."""
    if not perms.can_read_some_crm(ctx):
        raise perms.legacy_denied()


def legacy_list(ctx, etid: int, params: dict, render=None) -> Paged:
    """The list through the caller's READ permission (innerGetList: "may read any" first, then the
    permission-filtered query), so ``total``/``next`` count only rows the caller may read."""
    db = ctx.portal.db
    gate(ctx)
    allowed, perm_key = None, None
    if not perms.unrestricted(ctx):
        if not perms.can_read_any(ctx, etid):
            raise perms.legacy_denied()
        allowed, perm_key = perms.read_filter(ctx, etid) or (None, None)
    schema = Schema(db, etid)
    select = arg(params, "select")
    if isinstance(select, dict):
        select = list(select.values())
    if isinstance(select, str):
        select = [select]
    pred = restrict(legacy_filter(schema, arg(params, "filter")), allowed)
    order = parse_order(arg(params, "order") or {}, legacy_order_resolver(schema))
    offset, count = page_of(arg(params, "start"))
    with db.lock:
        key = query_key("legacy", etid, arg(params, "filter"), arg(params, "order"), db.userfields.version, perm_key)
        rows, total = select_table(db.table_for(etid), pred, order, offset, 50, count, key)
        out = schema.legacy_rows(rows, select or [])
    if not count:
        return Paged(out)
    nxt = offset + len(out) if offset + len(out) < total else None
    return Paged(out, next=nxt, total=total)


def _register(entity: str, etid: int) -> None:
    up = entity.upper()

    @method(f"crm.{entity}.add", scope="crm")
    def add(ctx, params):
        gate(ctx)
        schema = Schema(ctx.portal.db, etid)
        fields = schema.coerce_fields(_fields(params), item_api=False)
        if not perms.can_add(ctx, etid, fields.get("CATEGORY_ID") or 0 if etid == DEAL else None):
            raise perms.legacy_denied()
        row = crmcore.create(ctx, etid, fields, item_api=False, schema=schema)
        crmcore.emit(ctx, etid, "ADD", row["ID"])
        return row["ID"]

    def _checked(ctx, params, action: str) -> tuple[int, dict]:
        """innerGet/innerUpdate/innerDelete: the permission on the id first, then "Not found"."""
        gate(ctx)
        rid = _id(params)
        row = ctx.portal.db.table_for(etid).get(rid)
        if not perms.allows(ctx, etid, action, row):
            raise perms.legacy_denied()
        if row is None:
            raise B24Fault("", "Not found", 400)
        return rid, row

    @method(f"crm.{entity}.get", scope="crm")
    def get(ctx, params):
        db = ctx.portal.db
        with db.lock:
            _rid, row = _checked(ctx, params, "READ")
            return Schema(db, etid).legacy_row(row)

    @method(f"crm.{entity}.update", scope="crm")
    def update(ctx, params):
        db = ctx.portal.db
        rid, row = _checked(ctx, params, "WRITE")
        fields = Schema(db, etid).coerce_fields(_fields(params), item_api=False)
        crmcore.update(ctx, etid, row, fields, item_api=False)
        crmcore.emit(ctx, etid, "UPDATE", rid)
        return True

    @method(f"crm.{entity}.delete", scope="crm")
    def delete(ctx, params):
        db = ctx.portal.db
        with db.lock:
            rid, _row = _checked(ctx, params, "DELETE")
            db.table_for(etid).delete(rid)
        crmcore.emit(ctx, etid, "DELETE", rid)
        return True

    @method(f"crm.{entity}.list", scope="crm")
    def list_(ctx, params):
        return legacy_list(ctx, etid, params)

    @method(f"crm.{entity}.fields", scope="crm")
    def fields(ctx, params):
        gate(ctx)
        return Schema(ctx.portal.db, etid).legacy_fields()

    _register_userfields(entity, up)


# --- crm.<entity>.userfield.* (docs api-reference/crm/<entity>s/user-defined-fields/) --------------------
UF_DEFAULTS = {"XML_ID": "", "SORT": 100, "MULTIPLE": "N", "MANDATORY": "N", "SHOW_FILTER": "N",
               "SHOW_IN_LIST": "Y", "EDIT_IN_LIST": "Y", "IS_SEARCHABLE": "N"}
LABELS = ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL", "ERROR_MESSAGE", "HELP_MESSAGE")


def uf_name(raw: str) -> str:
    """``MANAGER_NOTE`` → ``UF_CRM_MANAGER_NOTE``; ``UF_X`` → ``UF_CRM_X`` (reference §5.6)."""
    name = str(raw).upper().strip()
    if name.startswith("UF_CRM_"):
        return name
    if name.startswith("UF_"):
        name = name[3:]
    return "UF_CRM_" + name


def uf_legacy(uf: dict) -> dict:
    out = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v) for k, v in uf.items()
           if k != "LIST"}
    if uf["USER_TYPE_ID"] == "enumeration":
        out["LIST"] = [{"ID": str(e["ID"]), "SORT": str(e["SORT"]), "VALUE": e["VALUE"], "DEF": e["DEF"],
                        "XML_ID": e["XML_ID"]} for e in uf["LIST"]]
    return out


def _label(v) -> dict:
    if isinstance(v, dict):
        return {str(k): str(x) for k, x in v.items()}
    return {"ru": str(v), "en": str(v)} if v not in (None, "") else {}


def apply_uf_fields(uf: dict, f: dict) -> None:
    for k, v in f.items():
        k = k.upper()
        if k in LABELS:
            uf[k] = _label(v)
        elif k in ("MULTIPLE", "MANDATORY", "SHOW_FILTER", "SHOW_IN_LIST", "EDIT_IN_LIST", "IS_SEARCHABLE"):
            uf[k] = "Y" if str(v).upper() in ("Y", "1", "TRUE") else "N"
        elif k == "SORT":
            uf[k] = int(v or 100)
        elif k in ("XML_ID",):
            uf[k] = str(v)
        elif k == "SETTINGS" and isinstance(v, dict):
            uf[k] = v
        elif k == "LIST" and isinstance(v, (list, dict)):
            items = list(v.values()) if isinstance(v, dict) else v
            keep = [e for e in uf["LIST"] if any(str(e["ID"]) == str(i.get("ID")) for i in items)]
            for i in items:
                if i.get("ID"):
                    for e in keep:
                        if str(e["ID"]) == str(i["ID"]):
                            if i.get("DEL") == "Y":
                                keep.remove(e)
                            else:
                                e.update({x: i[x] for x in ("VALUE", "DEF", "XML_ID") if x in i})
                else:
                    nid = uf["ID"] * 100 + len(keep) + 1 + sum(1 for _ in uf["LIST"])
                    keep.append({"ID": nid, "VALUE": str(i.get("VALUE", "")), "SORT": int(i.get("SORT") or 500),
                                 "DEF": i.get("DEF", "N"), "XML_ID": str(i.get("XML_ID") or nid)})
            uf["LIST"] = keep


def _register_userfields(entity: str, up: str) -> None:
    entity_id = UF_ENTITY[entity]

    def find(ctx, params) -> dict:
        uf = ctx.portal.db.userfields.get(arg(params, "id"))
        if uf is None or uf["ENTITY_ID"] != entity_id:
            raise B24Fault("", "The entity with ID '%s' is not found." % arg(params, "id"), 400)
        return uf

    @method(f"crm.{entity}.userfield.add", scope="crm")
    def uf_add(ctx, params):
        gate(ctx)
        f = _fields(params)
        fu = {str(k).upper(): v for k, v in f.items()}
        if not fu.get("FIELD_NAME") or not fu.get("USER_TYPE_ID"):
            raise B24Fault("", "FIELD_NAME and USER_TYPE_ID are required.", 400)
        name = uf_name(fu["FIELD_NAME"])
        db = ctx.portal.db
        with db.lock:
            if any(u["FIELD_NAME"] == name for u in db.userfields_of(entity_id)):
                raise B24Fault("ERROR_CORE",
                               f"Ошибка при добавлении пользовательского поля: {name} уже существует", 400)
            uf = db.add_userfield(entity_id, name, str(fu["USER_TYPE_ID"]), label=fu.get("EDIT_FORM_LABEL") or
                                  fu.get("LABEL") or name)
            fu.pop("FIELD_NAME"), fu.pop("USER_TYPE_ID")
            if "LABEL" in fu and "EDIT_FORM_LABEL" not in fu:
                for k in ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL"):
                    fu.setdefault(k, fu["LABEL"])
            apply_uf_fields(uf, fu)
        ctx.portal.emit(f"ONCRM{up}USERFIELDADD", {"FIELDS": {"ID": str(uf["ID"]), "FIELD_NAME": name,
                                                             "ENTITY_ID": entity_id}}, ctx.user_id)
        return uf["ID"]

    @method(f"crm.{entity}.userfield.get", scope="crm")
    def uf_get(ctx, params):
        gate(ctx)
        return uf_legacy(find(ctx, params))

    @method(f"crm.{entity}.userfield.list", scope="crm")
    def uf_list(ctx, params):
        gate(ctx)
        db = ctx.portal.db
        rows = db.userfields_of(entity_id)
        pred = compile_filter(arg(params, "filter"), upper_field)
        order = parse_order(arg(params, "order") or {}, upper_field)
        rows, _ = select_rows(rows, pred, order, 0, 10**9, True, id_ordered=False)
        return [uf_legacy(r) for r in rows]

    @method(f"crm.{entity}.userfield.update", scope="crm")
    def uf_update(ctx, params):
        gate(ctx)
        uf = find(ctx, params)
        f = {str(k).upper(): v for k, v in _fields(params).items()}
        f.pop("FIELD_NAME", None), f.pop("USER_TYPE_ID", None), f.pop("MULTIPLE", None)
        with ctx.portal.db.lock:
            apply_uf_fields(uf, f)
        ctx.portal.emit(f"ONCRM{up}USERFIELDUPDATE", {"FIELDS": {"ID": str(uf["ID"]), "FIELD_NAME": uf["FIELD_NAME"],
                                                                "ENTITY_ID": entity_id}}, ctx.user_id)
        return True

    @method(f"crm.{entity}.userfield.delete", scope="crm")
    def uf_delete(ctx, params):
        gate(ctx)
        uf = find(ctx, params)
        db = ctx.portal.db
        with db.lock:
            db.userfields.delete(uf["ID"])
        ctx.portal.emit(f"ONCRM{up}USERFIELDDELETE", {"FIELDS": {"ID": str(uf["ID"]), "FIELD_NAME": uf["FIELD_NAME"],
                                                                "ENTITY_ID": entity_id}}, ctx.user_id)
        return True


for _entity, _etid in ENTITIES.items():
    _register(_entity, _etid)
