"""Writing a booking (who does a job, and when) into Bitrix24 without leaving stale copies behind.

A booking lives in three places: the deal's worker and job time fields, a calendar event in the worker's
calendar bound to the deal (``crm_fields D_<id>``) and a task bound to the deal. A reassignment or a new
date must *move* the last two, not add more: an event left in the old worker's calendar would keep them
busy at that time (free windows read ``calendar.accessibility.get``), and a second task would send two
workers to the same client. So the current event and task are looked up first (one batch: the events of
the old and the new worker on the old date, the deal's open tasks), then one batch writes the deal, moves
or replaces the event (a user calendar event cannot change owner: delete + add) and re-targets the task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

TASK_DONE = ("5", "7")         # completed, deferred: history, not the booking


@dataclass
class Bindings:
    """What the portal holds for the deal now: calendar events (any owner we looked at) and open tasks."""

    events: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)


def _bound(e: dict, deal_id: int) -> bool:
    crm = e.get("UF_CRM_CAL_EVENT") or []
    return f"D_{deal_id}" in (list(crm.values()) if isinstance(crm, dict) else crm if isinstance(crm, list) else [])


def find_bindings(client, deal_id: int, owners: list[int], day: datetime | None) -> Bindings:
    """Events bound to the deal in the owners' calendars on ``day`` and the deal's open tasks."""
    cmds: dict = {"tasks": ("tasks.task.list", {"filter": {"UF_CRM_TASK": f"D_{deal_id}"},
                                                "select": ["ID", "RESPONSIBLE_ID", "STATUS"]})}
    if day is not None:
        for o in sorted(set(owners)):
            cmds[f"ev_{o}"] = ("calendar.event.get", {"type": "user", "ownerId": int(o),
                                                      "from": day.date().isoformat(), "to": day.date().isoformat()})
    res = client.batch(cmds, halt=False)
    out = Bindings()
    for key, value in (res.result or {}).items():
        if key.startswith("ev_"):
            out.events.extend(dict(e, OWNER_ID=int(key[3:])) for e in value or [] if _bound(e, deal_id))
    tasks = (res.result or {}).get("tasks") or {}
    out.tasks = [t for t in (tasks.get("tasks") if isinstance(tasks, dict) else tasks) or []
                 if str(t.get("status") or t.get("STATUS") or "") not in TASK_DONE]
    return out


def commands(deal_id: int, fields: dict, worker_id: int, start: datetime, end: datetime, *, title: str,
             description: str, location: str, by_user: int | None, found: Bindings) -> dict:
    """The write batch: deal fields, then the event (updated in place for the same worker, else the old
    ones deleted and one added to the new worker's calendar), then the task (re-targeted, else added)."""
    cmds: dict = {"deal": ("crm.deal.update", {"id": deal_id, "fields": fields})}
    event = {"name": title, "description": description, "from": start.isoformat(), "to": end.isoformat(),
             "location": location, "accessibility": "busy", "crm_fields": [f"D_{deal_id}"]}
    same = [e for e in found.events if int(e["OWNER_ID"]) == int(worker_id)]
    for e in found.events:
        if same and e is same[0]:
            continue
        cmds[f"del_{e['ID']}"] = ("calendar.event.delete", {"type": "user", "ownerId": int(e["OWNER_ID"]),
                                                            "id": int(e["ID"])})
    if same:
        cmds["event"] = ("calendar.event.update", {"id": int(same[0]["ID"]), "type": "user",
                                                   "ownerId": int(worker_id), **event})
    else:
        cmds["sec"] = ("calendar.section.get", {"type": "user", "ownerId": int(worker_id)})
        cmds["event"] = ("calendar.event.add", {"type": "user", "ownerId": int(worker_id),
                                                "section": "$result[sec][0][ID]", **event})
    task = {"TITLE": title, "DESCRIPTION": description, "RESPONSIBLE_ID": int(worker_id),
            "START_DATE_PLAN": start.isoformat(), "END_DATE_PLAN": end.isoformat(), "DEADLINE": end.isoformat()}
    if found.tasks:
        tid = found.tasks[0].get("id") or found.tasks[0].get("ID")
        cmds["task"] = ("tasks.task.update", {"taskId": int(tid), "fields": task})
    else:
        cmds["task"] = ("tasks.task.add", {"fields": {
            **task, "CREATED_BY": int(by_user) if by_user else int(worker_id), "UF_CRM_TASK": [f"D_{deal_id}"]}})
    return cmds
