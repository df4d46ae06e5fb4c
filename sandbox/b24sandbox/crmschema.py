"""CRM field schemas and the two renderings of a row.

Rows are stored with UPPER_CASE keys (legacy names) and typed values. ``Schema`` knows, per CRM type,
which fields exist in the legacy API (crm.deal.fields, numbers rendered as strings) and in the
controller API (crm.item.fields: camelCase, ints), how to coerce input, and the UF name ↔ camelCase
rules of src crm/lib/Service/Converter.php (reference §5.4).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from .db import COMPANY, CONTACT, DEAL, LEAD, TYPE_NAMES
from .filters import MSK, FieldGetter, to_dt

# (NAME, type, flags) — flags: R read-only, I immutable, M multiple, Q required, X controller-only,
# L legacy-only. Types follow crm.deal.fields (docs api-reference/crm/deals/crm-deal-fields.md).
_COMMON_TAIL = [("ASSIGNED_BY_ID", "user", ""), ("CREATED_BY_ID", "user", "R"), ("MODIFY_BY_ID", "user", "R"),
                ("DATE_CREATE", "datetime", "R"), ("DATE_MODIFY", "datetime", "R"),
                ("LAST_ACTIVITY_TIME", "datetime", "R"), ("LAST_ACTIVITY_BY", "user", "R")]
_ADDRESS = [("ADDRESS", "string", ""), ("ADDRESS_2", "string", ""), ("ADDRESS_CITY", "string", ""),
            ("ADDRESS_POSTAL_CODE", "string", ""), ("ADDRESS_REGION", "string", ""),
            ("ADDRESS_PROVINCE", "string", ""), ("ADDRESS_COUNTRY", "string", ""),
            ("ADDRESS_COUNTRY_CODE", "string", "")]
_MULTI = [("PHONE", "crm_multifield", "M"), ("EMAIL", "crm_multifield", "M"), ("WEB", "crm_multifield", "M"),
          ("IM", "crm_multifield", "M")]
STD_FIELDS = {
    DEAL: [("ID", "integer", "R"), ("TITLE", "string", ""), ("TYPE_ID", "crm_status", ""),
           ("CATEGORY_ID", "crm_category", "I"), ("STAGE_ID", "crm_status", ""),
           ("PREVIOUS_STAGE_ID", "crm_status", "RX"), ("STAGE_SEMANTIC_ID", "string", "R"),
           ("IS_NEW", "char", "R"), ("IS_RECURRING", "char", ""), ("IS_RETURN_CUSTOMER", "char", "R"),
           ("IS_REPEATED_APPROACH", "char", "R"), ("PROBABILITY", "integer", ""), ("CURRENCY_ID", "crm_currency", ""),
           ("OPPORTUNITY", "double", ""), ("IS_MANUAL_OPPORTUNITY", "char", ""), ("TAX_VALUE", "double", ""),
           ("COMPANY_ID", "crm_company", ""), ("CONTACT_ID", "crm_contact", ""), ("CONTACT_IDS", "crm_contact", "M"),
           ("QUOTE_ID", "crm_quote", "R"), ("BEGINDATE", "date", ""), ("CLOSEDATE", "date", ""),
           ("OPENED", "char", ""), ("CLOSED", "char", ""), ("COMMENTS", "string", ""),
           ("SOURCE_ID", "crm_status", ""), ("SOURCE_DESCRIPTION", "string", ""), ("LEAD_ID", "crm_lead", "R"),
           ("ADDITIONAL_INFO", "string", ""), ("LOCATION_ID", "location", ""), ("ORIGINATOR_ID", "string", ""),
           ("ORIGIN_ID", "string", ""), ("MOVED_BY_ID", "user", "R"), ("MOVED_TIME", "datetime", "R"),
           ("OBSERVERS", "user", "MX")] + _COMMON_TAIL,
    COMPANY: [("ID", "integer", "R"), ("TITLE", "string", ""), ("COMPANY_TYPE", "crm_status", ""),
              ("INDUSTRY", "crm_status", ""), ("EMPLOYEES", "crm_status", ""), ("REVENUE", "double", ""),
              ("CURRENCY_ID", "crm_currency", ""), ("COMMENTS", "string", ""), ("OPENED", "char", ""),
              ("IS_MY_COMPANY", "char", ""), ("LEAD_ID", "crm_lead", "R"), ("ORIGINATOR_ID", "string", ""),
              ("ORIGIN_ID", "string", ""), ("CONTACT_ID", "crm_contact", "ML")] + _ADDRESS + _COMMON_TAIL + _MULTI,
    CONTACT: [("ID", "integer", "R"), ("HONORIFIC", "crm_status", ""), ("NAME", "string", ""),
              ("SECOND_NAME", "string", ""), ("LAST_NAME", "string", ""), ("BIRTHDATE", "date", ""),
              ("TYPE_ID", "crm_status", ""), ("SOURCE_ID", "crm_status", ""), ("SOURCE_DESCRIPTION", "string", ""),
              ("POST", "string", ""), ("COMMENTS", "string", ""), ("OPENED", "char", ""), ("EXPORT", "char", ""),
              ("COMPANY_ID", "crm_company", ""), ("COMPANY_IDS", "crm_company", "M"), ("LEAD_ID", "crm_lead", "R"),
              ("ORIGINATOR_ID", "string", ""), ("ORIGIN_ID", "string", "")] + _ADDRESS + _COMMON_TAIL + _MULTI,
}
# crm.lead.fields (docs api-reference/crm/leads/crm-lead-fields.md): the stage is STATUS_ID from the
# "STATUS" list (crm.status ENTITY_ID=STATUS), no pipelines; MOVED_TIME/MOVED_BY_ID as for deals
STD_FIELDS[LEAD] = [
    ("ID", "integer", "R"), ("TITLE", "string", ""), ("HONORIFIC", "crm_status", ""), ("NAME", "string", ""),
    ("SECOND_NAME", "string", ""), ("LAST_NAME", "string", ""), ("BIRTHDATE", "date", ""),
    ("COMPANY_TITLE", "string", ""), ("SOURCE_ID", "crm_status", ""), ("SOURCE_DESCRIPTION", "string", ""),
    ("STATUS_ID", "crm_status", ""), ("STATUS_DESCRIPTION", "string", ""), ("STATUS_SEMANTIC_ID", "string", "R"),
    ("POST", "string", "")] + _ADDRESS + [
    ("CURRENCY_ID", "crm_currency", ""), ("OPPORTUNITY", "double", ""), ("IS_MANUAL_OPPORTUNITY", "char", ""),
    ("OPENED", "char", ""), ("COMMENTS", "string", ""), ("HAS_PHONE", "char", "R"), ("HAS_EMAIL", "char", "R"),
    ("HAS_IMOL", "char", "R"), ("MOVED_BY_ID", "user", "R"), ("MOVED_TIME", "datetime", "R"),
    ("COMPANY_ID", "crm_company", ""), ("CONTACT_ID", "crm_contact", ""), ("CONTACT_IDS", "crm_contact", "M"),
    ("IS_RETURN_CUSTOMER", "char", "R"), ("DATE_CLOSED", "datetime", "R"), ("ORIGINATOR_ID", "string", ""),
    ("ORIGIN_ID", "string", ""), ("UTM_SOURCE", "string", ""), ("UTM_MEDIUM", "string", ""),
    ("UTM_CAMPAIGN", "string", ""), ("UTM_CONTENT", "string", ""), ("UTM_TERM", "string", "")] \
    + _COMMON_TAIL + _MULTI
SPA_FIELDS = [("ID", "integer", "R"), ("XML_ID", "string", ""), ("TITLE", "string", ""),
              ("CREATED_BY_ID", "user", "R"), ("MODIFY_BY_ID", "user", "R"), ("MOVED_BY_ID", "user", "R"),
              ("DATE_CREATE", "datetime", "R"), ("DATE_MODIFY", "datetime", "R"), ("MOVED_TIME", "datetime", "R"),
              ("CATEGORY_ID", "crm_category", ""), ("OPENED", "char", ""), ("STAGE_ID", "crm_status", ""),
              ("PREVIOUS_STAGE_ID", "crm_status", "R"), ("STAGE_SEMANTIC_ID", "string", "R"),
              ("BEGINDATE", "date", ""), ("CLOSEDATE", "date", ""), ("COMPANY_ID", "crm_company", ""),
              ("CONTACT_ID", "crm_contact", ""), ("CONTACT_IDS", "crm_contact", "M"), ("OPPORTUNITY", "double", ""),
              ("IS_MANUAL_OPPORTUNITY", "char", ""), ("TAX_VALUE", "double", ""), ("CURRENCY_ID", "crm_currency", ""),
              ("MYCOMPANY_ID", "crm_company", ""), ("SOURCE_ID", "crm_status", ""),
              ("SOURCE_DESCRIPTION", "string", ""), ("ASSIGNED_BY_ID", "user", ""), ("OBSERVERS", "user", "M"),
              ("LAST_ACTIVITY_BY", "user", "R"), ("LAST_ACTIVITY_TIME", "datetime", "R")]
CAMEL_OVERRIDES = {"CREATED_BY_ID": "createdBy", "MODIFY_BY_ID": "updatedBy", "MOVED_BY_ID": "movedBy",
                   "DATE_CREATE": "createdTime", "DATE_MODIFY": "updatedTime", "COMPANY_TYPE": "typeId"}
INT_TYPES = {"integer", "user", "crm_company", "crm_contact", "crm_category", "crm_quote", "crm_lead",
             "employee", "enumeration", "crm_entity"}
UF_INT_TYPES = {"integer", "employee", "enumeration"}
MONEY2 = {"OPPORTUNITY", "TAX_VALUE", "REVENUE"}
_PARENT = re.compile(r"^PARENT_ID_(\d+)$")


def snake_to_camel(name: str) -> str:
    parts = name.lower().split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def uf_to_camel(name: str) -> str:
    """src Converter: ``UF_CRM_7_MY_FIELD``→``ufCrm7MyField``, ``UF_CRM_2_16396`` → ``ufCrm2_16396``,
    other ``UF_CRM_…`` (letters mixed with digits) → ``ufCrm_`` + the rest verbatim."""
    if re.fullmatch(r"[A-Z_]+", name) or re.fullmatch(r"UF_CRM_\d{1,4}_[A-Z_]+", name):
        return snake_to_camel(name)
    if re.fullmatch(r"UF_CRM_\d{1,4}_[\d_]+", name):
        parts = name.lower().split("_")
        out = parts[0]
        for prev, p in zip(parts, parts[1:]):
            out += ("_" + p) if prev[:1].isdigit() and p[:1].isdigit() else (p[:1].upper() + p[1:])
        return out
    return "ufCrm_" + name[len("UF_CRM_"):] if name.startswith("UF_CRM_") else snake_to_camel(name)


@lru_cache(maxsize=8192)
def camel_of(name: str) -> str:
    """Controller name of a stored field (pure, memoised: every rendered row asks for every field)."""
    if name.startswith("UF_"):
        return uf_to_camel(name)
    return CAMEL_OVERRIDES.get(name) or snake_to_camel(name)


def _date_only(v) -> str | None:
    if v in (None, ""):
        return None
    if isinstance(v, (date, datetime)):
        return v.strftime("%Y-%m-%d")
    d = to_dt(str(v))
    return d.astimezone(MSK).strftime("%Y-%m-%d") if d else None


def _datetime(v) -> str | None:
    if v in (None, ""):
        return None
    if isinstance(v, (int, float)):
        return datetime.fromtimestamp(v, MSK).isoformat(timespec="seconds")
    d = to_dt(str(v))
    return d.astimezone(MSK).isoformat(timespec="seconds") if d else None


def coerce(ftype: str, value, multiple: bool = False):
    """Input value (form strings or JSON) → stored typed value."""
    if multiple:
        if value in (None, "", False):
            return []
        vals = (list(value.values()) if isinstance(value, dict)
                else value if isinstance(value, (list, tuple)) else [value])
        return [c for c in (coerce(ftype, v) for v in vals) if c not in (None, "")]
    if value is None or (value == "" and ftype != "string"):
        return None
    if ftype in INT_TYPES:
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None
    if ftype in ("double", "money"):
        try:
            return float(str(value).split("|")[0]) if ftype == "money" else float(value)
        except (TypeError, ValueError):
            return None
    if ftype == "char":
        return "Y" if str(value).upper() in ("Y", "1", "TRUE") else "N"
    if ftype == "boolean":
        return 1 if str(value).upper() in ("Y", "1", "TRUE") else 0
    if ftype == "date":
        return _date_only(value)
    if ftype == "datetime":
        return _datetime(value)
    if isinstance(value, (dict, list)):
        return value
    return str(value)


def legacy_value(name: str, ftype: str, value):
    """Legacy rendering: numbers as strings, OPPORTUNITY with two decimals, dates as ISO datetimes."""
    if isinstance(value, list):
        if ftype == "crm_multifield":
            return value
        return [legacy_value(name, ftype, v) for v in value]
    if value is None:
        return None
    if ftype == "date":
        return f"{value}T00:00:00+03:00" if len(str(value)) == 10 else value
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float) and name in MONEY2:
        return f"{value:.2f}"
    if isinstance(value, float):
        return ("%.10g" % value) if value != int(value) else str(int(value))
    if isinstance(value, int):
        return str(value)
    return value


def item_value(ftype: str, value):
    """Controller rendering: ints stay ints, money floats, booleans of UFs as 'Y'/'N'."""
    if isinstance(value, list):
        return [item_value(ftype, v) for v in value]
    if value is None:
        return None
    if ftype == "date":
        return f"{value}T00:00:00+03:00" if len(str(value)) == 10 else value
    if ftype == "boolean":
        return "Y" if value else "N"
    return value


class Field:
    __slots__ = ("name", "type", "ro", "immutable", "multiple", "required", "legacy", "item", "uf", "title", "meta")

    def __init__(self, name, ftype, flags="", title=None, uf=None):
        self.name, self.type = name, ftype
        self.ro, self.immutable, self.multiple = "R" in flags, "I" in flags, "M" in flags
        self.required = "Q" in flags
        self.legacy, self.item = "X" not in flags, "L" not in flags
        self.uf = uf
        self.title = title or name
        self.meta = None


class Schema:
    """Fields of one CRM type on one portal (standard + UF_* of its UF entity id)."""

    def __init__(self, db, entity_type_id: int):
        from .crmdefaults import uf_entity_id

        self.db, self.etid = db, int(entity_type_id)
        std = STD_FIELDS.get(self.etid, SPA_FIELDS)
        self.fields: dict[str, Field] = {n: Field(n, t, f) for n, t, f in std}
        for rel in self._parents():
            self.fields[f"PARENT_ID_{rel}"] = Field(f"PARENT_ID_{rel}", "crm_entity", "X")
        self.uf_entity = uf_entity_id(db, self.etid)
        for uf in db.userfields_of(self.uf_entity) if self.uf_entity else []:
            label = uf["EDIT_FORM_LABEL"].get("ru") or uf["EDIT_FORM_LABEL"].get("en") or uf["FIELD_NAME"]
            f = Field(uf["FIELD_NAME"], uf["USER_TYPE_ID"], "M" if uf["MULTIPLE"] == "Y" else "", label, uf)
            f.required = uf["MANDATORY"] == "Y"
            self.fields[f.name] = f
        self._camel = {camel_of(n): n for n in self.fields}

    def _parents(self) -> list[int]:
        """Parent types this type may bind to (parentId<etid>); deals are the common parent."""
        if self.etid in (DEAL, COMPANY, CONTACT, LEAD):
            return []
        t = self.db.type_by_entity_type_id(self.etid)
        rel = [r["entityTypeId"] for r in (t or {}).get("relations", {}).get("parent", [])]
        return list(dict.fromkeys([DEAL] + rel))

    # --- names --------------------------------------------------------------------------------------
    def upper(self, name: str, original_uf: bool = False) -> str | None:
        """Field name from the controller API (camelCase, or UF_CRM_* when original names) → stored name."""
        if name in self._camel:
            return self._camel[name]
        if original_uf and name.startswith("UF_") and name in self.fields:
            return name
        m = re.fullmatch(r"parentId(\d+)", name)
        if m:
            return f"PARENT_ID_{m.group(1)}"
        return None

    def item_name(self, upper: str, original_uf: bool = False) -> str:
        return upper if (original_uf and upper.startswith("UF_")) else camel_of(upper)

    def getter(self, upper: str):
        return FieldGetter(upper)

    # --- input --------------------------------------------------------------------------------------
    def coerce_fields(self, fields: dict, *, item_api: bool, original_uf: bool = False,
                      allow_ro: bool = False) -> dict:
        """Known writable fields only (unknown ones are ignored like the portal does)."""
        out = {}
        for key, value in (fields or {}).items():
            name = self.upper(key, original_uf) if item_api else str(key).upper()
            if not name:
                continue
            f = self.fields.get(name)
            if f is None and _PARENT.match(name):
                f = Field(name, "crm_entity", "X")
            if f is None or (f.ro and not allow_ro) or (item_api and not f.item) or (not item_api and not f.legacy):
                continue
            if f.type == "crm_multifield":
                out[name] = value if isinstance(value, list) else list((value or {}).values())
                continue
            out[name] = coerce(f.type, value, f.multiple)
        return out

    # --- output -------------------------------------------------------------------------------------
    def legacy_row(self, row: dict, select: list | None = None) -> dict:
        """crm.deal.get / list rendering. ``select`` None = every field (get); list masks ``*``, ``UF_*``."""
        return self.legacy_rows([row], select)[0]

    def legacy_rows(self, rows: list, select: list | None = None) -> list[dict]:
        """``legacy_row`` of each row, the select resolved once for the page."""
        plan = [(n, self.fields[n].type, self.fields[n].multiple) for n in self.legacy_select(select)]
        return [{n: legacy_value(n, t, row.get(n, [] if m else None)) for n, t, m in plan} for row in rows]

    def legacy_select(self, select: list | None) -> list[str]:
        legacy = [n for n, f in self.fields.items() if f.legacy]
        if select is None:
            return legacy
        sel = [str(s).upper() for s in (select if isinstance(select, list) else list(select.values()))]
        if not sel:
            sel = ["*", "UF_*"]
        out: list[str] = []
        for s in sel:
            if s == "*":
                add = [n for n in legacy if not n.startswith("UF_") and not self.fields[n].multiple]
            elif s == "UF_*":
                add = [n for n in legacy if n.startswith("UF_")]
            else:
                add = [s] if s in self.fields and self.fields[s].legacy else []
            out += [n for n in add if n not in out]
        if "ID" not in out:
            out.insert(0, "ID")
        return out

    def item_row(self, row: dict, select: list | None = None, original_uf: bool = False) -> dict:
        return self.item_rows([row], select, original_uf)[0]

    def item_rows(self, rows: list, select: list | None = None, original_uf: bool = False) -> list[dict]:
        """``item_row`` of each row, the select and the names resolved once for the page."""
        names = self.item_select(select, original_uf)
        plan = []
        for n in names:
            f = self.fields.get(n)
            plan.append((self.item_name(n, original_uf), n, None if f is None else f.type,
                         f is not None and f.multiple, f is not None and f.type in ("date", "boolean")))
        add_type = "ENTITY_TYPE_ID" not in names and self.etid not in (DEAL, COMPANY, CONTACT)
        out = []
        for row in rows:
            item = {}
            for out_name, n, ftype, multiple, special in plan:
                if ftype is None:
                    item[out_name] = row.get(n)
                    continue
                v = row.get(n, [] if multiple else None)
                # item_value changes only lists and date/boolean values
                item[out_name] = item_value(ftype, v) if v is not None and (special or isinstance(v, list)) else v
            if add_type:
                item["entityTypeId"] = self.etid
            out.append(item)
        return out

    def item_select(self, select, original_uf: bool = False) -> list[str]:
        every = [n for n, f in self.fields.items() if f.item and f.type != "crm_multifield"]
        if not select or select == ["*"] or "*" in (select or []):
            return every
        out = []
        for s in select:
            n = self.upper(str(s), original_uf) or (str(s) if str(s) in self.fields else None)
            if n and n not in out:
                out.append(n)
        if "ID" not in out:
            out.insert(0, "ID")
        return out

    # --- *.fields -----------------------------------------------------------------------------------
    def describe(self, f: Field) -> dict:
        d = {"type": f.type, "isRequired": f.required, "isReadOnly": f.ro, "isImmutable": f.immutable,
             "isMultiple": f.multiple, "isDynamic": f.uf is not None, "title": f.title}
        if f.uf is not None:
            uf = f.uf
            d.update(listLabel=uf["LIST_COLUMN_LABEL"].get("ru", f.name),
                     formLabel=uf["EDIT_FORM_LABEL"].get("ru", f.name),
                     filterLabel=uf["LIST_FILTER_LABEL"].get("ru", f.name), settings=uf["SETTINGS"])
            if uf["USER_TYPE_ID"] == "enumeration":
                d["items"] = [{"ID": str(e["ID"]), "VALUE": e["VALUE"]} for e in uf["LIST"]]
        if f.type == "crm_status" and f.name in ("STAGE_ID", "TYPE_ID", "SOURCE_ID", "COMPANY_TYPE", "STATUS_ID",
                                                 "HONORIFIC"):
            d["statusType"] = {"STAGE_ID": "DEAL_STAGE", "TYPE_ID": "DEAL_TYPE", "SOURCE_ID": "SOURCE",
                               "COMPANY_TYPE": "COMPANY_TYPE", "STATUS_ID": "STATUS",
                               "HONORIFIC": "HONORIFIC"}[f.name]
        return d

    def legacy_fields(self) -> dict:
        return {n: self.describe(f) for n, f in self.fields.items() if f.legacy}

    def item_fields(self, original_uf: bool = False) -> dict:
        out = {}
        for n, f in self.fields.items():
            if f.item:
                d = self.describe(f)
                d["upperName"] = n
                out[self.item_name(n, original_uf)] = d
        return out


def type_label(etid: int) -> str:
    return TYPE_NAMES.get(etid, f"DYNAMIC_{etid}")
