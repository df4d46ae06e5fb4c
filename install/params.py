"""REST parameters built from manifest entries — the exact shapes the portal's add methods take.

Pure functions: no portal, no store. The planner calls them once the ids they depend on are known
(a smart process's field name carries its crm.type ``id``; its stage ids carry ``entityTypeId`` and the
category id). Shapes follow reference §3.1 (placement.bind), §4.1 (bizproc.robot.add), §5.2–5.6.
"""
from __future__ import annotations

import hashlib
import json
import re

from .manifest import CRM_ENTITY_TYPE_IDS, DEAL_UF_PREFIX

# Robot DOCUMENT_TYPE per owner (reference §4.1); smart processes use the Dynamic document class.
DOCUMENT_TYPES = {
    "deal": ["crm", "CCrmDocumentDeal", "DEAL"],
    "lead": ["crm", "CCrmDocumentLead", "LEAD"],
    "company": ["crm", "CCrmDocumentCompany", "COMPANY"],
    "contact": ["crm", "CCrmDocumentContact", "CONTACT"],
}
DYNAMIC_DOCUMENT = "Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic"
SEMANTICS_CODE = {"process": "", "success": "S", "failure": "F"}


def yn(value: bool) -> str:
    return "Y" if value else "N"


def is_yes(value) -> bool:
    """The portal answers booleans as 'Y'/'N', true/false or 1/0 depending on the method."""
    return value in (True, 1) or str(value).strip().lower() in ("y", "1", "true")


def text(lang_map: dict, lang: str) -> str:
    return lang_map.get(lang) or lang_map.get("en") or lang_map["ru"]


# --- names ------------------------------------------------------------------------------------------
def sp_field_name(type_id: int, key: str) -> str:
    """``UF_CRM_<crm.type id>_<KEY>`` — entityId is ``CRM_<id>``, not the entityTypeId (reference §5.5)."""
    return f"UF_CRM_{int(type_id)}_{key.upper()}"


def entity_field_name(key: str) -> str:
    """Deal/company fields: ``UF_CRM_B24APP_<KEY>``; the prefix keeps ours apart from the admin's."""
    return f"{DEAL_UF_PREFIX}{key.upper()}"


def uf_camel(name: str) -> str:
    """UF name → crm.item camelCase (src crm/lib/Service/Converter.php, reference §5.4)."""
    if re.fullmatch(r"[A-Z_]+", name) or re.fullmatch(r"UF_CRM_\d{1,4}_[A-Z_]+", name):
        head, *rest = name.lower().split("_")
        return head + "".join(p.capitalize() for p in rest)
    m = re.fullmatch(r"UF_CRM_(\d{1,4})_([\d_]+)", name)
    if m:
        return f"ufCrm{m.group(1)}_{m.group(2)}"
    if name.startswith("UF_CRM_"):
        return "ufCrm_" + name[len("UF_CRM_"):]
    return name


def stage_entity_id(entity_type_id: int, category_id: int) -> str:
    """``ENTITY_ID`` of a pipeline's stage list for crm.status.* (reference §5.3)."""
    if int(entity_type_id) == CRM_ENTITY_TYPE_IDS["deal"]:
        return "DEAL_STAGE" if int(category_id) == 0 else f"DEAL_STAGE_{int(category_id)}"
    return f"DYNAMIC_{int(entity_type_id)}_STAGE_{int(category_id)}"


def stage_prefix(entity_type_id: int, category_id: int, rows: list[dict]) -> str:
    """STATUS_ID prefix, read from the stages the portal made; the documented format is the fallback."""
    for r in rows:
        sid = str(r.get("STATUS_ID") or "")
        if ":" in sid:
            return sid.rsplit(":", 1)[0] + ":"
    if int(entity_type_id) == CRM_ENTITY_TYPE_IDS["deal"]:
        return "" if int(category_id) == 0 else f"C{int(category_id)}:"
    return f"DT{int(entity_type_id)}_{int(category_id)}:"


# --- smart processes, pipelines, stages --------------------------------------------------------------
def type_add(sp: dict, lang: str, owners: dict[str, int]) -> dict:
    fields = {"title": text(sp["title"], lang), "code": sp["code"]}
    for feature, on in sp.get("features", {}).items():
        fields[feature] = yn(on)
    if sp["stages"]:
        fields.setdefault("isStagesEnabled", "Y")
    relations = {}
    for side, targets in sp.get("relations", {}).items():
        relations[side] = [{"entityTypeId": owners[t], "isChildrenListEnabled": "true"} for t in targets]
    if relations:
        fields["relations"] = relations
    return {"fields": fields}


def category_add(entity_type_id: int, pipeline: dict, lang: str) -> dict:
    return {"entityTypeId": int(entity_type_id),
            "fields": {"name": text(pipeline["name"], lang), "sort": int(pipeline.get("sort", 500))}}


def status_fields(stage: dict, sort: int, lang: str) -> dict:
    out = {"NAME": text(stage["name"], lang), "SORT": sort}
    if stage.get("color"):
        out["COLOR"] = stage["color"]
    return out


def status_add(entity_id: str, prefix: str, stage: dict, sort: int, lang: str) -> dict:
    fields = {"ENTITY_ID": entity_id, "STATUS_ID": prefix + stage["code"], **status_fields(stage, sort, lang)}
    if stage["semantics"] != "process":
        fields["SEMANTICS"] = SEMANTICS_CODE[stage["semantics"]]
    return {"fields": fields}


