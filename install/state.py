"""What the portal already has, read through the PortalClient in a few batches.

The installer never trusts its own memory alone: a retry after a fault, a hand-made smart process or an
admin's edit are all visible only in the portal. ``PortalState`` is plain data so the planner stays pure
(tests build it by hand); ``read_state(client, manifest)`` fills it from crm.type.list,
crm.category.list, crm.status.list, userfieldconfig.list / crm.<entity>.userfield.list,
placement.get, event.get and bizproc.robot.list.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from b24app.errors import B24Error

from .manifest import CRM_ENTITY_TYPE_IDS, Manifest
from .params import stage_entity_id

DEAL = CRM_ENTITY_TYPE_IDS["deal"]


@dataclass
class PortalState:
    types: list[dict] = field(default_factory=list)                    # crm.type.list rows
    categories: dict[int, list[dict]] = field(default_factory=dict)     # entityTypeId -> crm.category.list rows
    stages: dict[str, list[dict]] = field(default_factory=dict)         # ENTITY_ID -> crm.status.list rows
    # UF entityId -> {id, fieldName, userTypeId, labels}
    userfields: dict[str, list[dict]] = field(default_factory=dict)
    placements: list[dict] = field(default_factory=list)                # placement.get rows
    events: list[dict] = field(default_factory=list)                    # event.get rows (offline: 1 = queued)
    robots: list[str] = field(default_factory=list)                     # bizproc.robot.list codes


def _labels(row: dict) -> list[str]:
    out = []
    for key in ("editFormLabel", "EDIT_FORM_LABEL", "listColumnLabel", "LIST_COLUMN_LABEL"):
        v = row.get(key)
        if isinstance(v, dict):
            out += [str(x) for x in v.values() if x]
        elif v:
            out.append(str(v))
    return out


def normalize_userfield(row: dict) -> dict:
    """userfieldconfig rows are camelCase, crm.deal.userfield rows UPPER_CASE; the planner needs one shape."""
    return {"id": row.get("id", row.get("ID")),
            "fieldName": row.get("fieldName") or row.get("FIELD_NAME"),
            "userTypeId": row.get("userTypeId") or row.get("USER_TYPE_ID"),
            "labels": _labels(row),
            "enum": {str(e.get("xmlId") or e.get("XML_ID") or ""): int(e.get("id") or e.get("ID"))
                     for e in (row.get("enum") or row.get("LIST") or []) if (e.get("id") or e.get("ID"))}}


def _robot_codes(result) -> list[str]:
    """bizproc.robot.list answers a list of codes; tolerate {code: …} maps and row dicts too."""
    if isinstance(result, dict):
        result = list(result.values()) if all(isinstance(v, (str, dict)) for v in result.values()) else []
    out = []
    for r in result or []:
        out.append(str(r.get("CODE") or r.get("code")) if isinstance(r, dict) else str(r))
    return out


def _batch(client, cmds: dict) -> dict:
    """Run read commands in batches of 50; a failed read is an error, never an empty list (that would
    make the planner create duplicates)."""
    out: dict = {}
    items = list(cmds.items())
    for start in range(0, len(items), 50):
        chunk = dict(items[start:start + 50])
        res = client.batch(chunk, halt=False)
        if res.errors:
            key, err = next(iter(res.errors.items()))
            raise B24Error(err.code, f"reading the portal failed at {chunk[key][0]}: {err.description}",
                           err.status)
        out.update(res.result)
    return out


def _types_list(result) -> list[dict]:
    return (result or {}).get("types", []) if isinstance(result, dict) else list(result or [])


def _categories(result) -> list[dict]:
    return (result or {}).get("categories", []) if isinstance(result, dict) else list(result or [])


def _fields(result) -> list[dict]:
    if isinstance(result, dict):
        result = result.get("fields", [])
    return [normalize_userfield(r) for r in result or []]


def read_state(client, manifest: Manifest) -> PortalState:
    """Three batches: lists of everything → categories of each smart process → stages and SP fields.

    Lists here are short (a handful of types, pipelines and fields), so one page each is enough; the
    calls still pass ``start`` so a page boundary would show up as a total mismatch in tests.
    """
    st = PortalState()
    first = {
        "types": ("crm.type.list", {"start": 0}),
        "deal_categories": ("crm.category.list", {"entityTypeId": DEAL}),
        "placements": ("placement.get", {}),
        "events": ("event.get", {}),
        "robots": ("bizproc.robot.list", {}),
    }
    for entity in manifest.fields:
        first[f"uf_{entity}"] = (f"crm.{entity}.userfield.list", {"order": {"ID": "ASC"}})
    r = _batch(client, first)
    st.types = _types_list(r.get("types"))
    st.categories[DEAL] = _categories(r.get("deal_categories"))
    st.placements = list(r.get("placements") or [])
    st.events = list(r.get("events") or [])
    st.robots = _robot_codes(r.get("robots"))
    for entity in manifest.fields:
        st.userfields[f"CRM_{entity.upper()}"] = _fields(r.get(f"uf_{entity}"))

    second = {f"cat_{t['entityTypeId']}": ("crm.category.list", {"entityTypeId": int(t["entityTypeId"])})
              for t in st.types}
    for key, result in _batch(client, second).items():
        st.categories[int(key[4:])] = _categories(result)

    third = {}
    for etid, cats in st.categories.items():
        for c in cats:
            eid = stage_entity_id(etid, int(c["id"]))
            third[f"st_{eid}"] = ("crm.status.list", {"filter": {"ENTITY_ID": eid}, "order": {"SORT": "ASC"}})
    for t in st.types:
        third[f"uf_CRM_{t['id']}"] = ("userfieldconfig.list",
                                      {"moduleId": "crm", "filter": {"entityId": f"CRM_{t['id']}"}})
    for key, result in _batch(client, third).items():
        if key.startswith("st_"):
            st.stages[key[3:]] = list(result or [])
        else:
            st.userfields[key[3:]] = _fields(result)
    return st
