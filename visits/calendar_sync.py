"""A planned visit appears in its manager's Bitrix24 calendar, and follows the visit: the date moves →
the event moves, its title or purpose changes → the event's name and description follow, the manager
changes → the event moves to the new manager's calendar, the visit is deleted (or did not happen) → the
event is removed. The link visit → event id lives in our table (visits_calendar): a calendar event has no
field pointing back at a smart-process item we could filter by.

Two paths share one decision (``plan``): ``sync_item`` right after our own creations (the event exists
before the response), and ``drain`` for changes the portal reports — ONCRMDYNAMICITEM* handlers only mark
the visit (visits/events.py, no API call), and the periodic ``visits.calendar`` job reads the marked
visits 2,500 per HTTP call and writes the calendar in batches — a sweep that moves 5,000 visits costs
the calendar a handful of calls, not 5,000 ``crm.item.get``.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from b24app.errors import B24Error
from install.registry import NotInstalled, installed_ids

from . import rules
from .ledger import VisitsLedger

log = logging.getLogger("b24app.visits.calendar")
DURATION = timedelta(hours=1)
NO_EVENT_STAGES = ("failed",)       # a visit that did not happen frees the manager's time
KV_CALENDAR_SECONDS = "visits.calendar_seconds"
READ_PER_COMMAND = 50


def crm_code(entity_type_id: int, item_id: int) -> str:
    """The CRM binding of a smart-process item in UF_CRM_CAL_EVENT: ``T<hex entityTypeId>_<id>``."""
    return f"T{entity_type_id:x}_{item_id}"


def content_of(name: str, description: str) -> str:
    """What the event says, as a short hash: a changed title or purpose of the visit updates the event."""
    return hashlib.sha256(f"{name}\n{description}".encode()).hexdigest()[:32]


def plan(v, zone, item: dict | None, link: dict | None) -> dict:
    """What the calendar needs for one visit: {op: none|unchanged|add|update|delete|replace, ...}."""
    wanted = None
    if item is not None:
        when = rules.parse_dt(item.get(v.field("visit_date")), zone)
        owner = int(item.get("assignedById") or 0)
        if when is not None and owner and v.stage_key(item.get("stageId")) not in NO_EVENT_STAGES:
            wanted = {"owner": owner, "from": when.isoformat(timespec="seconds"),
                      "to": (when + DURATION).isoformat(timespec="seconds"),
                      "name": str(item.get("title") or f"Visit {item['id']}"),
                      "description": str(item.get(v.field("purpose")) or "")}
            wanted["content"] = content_of(wanted["name"], wanted["description"])
    if wanted is None:
        return {"op": "delete", "event_id": link["event_id"]} if link else {"op": "none"}
    if link is None:
        return {"op": "add", **wanted}
    if int(link.get("owner_id") or 0) != wanted["owner"]:
        return {"op": "replace", "event_id": link["event_id"], **wanted}
    if link.get("date_from") == wanted["from"] and link.get("content") == wanted["content"]:
        return {"op": "unchanged"}
    return {"op": "update", "event_id": link["event_id"], **wanted}


def _add_params(v, item_id: int, p: dict, section) -> dict:
    return {"type": "user", "ownerId": p["owner"], "section": section, "name": p["name"],
            "description": p["description"], "from": p["from"], "to": p["to"], "accessibility": "busy",
            "crm_fields": [crm_code(v.entity_type_id, item_id)]}


def _update_params(p: dict) -> dict:
    return {"id": p["event_id"], "type": "user", "ownerId": p["owner"], "from": p["from"], "to": p["to"],
            "name": p["name"], "description": p["description"]}


def sync_item(services, member_id: str, v, item: dict | None, item_id: int) -> str:
    """One visit, now (after our own creation): one batch call at most. Returns the op done."""
    client = services.client(member_id)
    ledger = VisitsLedger(services.store.engine, member_id)
    zone = rules.settings_of(services.store.kv, member_id).zone
    p = plan(v, zone, item, ledger.event_of(item_id))
    op = p["op"]
    if op in ("none", "unchanged"):
        return op
    cmds = {}
    if op in ("delete", "replace"):
        cmds["del"] = ("calendar.event.delete", {"id": int(p["event_id"])})
    if op == "update":
        cmds["upd"] = ("calendar.event.update", _update_params(p))
    if op in ("add", "replace"):
        cmds["sec"] = ("calendar.section.get", {"type": "user", "ownerId": p["owner"]})
        cmds["add"] = ("calendar.event.add", _add_params(v, item_id, p, "$result[sec][0][ID]"))
    res = client.batch(cmds)         # a delete of an event gone from the calendar must not stop the add
    for key in ("sec", "add", "upd"):
        if key in res.errors:
            raise res.errors[key]
    if op == "delete":
        ledger.unlink_event(item_id)
    elif op == "update":
        ledger.link_event(item_id, p["event_id"], p["owner"], p["from"], p["content"])
    else:
        ledger.link_event(item_id, int(res.result["add"]), p["owner"], p["from"], p["content"])
    return op


def _read(client, etid: int, ids: list[int], select: list[str]) -> dict[int, dict]:
    calls = [("crm.item.list", {"entityTypeId": etid, "filter": {"@id": ids[i:i + READ_PER_COMMAND]},
                                "select": select, "start": -1}) for i in range(0, len(ids), READ_PER_COMMAND)]
    out = {}
    for res in client.batch_many(calls):
        if not res.ok:
            raise res.error
        rows = res.result.get("items", []) if isinstance(res.result, dict) else res.result
        out.update({int(r["id"]): r for r in rows})
    return out


def drain(services, member_id: str, limit: int = 2500) -> dict:
    """Bring the calendar in step with every visit marked by events: reads ⌈n/2500⌉ calls, section look-ups
    one batch, writes ⌈n/50⌉ calls. Returns counts per op."""
    v = installed_ids(services.store, member_id).smart_process("visit")
    ledger = VisitsLedger(services.store.engine, member_id)
    zone = rules.settings_of(services.store.kv, member_id).zone
    client = services.client(member_id)
    counts: dict[str, int] = {}
    while True:
        rows = ledger.dirty(limit)
        if not rows:
            return counts
        ids = [int(r["item_id"]) for r in rows]
        live_ids = [int(r["item_id"]) for r in rows if not r["deleted"]]
        select = ["id", "title", "stageId", "assignedById", v.field("visit_date"), v.field("purpose")]
        items = _read(client, v.entity_type_id, live_ids, select) if live_ids else {}
        links = ledger.links(ids)
        plans = {i: plan(v, zone, items.get(i), links.get(i)) for i in ids}
        owners = sorted({p["owner"] for p in plans.values() if p["op"] in ("add", "replace")})
        sections = {}
        for owner, res in zip(owners, client.batch_many(
                [("calendar.section.get", {"type": "user", "ownerId": o}) for o in owners])):
            if not res.ok:
                raise res.error
            sections[owner] = res.result[0]["ID"]
        calls, index = [], []
        for i, p in plans.items():
            counts[p["op"]] = counts.get(p["op"], 0) + 1
            if p["op"] in ("delete", "replace"):
                calls.append(("calendar.event.delete", {"id": int(p["event_id"])}))
                index.append((i, "del"))
            if p["op"] == "update":
                calls.append(("calendar.event.update", _update_params(p)))
                index.append((i, "upd"))
            if p["op"] in ("add", "replace"):
                calls.append(("calendar.event.add", _add_params(v, i, p, sections[p["owner"]])))
                index.append((i, "add"))
        results = client.batch_many(calls) if calls else []
        failed = set()
        for (i, kind), res in zip(index, results):
            p = plans[i]
            if kind == "del":
                if p["op"] == "delete":
                    ledger.unlink_event(i)          # gone in the calendar already is fine too
            elif not res.ok:
                failed.add(i)
                log.warning("visit %s: calendar %s failed: %s", i, kind, res.error)
            elif kind == "upd":
                ledger.link_event(i, p["event_id"], p["owner"], p["from"], p["content"])
            else:
                ledger.link_event(i, int(res.result), p["owner"], p["from"], p["content"])
        ledger.clear_dirty([r for r in rows if int(r["item_id"]) not in failed])
        if failed or len(rows) < limit:
            return counts


def run(services, member_id: str) -> None:
    try:
        drain(services, member_id)
    except NotInstalled:
        log.debug("portal %s has no Visit smart process; calendar drain skipped", member_id)
    except B24Error as exc:
        log.warning("calendar drain for %s stopped: %s", member_id, exc)