# --- user fields -------------------------------------------------------------------------------------
def _enum_items(field: dict, lang: str, legacy: bool) -> list[dict]:
    out = []
    for i, item in enumerate(field.get("enum", [])):
        if legacy:
            out.append({"VALUE": text(item["value"], lang), "XML_ID": item["xml_id"], "SORT": (i + 1) * 10,
                        "DEF": yn(i == 0)})
        else:
            out.append({"value": text(item["value"], lang), "xmlId": item["xml_id"], "sort": (i + 1) * 10,
                        "def": yn(i == 0)})
    return out


def userfieldconfig_add(entity_id: str, field_name: str, field: dict, lang: str) -> dict:
    """userfieldconfig.add for a smart process (reference §5.5): labels in every language we have."""
    label = dict(field["label"])
    f = {"entityId": entity_id, "fieldName": field_name, "userTypeId": field["type"],
         "multiple": yn(field.get("multiple", False)), "mandatory": yn(field.get("mandatory", False)),
         "showFilter": yn(field.get("filterable", False)), "isSearchable": "N",
         "editFormLabel": label, "listColumnLabel": label, "listFilterLabel": label,
         "settings": dict(field.get("settings", {}))}
    if field["type"] == "enumeration":
        f["enum"] = _enum_items(field, lang, legacy=False)
    return {"moduleId": "crm", "field": f}


def userfieldconfig_label_update(field_id: int, field: dict) -> dict:
    """userfieldconfig.update of a smart process field's labels only (an upgrade renamed it)."""
    label = dict(field["label"])
    return {"moduleId": "crm", "id": int(field_id),
            "field": {"editFormLabel": label, "listColumnLabel": label, "listFilterLabel": label}}


def entity_userfield_label_update(field_id: int, field: dict) -> dict:
    """crm.<entity>.userfield.update of the labels only."""
    label = dict(field["label"])
    return {"id": int(field_id), "fields": {"EDIT_FORM_LABEL": label, "LIST_COLUMN_LABEL": label,
                                            "LIST_FILTER_LABEL": label}}


def entity_userfield_add(field: dict, lang: str) -> dict:
    """crm.deal.userfield.add / crm.company.userfield.add: FIELD_NAME without UF_CRM_ (reference §5.6)."""
    label = dict(field["label"])
    f = {"FIELD_NAME": entity_field_name(field["key"])[len("UF_CRM_"):], "USER_TYPE_ID": field["type"],
         "MULTIPLE": yn(field.get("multiple", False)), "MANDATORY": yn(field.get("mandatory", False)),
         "SHOW_FILTER": yn(field.get("filterable", False)), "EDIT_FORM_LABEL": label,
         "LIST_COLUMN_LABEL": label, "LIST_FILTER_LABEL": label, "SETTINGS": dict(field.get("settings", {})),
         "XML_ID": "b24app_" + field["key"]}
    if field["type"] == "enumeration":
        f["LIST"] = _enum_items(field, lang, legacy=True)
    return {"fields": f}


# --- placements, events, robots ----------------------------------------------------------------------
def url(public_url: str, path: str) -> str:
    return public_url.rstrip("/") + path


def placement_bind(code: str, handler: str, pl: dict, lang: str) -> dict:
    desc = pl.get("description", {})
    lang_all = {lg: {"TITLE": pl["title"][lg], "DESCRIPTION": desc.get(lg, "")} for lg in pl["title"]}
    params = {"PLACEMENT": code, "HANDLER": handler, "TITLE": text(pl["title"], lang),
              "DESCRIPTION": text(desc, lang) if desc else "", "LANG_ALL": lang_all}
    if pl.get("options"):
        params["OPTIONS"] = pl["options"]
    return params


def _robot_props(props: dict) -> dict:
    out = {}
    for key, p in props.items():
        q = {"Name": dict(p["name"]), "Type": p["type"], "Required": yn(p.get("required", False)),
             "Multiple": yn(p.get("multiple", False))}
        if "description" in p:
            q["Description"] = dict(p["description"])
        if "default" in p:
            q["Default"] = p["default"]
        if "options" in p:
            q["Options"] = dict(p["options"])
        out[key] = q
    return out


def document_type(owner: str, sp_entity_type_ids: dict[str, int]) -> list[str]:
    if owner in DOCUMENT_TYPES:
        return list(DOCUMENT_TYPES[owner])
    return ["crm", DYNAMIC_DOCUMENT, f"DYNAMIC_{int(sp_entity_type_ids[owner])}"]


def robot_add(robot: dict, handler: str, auth_user_id: int | None, doc_type: list[str] | None) -> dict:
    params = {"CODE": robot["code"], "HANDLER": handler, "NAME": dict(robot["name"]),
              "USE_SUBSCRIPTION": yn(robot.get("use_subscription", True)),
              "PROPERTIES": _robot_props(robot["properties"]),
              "RETURN_PROPERTIES": _robot_props(robot["return_properties"])}
    if "description" in robot:
        params["DESCRIPTION"] = dict(robot["description"])
    if auth_user_id:
        params["AUTH_USER_ID"] = int(auth_user_id)
    if doc_type:
        params["DOCUMENT_TYPE"] = doc_type
    return params


def fingerprint(params: dict) -> str:
    """A stable hash of what we would send, so a re-install updates only what changed."""
    return hashlib.sha1(json.dumps(params, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]
